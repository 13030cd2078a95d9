/**
 * The store node backed by PostgreSQL: a process that takes the store machine's place in a real
 * cluster. It speaks the same transport as every node (framed, validated envelopes, the hello
 * handshake, the store's wire checks), receives `wf.store.req` messages from function nodes,
 * executes them on PostgreSQL (pg/store.ts), answers `wf.store.rep` over its own link to the
 * requester, and records the machine's history events (`storeApply`, `storeRead`), so the same
 * checkers judge a run whichever backend served it. It answers `status` and `state` (its rows,
 * in the machine's state shape) like a machine host.
 */
import { isInputError } from '../../../core/assert.ts';
import { type ClusterAuth, helloVerifier, type HelloVerifier } from '../auth.ts';
import * as net from 'node:net';
import type { NodeId } from '../../../core/contract.ts';
import type { HistoryEvent, NodeSpec } from '../../../core/system.ts';
import type { StoreConfig, StoreMsg } from '../../../halfmoon/store.ts';
import { wallUs } from '../clock.ts';
import { type Addr, type ConnLimits, DEFAULT_LIMITS, FramedSocket, OutLink, STATE_MAX_BYTES_DEFAULT } from '../conn.ts';
import { FrameError } from '../frame.ts';
import type { HistorySink } from '../history.ts';
import { ioBanner } from '../host.ts';
import { decodePayload, encodeEnvelope, type Hello, type NodeStatus, parseClientFrame, parseHello, parsePeerFrame, WIRE_VERSION } from '../wire.ts';
import { PgStore } from './store.ts';

export interface PgStoreNodeOptions {
  readonly cluster: string;
  readonly spec: NodeSpec;
  readonly nodes: readonly NodeSpec[];
  readonly listen: Addr;
  readonly addressOf: (id: NodeId) => Addr | null;
  readonly history: HistorySink;
  readonly limits?: ConnLimits;
  readonly log?: (line: string) => void;
  readonly postgres: { readonly connect: string; readonly table: string; readonly poolSize: number };
  /** The cluster secret (auth.ts), as for every node. */
  readonly auth?: ClusterAuth | null;
  readonly handshakeTimeoutMs?: number;
  /** How long start waits for PostgreSQL to accept connections (default 60 s). */
  readonly openTimeoutMs?: number;
}

/** Requests awaiting PostgreSQL at most; beyond it inbound sockets pause (TCP slows the senders). */
const INFLIGHT_HIGH = 10_000;

export class PgStoreNode {
  private server: net.Server | null = null;
  private store: PgStore | null = null;
  private readonly inbound = new Set<FramedSocket>();
  private readonly links = new Map<NodeId, OutLink>();
  private readonly known = new Map<NodeId, NodeSpec>();
  private readonly limits: ConnLimits;
  private phase: NodeStatus['phase'] = 'starting';
  private inflight = 0;
  private paused = false;
  private steps = 0;
  private readonly startedMs = performance.now();
  readonly counters: Record<string, number> = { msgsIn: 0, msgsOut: 0, badFrames: 0, refused: 0, storeErrors: 0 };
  addr: Addr | null = null;
  private verifier: HelloVerifier | null = null;

  constructor(private readonly o: PgStoreNodeOptions) {
    for (const n of o.nodes) this.known.set(n.id, n);
    this.limits = o.limits ?? DEFAULT_LIMITS;
  }

