/**
 * The real runtime's node host: runs one `Machine` of a `SystemInstance` in this Node process,
 * feeding it real inputs and executing its effects for real. It is the only code (with its
 * siblings in this folder) that touches real time, sockets and files.
 *
 * Inputs. `start` (empty disk) or `restart` (the store existed: the state comes from
 * `machine.recover` over the disk image); `message` from peers' connections; `timer` from real
 * timers; `client` from client connections; `response` for drivers, from their client links.
 * Steps run one at a time on the event loop; `ctx.nowUs` is the wall clock in microseconds.
 *
 * Effects, in order. `setTimer`/`cancelTimer` take effect at once (as in the simulator, where
 * only the fire time moves with a sync). The others pass through one ordered outbox per node:
 * `persist` appends to the write-ahead store, and a synced persist holds back every later effect
 * (of this step and of later steps) until its fdatasync completes; so "sync, then acknowledge" is
 * expressed by effect order alone, and no later reply or message can reveal state that a crash
 * could still take back. Steps keep running while a sync is in flight and their persists join the
 * next fdatasync (group commit). `send` frames the message to the peer's link, `reply` goes to the
 * connection the request came on, `request` (drivers only) through a `RealClient`, `record` to the
 * history, `fatal` halts the node. An exception thrown by `step` halts the node the same way.
 *
 * Bounds. The outbox is bounded by pausing every inbound socket while it holds more than
 * `OUTBOX_HIGH` effects (TCP flow control then slows the senders down); reply routes, timers and
 * connections are bounded too.
 */
import * as net from 'node:net';
import { assertNever } from '../../core/assert.ts';
import type { Effect, Input, NodeId } from '../../core/contract.ts';
import { stringifyWire } from '../../core/json.ts';
import type { HistoryEvent, Invariant, NodeSpec, WorldView } from '../../core/system.ts';
import { type ClusterAuth, helloVerifier, type HelloVerifier } from './auth.ts';
import { RealClient } from './client.ts';
import { RealCtx, wallUs } from './clock.ts';
import { type Addr, type ConnLimits, DEFAULT_LIMITS, FramedSocket, OutLink, STATE_MAX_BYTES_DEFAULT } from './conn.ts';
import { FrameError } from './frame.ts';
import type { HistorySink } from './history.ts';
import { type StoreOptions, WalStore } from './store.ts';
import { preciseTimers, type TimerHandle } from './timers.ts';
import { CoordBridge } from './zk/bridge.ts';
import type { ZkRequest, ZkResponse } from '../../boki/coord-api.ts';
import { decodePayload, encodeEnvelope, type Hello, type NodeStatus, parseClientFrame, parseHello, parsePeerFrame, WIRE_VERSION } from './wire.ts';

const OUTBOX_HIGH = 10_000;
const OUTBOX_LOW = 1_000;
const REPLY_ROUTES_MAX = 100_000;
const TIMERS_MAX = 100_000;
const INBOUND_MAX = 1024;

export interface HostOptions {
  /** The cluster's name, checked in every handshake (the system name by default). */
  readonly cluster: string;
  readonly spec: NodeSpec;
  /** Every node of the system: known senders and their wire checks. */
  readonly nodes: readonly NodeSpec[];
  /** The node's store directory; null for a node without a disk (workload drivers). */
  readonly dataDir: string | null;
  /** Where to listen; null for nodes nobody connects to (drivers). Default 127.0.0.1:0. */
  readonly listen?: Addr | null;
  /** Where each node listens (looked up at every dial, so it may change). */
  readonly addressOf: (id: NodeId) => Addr | null;
  readonly history: HistorySink;
  readonly limits?: ConnLimits;
  readonly log?: (line: string) => void;
  /** Invariants checked after every step of this node (with `view`). */
  readonly invariants?: readonly Invariant[];
  readonly view?: WorldView;
  readonly onStep?: (host: MachineHost) => void;
  readonly onHalt?: (host: MachineHost, reason: string) => void;
  readonly handshakeTimeoutMs?: number;
  /**
   * The cluster secret (auth.ts): hellos this node sends are signed with it, and hellos it
   * receives must carry a valid MAC when it listens off loopback or `require` is set.
   */
  readonly auth?: ClusterAuth | null;
  readonly storeOptions?: StoreOptions;
  /** For drivers: is the workload done? Reported in the node's status. */
  readonly done?: () => boolean;
  /**
   * The coordination service is a real ZooKeeper: messages to `node` go to an in-process bridge
   * (zk/bridge.ts) over a session of this process, and its answers come back as messages from
   * `node`. Without it, `node` is an ordinary peer (the coordination machine in its own process).
   */
  readonly coordination?: { readonly node: NodeId; readonly connect: string } | null;
  /**
   * Subtracted from the wall clock for `ctx.nowUs` (default 0: the epoch). A workload driver
   * whose parameters are times since its start (durations, phases) runs with its start here.
   */
  readonly clockOriginUs?: number;
}

