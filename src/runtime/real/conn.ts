/**
 * Framed TCP connections with bounded memory, for both directions of the real runtime's links.
 *
 * `FramedSocket` wraps an established `net.Socket`: Nagle off, a frame decoder on input (a framing
 * error destroys this socket only), and backpressure on output: once `write()` returns false the
 * socket is congested, later frames wait in a queue bounded in bytes until `'drain'`, and frames
 * that do not fit are dropped and counted. A node never blocks on a slow or dead peer.
 *
 * `OutLink` is an outgoing connection that dials on demand, says hello, and redials with
 * exponential backoff when the peer is down. While it dials, frames queue (bounded); when a dial
 * fails or the connection breaks, what was queued is dropped (the protocols retransmit, as they
 * must over a network that drops), and during the backoff frames are dropped at once.
 */
import * as net from 'node:net';
import { FrameDecoder, FrameError } from './frame.ts';
import { type ClusterAuth, signHello } from './auth.ts';
import { encodeEnvelope, type Hello } from './wire.ts';

export interface ConnLimits {
  /** Hard limit on one frame's payload, both ways. */
  readonly maxFrameBytes: number;
  /** Bytes a congested or dialling connection may queue before it drops frames. */
  readonly queueBytesMax: number;
  /**
   * Largest answer to a `state` request (a node's whole state, for a real run's checks); only
   * clients that ask for states accept frames this large. Default 256 MiB.
   */
  readonly stateMaxBytes?: number;
}

export const STATE_MAX_BYTES_DEFAULT = 256 * 1024 * 1024;
export const DEFAULT_LIMITS: ConnLimits = { maxFrameBytes: 4 * 1024 * 1024, queueBytesMax: 16 * 1024 * 1024 };

export interface Addr {
  readonly host: string;
  readonly port: number;
}

export interface FramedHandlers {
  /** One complete frame payload. Throwing `FrameError` closes this connection. */
  frame(payload: Buffer): void;
  close(reason: string): void;
}

export class FramedSocket {
  private readonly decoder: FrameDecoder;
  private queue: Buffer[] = [];
  private queueBytes = 0;
  private congested = false;
  private corked = false;
  private closedReason: string | null = null;
  readonly counters = { framesIn: 0, framesOut: 0, dropped: 0 };

  constructor(
    readonly socket: net.Socket,
    private readonly limits: ConnLimits,
    private readonly handlers: FramedHandlers,
  ) {
    this.decoder = new FrameDecoder(limits.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.flush());
    socket.on('error', (e: NodeJS.ErrnoException) => this.destroy(`socket error ${e.code ?? e.message}`));
    socket.on('close', () => {
      const why = this.closedReason ?? 'closed by peer';
      this.closedReason = why;
      this.queue = [];
      this.queueBytes = 0;
      this.handlers.close(why);
    });
  }

  get closed(): boolean {
    return this.closedReason !== null || this.socket.destroyed;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      return this.destroy(`bad frame: ${(e as Error).message}`);
    }
    for (const f of frames) {
      if (this.closed) return;
      this.counters.framesIn++;
      try {
        this.handlers.frame(f);
      } catch (e) {
        if (e instanceof FrameError) return this.destroy(`bad frame: ${e.message}`);
        throw e;
      }
    }
  }

  /** Queues or writes one encoded frame; false when it was dropped (closed, or queue full). */
  write(frame: Buffer): boolean {
    if (this.closed) {
      this.counters.dropped++;
      return false;
    }
    if (this.congested) {
      if (this.queueBytes + frame.length > this.limits.queueBytesMax) {
        this.counters.dropped++;
        return false;
      }
      this.queue.push(frame);
      this.queueBytes += frame.length;
      return true;
    }
    this.counters.framesOut++;
    this.corkForTick();
    if (!this.socket.write(frame)) this.congested = true;
    return true;
  }

  /**
   * Frames written in one tick of the event loop (a step's sends, the steps of one read's frames)
   * leave in one writev: the socket is corked at the first and uncorked once the tick's
   * synchronous work is done. Nagle stays off, so nothing waits beyond the tick.
   */
  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private flush(): void {
    this.congested = false;
    while (this.queue.length > 0 && !this.closed) {
      const f = this.queue.shift()!;
      this.queueBytes -= f.length;
      this.counters.framesOut++;
      if (!this.socket.write(f)) {
        this.congested = true;
        return;
      }
    }
  }

  /** Closes the connection at once (unsent frames are discarded). */
  destroy(reason: string): void {
    if (this.closedReason === null) this.closedReason = reason;
    this.socket.destroy();
  }

  /** Closes after the queued frames are written. */
  end(): void {
    if (this.closedReason === null) this.closedReason = 'closed locally';
    this.socket.end();
  }
}

