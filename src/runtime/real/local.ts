/**
 * A whole system on the real runtime inside one Node process: one `MachineHost` per node, each
 * with its own TCP listener on loopback (ephemeral ports) and its own store directory, talking
 * over real sockets exactly as separate processes would. Used by tests and by `halfmoon`'s
 * single-process real runs; `cluster up` runs the same hosts one per process.
 *
 * It doubles as the `WorldView` for the system's invariants (every node's state is local) and
 * `done` check, and turns the finished history into a `FinishedRun` for the system's checkers.
 */
import { join } from 'node:path';
import type { NodeId } from '../../core/contract.ts';
import type { FaultRecord, FinishedRun, HistoryEvent, SystemInstance, Violation, WorldView } from '../../core/system.ts';
import { wallUs } from './clock.ts';
import type { ClusterAuth } from './auth.ts';
import type { ConnLimits } from './conn.ts';
import { MemoryHistory } from './history.ts';
import { MachineHost } from './host.ts';
import type { StoreOptions } from './store.ts';

export interface LocalClusterOptions {
  readonly instance: SystemInstance;
  /** The cluster name in handshakes (the system's name, usually). */
  readonly cluster: string;
  /** Each node's store lives in `<dataRoot>/<node id>`. */
  readonly dataRoot: string;
  readonly host?: string;
  readonly limits?: ConnLimits;
  readonly log?: (line: string) => void;
  /**
   * A real ZooKeeper serves the system's coordination node (role `coord`): its machine does not
   * run, and every other node reaches ZooKeeper through its own bridge (zk/bridge.ts).
   */
  readonly zookeeper?: { readonly connect: string } | null;
  /** The cluster secret for every node's handshakes (auth.ts). */
  readonly auth?: ClusterAuth | null;
  readonly handshakeTimeoutMs?: number;
  /** Store options of each node (a fault-injecting file layer, say). */
  readonly storeOptions?: (id: NodeId) => StoreOptions | undefined;
}

/** The node that speaks the coordination protocol (src/boki/coord-api.ts), if the system has one. */
export function coordinationNode(instance: SystemInstance): NodeId | null {
  return instance.nodes.find((n) => n.role === 'coord')?.id ?? null;
}

export interface RealRunResult {
  readonly history: readonly HistoryEvent[];
  readonly violations: readonly Violation[];
  /** Client-visible results: each request's first reply (undefined when none came), in call order. */
  readonly replies: readonly { reqId: string; client: string; node: string; request: unknown; reply: unknown }[];
}

export class LocalCluster implements WorldView {
  readonly hosts = new Map<NodeId, MachineHost>();
  readonly memory = new MemoryHistory();
  private doneWaiters: (() => void)[] = [];
  private doneFlag = false;
  private stepsSeen = 0;
  private startUs = 0;
  lastFaultUs = -1;

  private constructor(private readonly o: LocalClusterOptions) {}