type Phase = 'created' | 'starting' | 'running' | 'halted' | 'stopped';
/** Effects that wait in the outbox (timers take effect at once). */
type QueuedEffect = Exclude<Effect, { type: 'setTimer' | 'cancelTimer' }>;
/** A persist already appended to the store, by its sequence number. */
type Persisted = { readonly type: 'persisted'; readonly seq: number; readonly sync: boolean };

/** One line describing the platform's I/O paths (ecosystem.md §3); printed when a host starts. */
export function ioBanner(): string {
  const uring = process.env.UV_USE_IO_URING;
  return `node ${process.version} libuv ${process.versions.uv} UV_USE_IO_URING=${uring === undefined ? '(unset)' : uring}; network: libuv epoll; files: libuv thread pool${uring !== undefined && uring !== '0' ? ' (io_uring requested)' : ''}`;
}

export class MachineHost implements Pick<WorldView, 'nodeIds'> {
  readonly id: NodeId;
  readonly role: string;
  private phase: Phase = 'created';
  private bootedAs: 'start' | 'restart' | null = null;
  state: unknown = undefined;
  private store: WalStore | null = null;
  private server: net.Server | null = null;
  private addr: Addr | null = null;
  private readonly inbound = new Set<FramedSocket>();
  private readonly links = new Map<NodeId, OutLink>();
  private client: RealClient | null = null;
  private readonly replyTo = new Map<string, FramedSocket>();
  private readonly timers = new Map<string, TimerHandle>();
  private outbox: (QueuedEffect | Persisted)[] = [];
  private head = 0;
  private pumping = false;
  private paused = false;
  private readonly ctx: RealCtx;
  private readonly limits: ConnLimits;
  private readonly known = new Map<NodeId, NodeSpec>();
  private steps = 0;
  private startedMs = 0;
  private fatalReason: string | null = null;
  private bridge: CoordBridge | null = null;
  private verifier: HelloVerifier | null = null;
  readonly violations: { invariant: string; message: string; t: number }[] = [];
  readonly counters: Record<string, number> = {
    msgsIn: 0,
    msgsOut: 0,
    msgsDropped: 0,
    requestsIn: 0,
    repliesOut: 0,
    repliesUnroutable: 0,
    badFrames: 0,
    refused: 0,
    syncs: 0,
    persists: 0,
    timersFired: 0,
  };
  private readonly log: (line: string) => void;

  constructor(private readonly o: HostOptions) {
    this.id = o.spec.id;
    this.role = o.spec.role;
    this.ctx = new RealCtx(o.spec.id);
    this.limits = o.limits ?? DEFAULT_LIMITS;
    for (const n of o.nodes) this.known.set(n.id, n);
    this.log = o.log ?? (() => undefined);
  }

  nodeIds(): readonly NodeId[] {
    return [...this.known.keys()];
  }