  async start(): Promise<void> {
    this.verifier = helloVerifier(this.o.auth, this.o.listen.host, this.o.spec.id);
    this.store = await this.openStore();
    const server = net.createServer({ noDelay: true }, (s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.o.listen.host, port: this.o.listen.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.addr = { host: this.o.listen.host, port: (server.address() as net.AddressInfo).port };
    this.phase = 'running';
    this.o.log?.(`${this.o.spec.id} (store on PostgreSQL, table ${this.o.postgres.table}) pid ${process.pid} listening on ${this.addr.host}:${this.addr.port}; ${ioBanner()}`);
  }

  /**
   * Opens the PostgreSQL backend, waiting out a server that is down or still recovering (a
   * restarted store node must not die because PostgreSQL restarts too): connection errors are
   * retried with backoff up to `openTimeoutMs`; configuration errors fail at once.
   */
  private async openStore(): Promise<PgStore> {
    const deadline = performance.now() + (this.o.openTimeoutMs ?? 60_000);
    let backoff = 100;
    for (;;) {
      try {
        return await PgStore.open({ ...this.o.postgres, config: this.o.spec.config as StoreConfig });
      } catch (e) {
        if (isInputError(e) || performance.now() + backoff > deadline) throw e;
        this.o.log?.(`${this.o.spec.id}: PostgreSQL not available yet (${(e as Error).message.split('\n')[0]}); retrying in ${backoff} ms`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  async stop(): Promise<void> {
    this.phase = 'stopped';
    for (const l of this.links.values()) l.close();
    for (const c of this.inbound) c.destroy('node stopping');
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    await this.store?.close();
  }

  private status(): NodeStatus {
    return {
      node: this.o.spec.id,
      role: this.o.spec.role,
      pid: process.pid,
      phase: this.phase,
      booted: 'start',
      steps: this.steps,
      uptimeMs: Math.round(performance.now() - this.startedMs),
      fatal: null,
      workloadDone: null,
      violations: 0,
      uv: process.versions.uv ?? '',
      ioUring: process.env.UV_USE_IO_URING ?? null,
      counters: { ...this.counters, inflight: this.inflight, ...(this.store?.counters ?? {}) },
    };
  }

  private accept(sock: net.Socket): void {
    if (this.phase !== 'running') return void sock.destroy();
    let hello: Hello | null = null;
    const conn: FramedSocket = new FramedSocket(sock, this.limits, {
      frame: (p) => {
        const v = decodePayload(p);
        if (hello === null) {
          const h = parseHello(v);
          if (h.cluster !== this.o.cluster) throw new FrameError('malformed', `hello for cluster '${h.cluster}', this is '${this.o.cluster}'`);
          if (h.to !== this.o.spec.id) throw new FrameError('malformed', `hello for node '${h.to}', this is '${this.o.spec.id}'`);
          if (h.kind === 'peer' && !this.known.has(h.from)) throw new FrameError('malformed', `hello from unknown node '${h.from}'`);
          const refused = this.verifier?.check(h) ?? null;
          if (refused !== null) {
            this.counters.refused!++;
            this.o.log?.(`${this.o.spec.id}: refused a connection from ${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'} claiming to be ${h.kind} ${h.from}: ${refused}`);
            throw new FrameError('malformed', `refused: ${refused}`);
          }
          hello = h;
          clearTimeout(hsTimer);
          return;
        }
        if (hello.kind === 'peer') return this.onMessage(hello.from, parsePeerFrame(v).msg);
        const f = parseClientFrame(v);
        if (f.t === 'status') conn.write(encodeEnvelope({ t: 'statusRep', id: f.id, status: this.status() }, this.limits.maxFrameBytes));
        else if (f.t === 'state') void this.sendState(conn, f.id);
        else throw new FrameError('malformed', 'the store serves no client requests');
      },
      close: (why) => {
        clearTimeout(hsTimer);
        this.inbound.delete(conn);
        if (why.startsWith('bad frame')) {
          this.counters.badFrames!++;
          this.o.log?.(`${this.o.spec.id}: closed a connection${hello ? ` from ${hello.from}` : ''}: ${why}`);
        }
      },
    });
    const hsTimer = setTimeout(() => {
      if (hello === null) conn.destroy('bad frame: no hello within the handshake timeout');
    }, this.o.handshakeTimeoutMs ?? 5000);
    this.inbound.add(conn);
    if (this.paused) sock.pause();
  }

  private async sendState(conn: FramedSocket, id: number): Promise<void> {
    const max = this.limits.stateMaxBytes ?? STATE_MAX_BYTES_DEFAULT;
    try {
      conn.write(encodeEnvelope({ t: 'stateRep', id, state: await this.store!.state(), error: null }, max));
    } catch (e) {
      conn.write(encodeEnvelope({ t: 'stateRep', id, state: undefined, error: `${this.o.spec.id}: ${(e as Error).message}` }, max));
    }
  }

  private onMessage(from: NodeId, msg: unknown): void {
    const why = this.o.spec.wire?.message?.(msg) ?? null;
    if (why !== null) throw new FrameError('malformed', `message from ${from}: ${why}`);
    const m = msg as StoreMsg;
    if (m.type !== 'wf.store.req') return;
    this.counters.msgsIn!++;
    this.steps++;
    this.inflight++;
    this.flow();
    this.store!.apply(m.id, m.req, m.writeId).then(
      ({ rep, event }) => {
        if (event) this.o.history.append({ kind: 'record', t: wallUs(), node: this.o.spec.id, event } as HistoryEvent);
        this.reply(from, { type: 'wf.store.rep', id: m.id, rep });
      },
      (e: Error) => {
        // No answer: the database failed this statement. The requester's execution waits, as for
        // a store that lost the request; the error is counted and logged.
        this.counters.storeErrors!++;
        this.o.log?.(`${this.o.spec.id}: ${m.req.op} of ${'row' in m.req ? m.req.row : '*'} failed: ${e.message}`);
      },
    ).finally(() => {
      this.inflight--;
      this.flow();
    });
  }

  private reply(to: NodeId, msg: StoreMsg): void {
    let l = this.links.get(to);
    if (!l) {
      l = new OutLink({ hello: { t: 'hello', v: WIRE_VERSION, cluster: this.o.cluster, kind: 'peer', from: this.o.spec.id, to }, auth: this.o.auth ?? null, address: () => this.o.addressOf(to), limits: this.limits });
      this.links.set(to, l);
    }
    this.counters.msgsOut!++;
    l.send(encodeEnvelope({ t: 'msg', msg }, this.limits.maxFrameBytes));
  }

  private flow(): void {
    if (!this.paused && this.inflight > INFLIGHT_HIGH) {
      this.paused = true;
      for (const c of this.inbound) c.socket.pause();
    } else if (this.paused && this.inflight <= INFLIGHT_HIGH / 10) {
      this.paused = false;
      for (const c of this.inbound) if (!c.closed) c.socket.resume();
    }
  }
}