  /** Listens on every node, then starts the system's nodes, then its drivers. */
  static async start(o: LocalClusterOptions): Promise<LocalCluster> {
    const c = new LocalCluster(o);
    c.startUs = wallUs();
    const served = c.servedByZooKeeper();
    for (const spec of o.instance.nodes) if (spec.id !== served) c.hosts.set(spec.id, c.makeHost(spec.id));
    try {
      for (const h of c.hosts.values()) await h.listen();
      for (const spec of o.instance.nodes) if (!spec.driver && spec.id !== served) await c.hosts.get(spec.id)!.start();
      for (const spec of o.instance.nodes) if (spec.driver) await c.hosts.get(spec.id)!.start();
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** The coordination node when ZooKeeper serves it, else null. */
  private servedByZooKeeper(): NodeId | null {
    return this.o.zookeeper ? coordinationNode(this.o.instance) : null;
  }

  private makeHost(id: NodeId): MachineHost {
    const spec = this.o.instance.nodes.find((n) => n.id === id)!;
    const driver = spec.driver ?? false;
    const served = this.servedByZooKeeper();
    return new MachineHost({
      coordination: served !== null && this.o.zookeeper ? { node: served, connect: this.o.zookeeper.connect } : null,
      cluster: this.o.cluster,
      spec,
      nodes: this.o.instance.nodes,
      dataDir: driver ? null : join(this.o.dataRoot, id),
      listen: driver ? null : { host: this.o.host ?? '127.0.0.1', port: 0 },
      addressOf: (to) => this.hosts.get(to)?.address ?? null,
      history: this.memory,
      ...(this.o.limits ? { limits: this.o.limits } : {}),
      ...(this.o.log ? { log: this.o.log } : {}),
      ...(this.o.auth ? { auth: this.o.auth } : {}),
      ...(this.o.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: this.o.handshakeTimeoutMs } : {}),
      ...(this.o.storeOptions?.(id) ? { storeOptions: this.o.storeOptions(id)! } : {}),
      invariants: this.o.instance.invariants,
      view: this,
      onStep: (h) => {
        // As in the simulator: after every driver step, and every 256th step of any node (a run
        // may end when background work settles, not only on a driver's step).
        if (this.doneFlag || !this.o.instance.done || (!driver && (++this.stepsSeen & 255) !== 0)) return;
        if (h.running && this.o.instance.done(this)) {
          this.doneFlag = true;
          for (const w of this.doneWaiters) w();
          this.doneWaiters = [];
        }
      },
    });
  }

  /** Resolves when the system's `done` holds (checked after driver steps); rejects after `timeoutMs`. */
  whenDone(timeoutMs: number): Promise<void> {
    if (this.doneFlag) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`workload not done within ${timeoutMs} ms`)), timeoutMs);
      this.doneWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Kills a node as a crash would (in-process): its queued effects and unwritten bytes are lost. */
  async crash(id: NodeId): Promise<void> {
    const h = this.hosts.get(id);
    if (!h) throw new Error(`unknown node ${id}`);
    await h.kill();
    this.fault({ kind: 'crash', nodes: [id] });
  }

  /** Starts a crashed node again on the same store (a new listener; peers look addresses up anew). */
  async restart(id: NodeId): Promise<void> {
    const h = this.makeHost(id);
    this.hosts.set(id, h);
    await h.listen();
    this.fault({ kind: 'restart', nodes: [id] });
    await h.start();
  }

  private fault(f: FaultRecord): void {
    this.lastFaultUs = wallUs();
    this.memory.append({ kind: 'fault', t: this.lastFaultUs, fault: f });
  }

  /** Runs the system's checkers over the history so far, and collects invariant violations. */
  judge(): RealRunResult {
    const violations: Violation[] = [];
    for (const h of this.hosts.values()) for (const v of h.violations) violations.push({ invariant: v.invariant, message: v.message, timeUs: v.t, node: h.id });
    for (const ev of this.memory.events) if (ev.kind === 'fatal') violations.push({ invariant: 'fatal', message: `${ev.node} reached a fatal state: ${ev.reason}`, node: ev.node, timeUs: ev.t });
    const run: FinishedRun = { history: this.memory.events, view: this, endUs: wallUs(), lastFaultUs: this.lastFaultUs, truncated: false, quiescent: false };
    for (const c of this.o.instance.checkers) violations.push(...c.check(run));
    return { history: this.memory.events, violations, replies: clientResults(this.memory.events) };
  }

  async stop(): Promise<void> {
    for (const h of this.hosts.values()) await h.stop();
  }

  // WorldView ---------------------------------------------------------------------------------
  get nowUs(): number {
    return wallUs() - this.startUs;
  }
  get eventIndex(): number {
    let n = 0;
    for (const h of this.hosts.values()) n += h.status().steps;
    return n;
  }
  get history(): readonly HistoryEvent[] {
    return this.memory.events;
  }
  nodeIds(): readonly NodeId[] {
    return this.o.instance.nodes.map((n) => n.id);
  }
  role(id: NodeId): string {
    const n = this.o.instance.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`unknown node ${id}`);
    return n.role;
  }
  isUp(id: NodeId): boolean {
    return this.hosts.get(id)?.running ?? false;
  }
  state(id: NodeId): unknown {
    return this.hosts.get(id)?.state;
  }
}

/** Each request's first reply, in call order: what a client of the system saw. */
export function clientResults(history: readonly HistoryEvent[]): RealRunResult['replies'] {
  const out: { reqId: string; client: string; node: string; request: unknown; reply: unknown }[] = [];
  const byId = new Map<string, (typeof out)[number]>();
  for (const ev of history) {
    if (ev.kind === 'call' && !byId.has(ev.reqId)) {
      const r = { reqId: ev.reqId, client: ev.client, node: ev.node, request: ev.body, reply: undefined as unknown };
      byId.set(ev.reqId, r);
      out.push(r);
    } else if (ev.kind === 'ret') {
      const r = byId.get(ev.reqId);
      if (r && r.reply === undefined) r.reply = ev.body;
    }
  }
  return out;
}