  get address(): Addr | null {
    return this.addr;
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /** Opens the listener (before `start`, so every node's address is known first). */
  async listen(): Promise<Addr | null> {
    const want = this.o.listen === undefined ? { host: '127.0.0.1', port: 0 } : this.o.listen;
    if (want === null) return null;
    this.verifier = helloVerifier(this.o.auth, want.host, this.id);
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
    server.maxConnections = INBOUND_MAX;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: want.host, port: want.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log(`${this.id}: listener error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    const a = server.address() as net.AddressInfo;
    this.server = server;
    this.addr = { host: want.host, port: a.port };
    return this.addr;
  }

  /** Opens the store, recovers or initialises the machine, and feeds `restart` or `start`. */
  async start(): Promise<void> {
    if (this.phase !== 'created') throw new Error(`${this.id}: start in phase ${this.phase}`);
    this.phase = 'starting';
    this.startedMs = performance.now();
    const spec = this.o.spec;
    if (this.o.dataDir !== null) this.store = await WalStore.open(this.o.dataDir, this.o.storeOptions);
    const store = this.store;
    this.log(`${this.id} (${spec.role}) pid ${process.pid} ${this.addr ? `listening on ${this.addr.host}:${this.addr.port}` : 'not listening'}; ${ioBanner()}`);
    if (store !== null && store.existed) {
      this.state = spec.machine.recover(spec.config, spec.id, new Map(store.image));
      this.bootedAs = 'restart';
      this.log(`${this.id}: recovered ${store.image.size} keys from ${store.recovery.records} records${store.recovery.tornBytes ? ` (cut a torn tail of ${store.recovery.tornBytes} bytes)` : ''}`);
    } else {
      this.state = spec.machine.init(spec.config, spec.id);
      this.bootedAs = 'start';
    }
    if (this.phase !== 'starting') return; // stopped while the store opened
    const coord = this.o.coordination;
    if (coord) {
      const from = coord.node;
      this.bridge = new CoordBridge({
        connect: coord.connect,
        // Asynchronously: an answer is a new input, never a step inside another step's effects.
        deliver: (msg: ZkResponse) => queueMicrotask(() => this.step({ type: 'message', from, msg })),
        log: this.log,
      });
    }
    this.phase = 'running';
    this.step(this.bootedAs === 'restart' ? { type: 'restart' } : { type: 'start' });
    // Connections accepted before the machine ran were held paused (pauseOnConnect).
    if (!this.paused) this.resumeInbound();
  }

  /** Graceful stop: timers off, queued effects finished (bounded), sockets and store closed. */
  async stop(drainMs = 2000): Promise<void> {
    if (this.phase === 'stopped') return;
    const wasRunning = this.phase === 'running' || this.phase === 'halted';
    this.phase = 'stopped';
    this.clearTimers();
    if (wasRunning) {
      const deadline = performance.now() + drainMs;
      while (this.head < this.outbox.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
    await this.closeIo();
    if (this.store) await this.store.close();
  }

  /**
   * Stops as a crash would: queued effects and unwritten store bytes are lost, sockets reset.
   * (A real `kill -9` of a node process is the stronger test; this one keeps tests in-process.)
   */
  async kill(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.clearTimers();
    this.outbox = [];
    this.head = 0;
    if (this.store) await this.store.abandon();
    await this.closeIo();
  }

  private async closeIo(): Promise<void> {
    // Closing the ZooKeeper sessions deletes this node's ephemeral registration at once (a killed
    // process loses it only when ZooKeeper expires the session).
    const bridge = this.bridge;
    this.bridge = null;
    if (bridge) await bridge.close();
    for (const l of this.links.values()) l.close();
    this.links.clear();
    this.client?.close();
    for (const c of this.inbound) c.destroy('node stopping');
    this.inbound.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  status(): NodeStatus {
    const phase = this.phase === 'created' ? 'starting' : this.phase;
    return {
      node: this.id,
      role: this.role,
      pid: process.pid,
      phase,
      booted: this.bootedAs,
      steps: this.steps,
      uptimeMs: this.startedMs ? Math.round(performance.now() - this.startedMs) : 0,
      fatal: this.fatalReason,
      workloadDone: this.o.done && this.state !== undefined ? this.o.done() : null,
      violations: this.violations.length,
      uv: process.versions.uv ?? '',
      ioUring: process.env.UV_USE_IO_URING ?? null,
      counters: { ...this.counters, outbox: this.outbox.length - this.head, ...(this.bridge ? { zkSessions: this.bridge.counters.sessions, zkDropped: this.bridge.counters.dropped, zkExpired: this.bridge.counters.expired } : {}) },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Steps

  private step(input: Input): void {
    if (this.phase !== 'running') return;
    const spec = this.o.spec;
    this.ctx.nowUs = wallUs() - (this.o.clockOriginUs ?? 0);
    let r;
    try {
      r = spec.machine.step(this.state, input, this.ctx);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.halt(`${this.id} (${this.role}) threw on ${input.type}: ${msg}`);
      return;
    }
    this.state = r.state;
    this.steps++;
    for (const e of r.effects) {
      if (this.phase !== 'running') break;
      switch (e.type) {
        case 'setTimer':
          this.arm(e.timer, e.delayUs);
          break;
        case 'cancelTimer':
          this.disarm(e.timer);
          break;
        case 'fatal':
          // No step runs after a fatal effect; the effects queued before it still run, in order.
          this.phase = 'halted';
          this.clearTimers();
          this.outbox.push(e);
          break;
        default:
          this.outbox.push(e);
      }
    }
    this.checkInvariants();
    void this.pump();
    this.o.onStep?.(this);
  }

  /** Re-reads the phase (TypeScript narrows fields across awaits as if they could not change). */
  private isStopped(): boolean {
    return this.phase === 'stopped';
  }

  private checkInvariants(): void {
    const view = this.o.view;
    if (!view || !this.o.invariants) return;
    for (const inv of this.o.invariants) {
      if (!inv.afterStep) continue;
      const m = inv.afterStep(view, this.id);
      if (m !== null) {
        this.violations.push({ invariant: inv.name, message: m, t: wallUs() });
        this.log(`${this.id}: invariant ${inv.name} violated: ${m}`);
      }
    }
  }

  private halt(reason: string): void {
    if (this.fatalReason !== null) return;
    this.fatalReason = reason;
    this.phase = 'halted';
    this.clearTimers();
    this.o.history.append({ kind: 'fatal', t: wallUs(), node: this.id, reason });
    this.log(`${this.id}: halted: ${reason}`);
    this.o.onHalt?.(this, reason);
  }

  // -------------------------------------------------------------------------------------------
  // Timers

  private arm(name: string, delayUs: number): void {
    if (!(delayUs >= 0) || !Number.isFinite(delayUs)) return this.halt(`${this.id} set timer ${name} with delay ${delayUs}`);
    this.disarm(name);
    if (this.timers.size >= TIMERS_MAX) return this.halt(`${this.id} has over ${TIMERS_MAX} timers armed`);
    // Fired at its due time to the microsecond (timers.ts), not rounded up to whole milliseconds.
    const handle = preciseTimers.schedule(delayUs / 1000, () => {
      if (this.timers.get(name) !== handle) return;
      this.timers.delete(name);
      this.counters.timersFired!++;
      this.step({ type: 'timer', timer: name });
    });
    this.timers.set(name, handle);
  }

  private disarm(name: string): void {
    const t = this.timers.get(name);
    if (t) {
      preciseTimers.cancel(t);
      this.timers.delete(name);
    }
  }

  private clearTimers(): void {
    for (const t of this.timers.values()) preciseTimers.cancel(t);
    this.timers.clear();
  }

  // -------------------------------------------------------------------------------------------
  // The outbox: effects in order, each synced persist a barrier

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
        while (this.head < this.outbox.length) {
        if (this.isStopped()) return;
        const e = this.outbox[this.head]!;
        if (e.type === 'persist' || e.type === 'persisted') {
          const p = e.type === 'persist' ? this.appendPersist(this.head) : e;
          if (p === null) return;
          if (p.sync && this.store!.syncedSeq < p.seq) {
            // Group commit: queue every later persist already waiting, then one fdatasync.
            for (let j = this.head + 1; j < this.outbox.length; j++) if (this.outbox[j]!.type === 'persist' && this.appendPersist(j) === null) return;
            try {
              await this.store!.syncUpTo(p.seq);
            } catch (err) {
              if (!this.isStopped()) this.halt(`${this.id}: disk error: ${(err as Error).message}`);
              return;
            }
            this.counters.syncs!++;
            continue;
          }
          this.head++;
          continue;
        }
        this.head++;
        this.execute(e);
      }
      this.outbox = [];
      this.head = 0;
    } finally {
      this.pumping = false;
      this.updateFlow();
    }
  }

  /** Appends the persist at outbox index i to the store; replaces it by its sequence number. */
  private appendPersist(i: number): Persisted | null {
    const e = this.outbox[i] as Extract<Effect, { type: 'persist' }>;
    if (this.store === null) {
      this.halt(`${this.id} (${this.role}) persisted '${e.key}' but has no disk`);
      return null;
    }
    let seq: number;
    try {
      seq = this.store.append(e.key, e.value);
    } catch (err) {
      this.halt(`${this.id}: persist of '${e.key}' failed: ${(err as Error).message}`);
      return null;
    }
    this.counters.persists!++;
    const p = { type: 'persisted' as const, seq, sync: e.sync };
    this.outbox[i] = p;
    return p;
  }

  private execute(e: Exclude<QueuedEffect, { type: 'persist' }>): void {
    switch (e.type) {
      case 'send': {
        if (!this.known.has(e.to)) return this.halt(`${this.id} sent to unknown node ${e.to}`);
        if (this.bridge !== null && e.to === this.o.coordination!.node) {
          this.counters.msgsOut!++;
          this.bridge.handle(e.msg as ZkRequest);
          return;
        }
        let frame: Buffer;
        try {
          frame = encodeEnvelope({ t: 'msg', msg: e.msg }, this.limits.maxFrameBytes);
        } catch (err) {
          return this.halt(`${this.id} sent an unsendable message to ${e.to}: ${(err as Error).message}`);
        }
        this.counters.msgsOut!++;
        if (!this.peerLink(e.to).send(frame)) this.counters.msgsDropped!++;
        return;
      }
      case 'reply': {
        const conn = this.replyTo.get(e.reqId);
        this.replyTo.delete(e.reqId);
        if (!conn || conn.closed) {
          this.counters.repliesUnroutable!++; // its client went away, or nobody asked
          return;
        }
        let frame: Buffer;
        try {
          frame = encodeEnvelope({ t: 'rep', reqId: e.reqId, body: e.body }, this.limits.maxFrameBytes);
        } catch (err) {
          return this.halt(`${this.id} produced an unsendable reply to ${e.reqId}: ${(err as Error).message}`);
        }
        this.counters.repliesOut!++;
        conn.write(frame);
        return;
      }
      case 'request': {
        if (!this.o.spec.driver) return this.halt(`${this.id} is not a workload driver but issued a request`);
        if (!this.known.has(e.to)) return this.halt(`${this.id} sent a request to unknown node ${e.to}`);
        this.driverClient().request(e.to, e.reqId, e.body);
        return;
      }
      case 'record':
        this.o.history.append({ kind: 'record', t: wallUs(), node: this.id, event: e.event } as HistoryEvent);
        return;
      case 'fatal':
        return this.halt(e.reason);
      default:
        assertNever(e, 'effect');
    }
  }

  private peerLink(to: NodeId): OutLink {
    let l = this.links.get(to);
    if (!l) {
      l = new OutLink({
        hello: { t: 'hello', v: WIRE_VERSION, cluster: this.o.cluster, kind: 'peer', from: this.id, to },
        auth: this.o.auth ?? null,
        address: () => this.o.addressOf(to),
        limits: this.limits,
      });
      this.links.set(to, l);
    }
    return l;
  }

  private driverClient(): RealClient {
    if (this.client === null) {
      this.client = new RealClient({
        cluster: this.o.cluster,
        id: this.id,
        addressOf: this.o.addressOf,
        nodes: this.o.nodes,
        history: this.o.history,
        limits: this.limits,
        auth: this.o.auth ?? null,
        onReply: (from, reqId, body) => this.step({ type: 'response', reqId, from, body }),
      });
    }
    return this.client;
  }

  // -------------------------------------------------------------------------------------------
  // Inbound connections

  private accept(sock: net.Socket): void {
    if (this.phase === 'stopped' || this.phase === 'halted') return void sock.destroy();
    let hello: Hello | null = null;
    const conn: FramedSocket = new FramedSocket(sock, this.limits, {
      frame: (p) => {
        const v = decodePayload(p);
        if (hello === null) {
          const h = this.checkHello(parseHello(v));
          const refused = this.verifier?.check(h) ?? null;
          if (refused !== null) {
            this.counters.refused!++;
            this.log(`${this.id}: refused a connection from ${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'} claiming to be ${h.kind} ${h.from}: ${refused}`);
            throw new FrameError('malformed', `refused: ${refused}`);
          }
          hello = h;
          clearTimeout(hsTimer);
          return;
        }
        if (hello.kind === 'peer') return this.onPeerFrame(hello.from, v);
        return this.onClientFrame(conn, v);
      },
      close: (why) => {
        clearTimeout(hsTimer);
        this.inbound.delete(conn);
        if (why.startsWith('bad frame')) {
          this.counters.badFrames!++;
          this.log(`${this.id}: closed a connection${hello ? ` from ${hello.from}` : ''}: ${why}`);
        }
      },
    });
    const hsTimer = setTimeout(() => {
      if (hello === null) conn.destroy('bad frame: no hello within the handshake timeout');
    }, this.o.handshakeTimeoutMs ?? 5000);
    this.inbound.add(conn);
    if (this.phase === 'running' && !this.paused) sock.resume();
  }

  private checkHello(h: Hello): Hello {
    if (h.cluster !== this.o.cluster) throw new FrameError('malformed', `hello for cluster '${h.cluster}', this is '${this.o.cluster}'`);
    if (h.to !== this.id) throw new FrameError('malformed', `hello for node '${h.to}', this is '${this.id}'`);
    if (h.kind === 'peer' && !this.known.has(h.from)) throw new FrameError('malformed', `hello from unknown node '${h.from}'`);
    return h;
  }

  private onPeerFrame(from: NodeId, v: unknown): void {
    const f = parsePeerFrame(v);
    const why = this.o.spec.wire?.message?.(f.msg) ?? null;
    if (why !== null) throw new FrameError('malformed', `message from ${from}: ${why}`);
    this.counters.msgsIn!++;
    this.step({ type: 'message', from, msg: f.msg });
  }

  private onClientFrame(conn: FramedSocket, v: unknown): void {
    const f = parseClientFrame(v);
    if (f.t === 'status') {
      conn.write(encodeEnvelope({ t: 'statusRep', id: f.id, status: this.status() }, this.limits.maxFrameBytes));
      return;
    }
    if (f.t === 'state') {
      conn.write(this.stateFrame(f.id));
      return;
    }
    const why = this.o.spec.wire?.request?.(f.body) ?? null;
    if (why !== null) throw new FrameError('malformed', `request ${f.reqId}: ${why}`);
    this.counters.requestsIn!++;
    this.replyTo.delete(f.reqId); // re-insert: the newest connection answers, and eviction order is fresh
    this.replyTo.set(f.reqId, conn);
    if (this.replyTo.size > REPLY_ROUTES_MAX) this.replyTo.delete(this.replyTo.keys().next().value!);
    this.step({ type: 'client', reqId: f.reqId, body: f.body });
  }

  /** The machine's state as a `stateRep` frame, or the reason it cannot be sent. */
  private stateFrame(id: number): Buffer {
    const max = this.limits.stateMaxBytes ?? STATE_MAX_BYTES_DEFAULT;
    if (this.state === undefined) return encodeEnvelope({ t: 'stateRep', id, state: undefined, error: `${this.id} has no state yet (${this.phase})` }, max);
    try {
      return encodeEnvelope({ t: 'stateRep', id, state: this.state, error: null }, max);
    } catch (e) {
      return encodeEnvelope({ t: 'stateRep', id, state: undefined, error: `${this.id}: ${(e as Error).message}` }, max);
    }
  }

  /** Pauses every inbound socket while the outbox is long, resumes below the low mark. */
  private updateFlow(): void {
    if (this.phase !== 'running') return;
    const queued = this.outbox.length - this.head;
    if (!this.paused && queued > OUTBOX_HIGH) {
      this.paused = true;
      for (const c of this.inbound) c.socket.pause();
    } else if (this.paused && queued <= OUTBOX_LOW) {
      this.paused = false;
      this.resumeInbound();
    }
  }

  private resumeInbound(): void {
    for (const c of this.inbound) if (!c.closed) c.socket.resume();
  }
}

/** Stable text of a status, for logs. */
export function statusLine(s: NodeStatus): string {
  return stringifyWire(s);
}