export interface OutLinkOptions {
  readonly hello: Hello;
  /** The cluster secret: every dial signs the hello afresh (auth.ts). */
  readonly auth?: ClusterAuth | null;
  /** Where the peer listens; null when unknown (frames are dropped). */
  readonly address: () => Addr | null;
  readonly limits: ConnLimits;
  /** Frames the peer sends back (client links only). Throw FrameError to close the link. */
  readonly onFrame?: (payload: Buffer) => void;
  readonly onOpen?: () => void;
  readonly onClose?: (reason: string) => void;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  readonly connectTimeoutMs?: number;
}

type LinkState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

export class OutLink {
  private state: LinkState = 'idle';
  private conn: FramedSocket | null = null;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private backoffMs: number;
  private timer: NodeJS.Timeout | null = null;
  readonly counters = { dials: 0, failures: 0, dropped: 0 };

  constructor(private readonly o: OutLinkOptions) {
    this.backoffMs = o.backoffMinMs ?? 20;
  }

  get status(): LinkState {
    return this.state;
  }

  /** Sends one encoded frame if it can; never blocks. Returns false when the frame was dropped. */
  send(frame: Buffer): boolean {
    switch (this.state) {
      case 'open':
        if (this.conn!.write(frame)) return true;
        this.counters.dropped++;
        return false;
      case 'idle':
        this.dial();
        return this.send(frame);
      case 'connecting':
        if (this.earlyBytes + frame.length > this.o.limits.queueBytesMax) {
          this.counters.dropped++;
          return false;
        }
        this.early.push(frame);
        this.earlyBytes += frame.length;
        return true;
      case 'backoff':
      case 'closed':
        this.counters.dropped++;
        return false;
    }
  }

  /** Dials now if idle (to warm a link up before the first frame). */
  connect(): void {
    if (this.state === 'idle') this.dial();
  }

  private dial(): void {
    const addr = this.o.address();
    if (addr === null) {
      this.enterBackoff('no address known');
      return;
    }
    this.state = 'connecting';
    this.counters.dials++;
    const sock = net.connect({ host: addr.host, port: addr.port });
    const timeout = setTimeout(() => sock.destroy(new Error('connect timeout')), this.o.connectTimeoutMs ?? 3000);
    let opened = false;
    sock.once('connect', () => {
      clearTimeout(timeout);
      if (this.state !== 'connecting') return void sock.destroy();
      opened = true;
      this.backoffMs = this.o.backoffMinMs ?? 20;
      const conn = new FramedSocket(sock, this.o.limits, {
        frame: (p) => {
          if (!this.o.onFrame) throw new FrameError('malformed', 'this link expects no frames from the peer');
          this.o.onFrame(p);
        },
        close: (why) => {
          if (this.conn !== conn) return;
          this.conn = null;
          this.o.onClose?.(why);
          if (this.state === 'open') this.enterBackoff(why);
        },
      });
      this.conn = conn;
      this.state = 'open';
      conn.write(encodeEnvelope(signHello(this.o.hello, this.o.auth), this.o.limits.maxFrameBytes));
      const early = this.early;
      this.early = [];
      this.earlyBytes = 0;
      for (const f of early) if (!conn.write(f)) this.counters.dropped++;
      this.o.onOpen?.();
    });
    sock.once('error', () => {
      // Errors after open are handled by FramedSocket; before it, the dial failed.
      if (!opened) sock.destroy();
    });
    sock.once('close', () => {
      clearTimeout(timeout);
      if (!opened && this.state === 'connecting') {
        this.counters.failures++;
        this.enterBackoff('dial failed');
      }
    });
  }

  private enterBackoff(_why: string): void {
    if (this.state === 'closed') return;
    this.counters.dropped += this.early.length;
    this.early = [];
    this.earlyBytes = 0;
    this.state = 'backoff';
    // Jitter keeps a restarted cluster's nodes from redialling in lockstep.
    const ms = Math.round(this.backoffMs * (0.75 + Math.random() * 0.5));
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.backoffMaxMs ?? 2000);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state === 'backoff') this.state = 'idle';
    }, ms);
  }

  close(): void {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.early = [];
    this.earlyBytes = 0;
    const c = this.conn;
    this.conn = null;
    c?.destroy('link closed');
  }
}
