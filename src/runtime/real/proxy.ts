/**
 * A TCP fault proxy of our own, for real-mode fault tests: it listens on one address and forwards
 * every connection to a target, and can be switched at any time between
 * - `pass`: forward as is;
 * - `delay`: hold every chunk for `ms` before forwarding (order kept per direction), a slow link;
 * - `reset`: close every connection and refuse new ones at once, a partition peers notice;
 * - `blackhole`: keep connections open but discard what they carry, a partition peers do not
 *   notice. Discarding bytes cuts frames in half, so when the proxy leaves blackhole mode it
 *   resets every connection that lost bytes; senders then redial and resume on clean frames.
 *
 * Put one in front of a node (advertise the proxy's address, listen on another) to cut or slow
 * all traffic to that node, or one per link through a per-link address book.
 */
import * as net from 'node:net';
import type { Addr } from './conn.ts';

export type ProxyMode = { readonly kind: 'pass' } | { readonly kind: 'delay'; readonly ms: number } | { readonly kind: 'reset' } | { readonly kind: 'blackhole' };

const HELD_BYTES_MAX = 4 * 1024 * 1024;

interface Pair {
  readonly a: net.Socket;
  readonly b: net.Socket;
  lostBytes: boolean;
}

export class FaultProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<Pair>();
  private mode: ProxyMode = { kind: 'pass' };
  private addr: Addr | null = null;
  private readonly draining = new WeakSet<net.Socket>();
  readonly counters = { connections: 0, refused: 0, bytesForwarded: 0, bytesDropped: 0 };

  constructor(
    private readonly target: Addr,
    private readonly listenOn: Addr = { host: '127.0.0.1', port: 0 },
  ) {}

  async start(): Promise<Addr> {
    const server = net.createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.listenOn.host, port: this.listenOn.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.addr = { host: this.listenOn.host, port: (server.address() as net.AddressInfo).port };
    return this.addr;
  }

  get address(): Addr {
    if (!this.addr) throw new Error('proxy not started');
    return this.addr;
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  setMode(mode: ProxyMode): void {
    const prev = this.mode;
    this.mode = mode;
    if (mode.kind === 'reset') for (const p of [...this.pairs]) this.close(p);
    if (prev.kind === 'blackhole' && mode.kind !== 'blackhole') {
      for (const p of [...this.pairs]) if (p.lostBytes) this.close(p);
    }
  }

  private accept(a: net.Socket): void {
    if (this.mode.kind === 'reset') {
      this.counters.refused++;
      a.destroy();
      return;
    }
    this.counters.connections++;
    a.setNoDelay(true);
    const b = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const p: Pair = { a, b, lostBytes: false };
    this.pairs.add(p);
    this.pipe(p, a, b);
    this.pipe(p, b, a);
    const end = () => this.close(p);
    a.on('error', end).on('close', end);
    b.on('error', end).on('close', end);
  }

  private pipe(p: Pair, from: net.Socket, to: net.Socket): void {
    // Chunks held back by a delay, in arrival order, each with its release time.
    const held: { at: number; chunk: Buffer }[] = [];
    let heldBytes = 0;
    let timer: NodeJS.Timeout | null = null;
    const release = () => {
      timer = null;
      const now = performance.now();
      while (held.length > 0 && held[0]!.at <= now + 0.5) {
        const h = held.shift()!;
        heldBytes -= h.chunk.length;
        this.forward(from, to, h.chunk);
      }
      if (heldBytes < HELD_BYTES_MAX && from.isPaused() && !from.destroyed) from.resume();
      if (held.length > 0) timer = setTimeout(release, Math.max(0, held[0]!.at - performance.now()));
    };
    const hold = (chunk: Buffer, ms: number) => {
      held.push({ at: performance.now() + ms, chunk });
      heldBytes += chunk.length;
      if (heldBytes >= HELD_BYTES_MAX) from.pause(); // bounds what the proxy holds per direction
      if (timer === null) timer = setTimeout(release, Math.max(0, held[0]!.at - performance.now()));
    };
    from.on('close', () => {
      if (timer) clearTimeout(timer);
    });
    from.on('data', (chunk: Buffer) => {
      const m = this.mode;
      switch (m.kind) {
        case 'pass':
          // Chunks still held from a delay go first: a link never reorders its bytes.
          if (held.length > 0) hold(chunk, 0);
          else this.forward(from, to, chunk);
          return;
        case 'delay':
          hold(chunk, m.ms);
          return;
        case 'blackhole':
          p.lostBytes = true;
          this.counters.bytesDropped += chunk.length;
          return;
        case 'reset':
          this.close(p);
          return;
      }
    });
  }

  private forward(from: net.Socket, to: net.Socket, chunk: Buffer): void {
    if (to.destroyed) return;
    this.counters.bytesForwarded += chunk.length;
    if (!to.write(chunk) && !this.draining.has(to)) {
      this.draining.add(to);
      from.pause();
      to.once('drain', () => {
        this.draining.delete(to);
        if (!from.destroyed) from.resume();
      });
    }
  }

  private close(p: Pair): void {
    if (!this.pairs.delete(p)) return;
    p.a.destroy();
    p.b.destroy();
  }

  async stop(): Promise<void> {
    for (const p of [...this.pairs]) this.close(p);
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
