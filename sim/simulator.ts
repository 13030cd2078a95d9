/**
 * The seeded discrete-event simulator: the runtime adapter that runs a system's machines in
 * virtual time. Time is integer microseconds; the event queue is ordered by (time, sequence
 * number); every random choice comes from the run's decision source, so a seed (or a decision
 * log) determines the whole run, and the trace hash proves it.
 *
 * What it models: per-link latency, drops, duplicates, reordering and delays; partitions; crashes
 * that lose volatile state and, with a probability, unsynced writes; restarts; pauses; clock skew
 * and drift on every node's timers; a scripted and a random fault schedule. Invariants run after
 * every step and the first violation ends the run.
 */
import { AssertionFailure, assert, assertNever } from '../src/core/assert.ts';
import type { Effect, Input, NodeId } from '../src/core/contract.ts';
import { digest, Hash64, strHash32 } from '../src/core/hash.ts';
import type { FaultKind, FaultRecord, FinishedRun, HistoryEvent, SystemInstance, Violation } from '../src/core/system.ts';
import { type DecisionLog, Decisions, type MismatchPolicy, ReplayDivergence } from './decisions.ts';
import { SimDisk } from './disk.ts';
import { sampleDist } from './dist.ts';
import { EventQueue } from './queue.ts';
import { createRng } from './rng.ts';
import { type NetFate, Network } from './network.ts';
import { swarmFaults } from './swarm.ts';
import { parseRandomFaults, type RandomFaults, type Scenario } from '../src/scenario/scenario.ts';
import { TRACE_FORMAT, TRACE_VERSION, type TraceLevel, type TraceSink } from './trace.ts';
import { wallNowMs } from './wallclock.ts';
import { applyScripted, nemesisTick, scheduleNemesis, validateFaults } from './faults.ts';
import {
  DELIVER, deepFreeze, EchoCtx, FAULT, type FaultHost, type Item, LINK_CLEAR, NEMESIS, RecordingCtx, REQUEST, RESPONSE, RESTART, RESUME, SimCtx, type SimNode, START, StopRun, TIMER, UNBLOCK,
} from './sim-node.ts';

const INPUT_CODE: Record<Input['type'], number> = { start: 1, restart: 2, message: 3, timer: 4, client: 5, response: 6 };

export type Outcome = 'done' | 'quiescent' | 'time-limit' | 'event-limit' | 'wall-limit' | 'violation';

export interface RunResult {
  readonly scenario: string;
  readonly system: string;
  readonly variant: string | null;
  readonly seed: number;
  readonly outcome: Outcome;
  readonly events: number;
  readonly simulatedTimeUs: number;
  readonly wallMs: number;
  readonly traceHash: string;
  readonly violations: readonly Violation[];
  readonly faults: Readonly<Record<string, number>>;
  readonly decisions: number;
  readonly replay: string;
  readonly report: Readonly<Record<string, unknown>>;
}

export interface SimOptions {
  readonly scenario: Scenario;
  readonly instance: SystemInstance;
  readonly seed: number;
  readonly trace?: TraceSink | null;
  /** Write each node's state after every step into the trace (for the viewer): its machine's `traceView` (states) or all of it (full). */
  readonly traceStates?: boolean;
  /** What the trace records of states; `traceStates: true` means 'states'. Default 'events'. */
  readonly traceLevel?: TraceLevel;
  readonly recordDecisions?: boolean;
  readonly replay?: DecisionLog;
  readonly onMismatch?: MismatchPolicy;
  /** Checks mode: step every input twice on clones and compare; freeze messages. */
  readonly checks?: boolean;
  /** The command that reproduces this run, printed with violations. */
  readonly replayCommand?: string;
}

export class Simulator implements FaultHost {
  readonly scenario: Scenario;
  readonly instance: SystemInstance;
  readonly seed: number;
  readonly nodes: SimNode[];
  readonly byId = new Map<NodeId, SimNode>();
  readonly queue = new EventQueue<Item>(4096);
  private readonly hash = new Hash64(0x68616c66);
  readonly decisions: Decisions;
  readonly net: Network;
  private readonly trace: TraceSink | null;
  private readonly traceLevel: TraceLevel;
  private readonly checks: boolean;
  private readonly replayCommand: string;
  private readonly requestOrigin = new Map<string, number>();
  private readonly faultCounts: Record<string, number> = {};
  private readonly historyLog: HistoryEvent[] = [];
  private readonly violationsFound: Violation[] = [];
  private nextMsgId = 0;
  private steps = 0;
  private outcome: Outcome | null = null;
  private doneFlag = false;
  down = 0;
  private timerGen = 0;
  /** The id of the message whose fate the network is deciding, when tracing; else -1. */
  private planMsgId = -1;
  nowUs = 0;
  lastFaultUs = -1;
  /** The random nemesis: the scenario's, or else one the system asks for through its parameters. */
  randomFaults: RandomFaults | null;

  constructor(opts: SimOptions) {
    this.scenario = opts.scenario;
    this.instance = opts.instance;
    this.randomFaults = opts.scenario.faults.random ?? (opts.instance.randomFaults ? parseRandomFaults(opts.instance.randomFaults, `${opts.scenario.name}: the system's fault schedule`) : null);
    this.seed = opts.seed;
    this.trace = opts.trace ?? null;
    this.traceLevel = opts.traceLevel ?? (opts.traceStates ? 'states' : 'events');
    this.checks = opts.checks ?? false;
    this.replayCommand = opts.replayCommand ?? `halfmoon run --scenario ${opts.scenario.name} --seed ${opts.seed}`;
    const rng = createRng(opts.seed, opts.scenario.rng);
    this.decisions = new Decisions(rng, this.hash, {
      record: opts.recordDecisions ?? false,
      ...(opts.replay ? { replay: opts.replay } : {}),
      onMismatch: opts.onMismatch ?? 'throw',
    });
    const specs = opts.instance.nodes;
    assert(specs.length > 0, 'a system needs at least one node');
    assert(specs.length <= 4096, 'at most 4096 nodes');
    this.nodes = specs.map((spec, idx) => {
      assert(!this.byId.has(spec.id), `duplicate node id ${spec.id}`);
      const labels = { maybe: `${spec.id}:maybe:`, random: `${spec.id}:random:`, crash: `${spec.id}:unsyncedLoss` };
      const node: SimNode = {
        idx,
        id: spec.id,
        role: spec.role,
        spec,
        machine: spec.machine,
        driver: spec.driver ?? false,
        faultable: !(spec.driver ?? false) && (spec.faultable ?? true),
        state: undefined,
        up: false,
        halted: false,
        paused: false,
        deferred: [],
        timers: new Map(),
        disk: new SimDisk(),
        skewUs: 0,
        driftPpm: 0,
        driftSinceUs: 0,
        driftAccumUs: 0,
        ctx: new SimCtx(spec.id, this.decisions, labels),
        labels,
      };
      this.byId.set(spec.id, node);
      return node;
    });
    this.net = new Network(
      this.nodes.map((n) => ({ id: n.id, role: n.role, driver: n.driver })),
      opts.scenario.network,
      this.decisions,
    );
    // The message being planned is known only while tracing (planMsgId stays -1 otherwise), so the
    // trace can tie a drop, duplicate, reorder or delay decided at send time to its message.
    this.net.onFate = (fate, from, to) => this.netFate(fate, from, to, this.planMsgId);
    validateFaults(this);
  }

  // -------------------------------------------------------------------------------------------
  // WorldView

  get eventIndex(): number {
    return this.steps;
  }
  get history(): readonly HistoryEvent[] {
    return this.historyLog;
  }
  nodeIds(): readonly NodeId[] {
    return this.nodes.map((n) => n.id);
  }
  role(id: NodeId): string {
    return this.node(id).role;
  }
  isUp(id: NodeId): boolean {
    const n = this.node(id);
    return n.up && !n.halted;
  }
  state(id: NodeId): unknown {
    return this.node(id).state;
  }
  private node(id: NodeId): SimNode {
    const n = this.byId.get(id);
    if (!n) throw new AssertionFailure(`unknown node ${id}`);
    return n;
  }

  // -------------------------------------------------------------------------------------------
  // Setup


  private initialise(): void {
    const clocks = this.scenario.clocks;
    for (const n of this.nodes) {
      if (!n.driver && clocks.skew) n.skewUs = sampleDist(clocks.skew, this.decisions.float(`${n.id}:clock:skew`));
      if (!n.driver && clocks.driftPpmMax > 0) n.driftPpm = (this.decisions.float(`${n.id}:clock:drift`) * 2 - 1) * clocks.driftPpmMax;
      this.queue.push(0, { k: START, node: n.idx });
    }
    this.scenario.faults.scripted.forEach((fault, index) => this.queue.push(fault.atUs, { k: FAULT, fault, index }));
    // Swarm testing: this seed's own subset of the schedule's fault kinds and rates.
    if (this.randomFaults && this.scenario.faults.swarm === true) this.randomFaults = swarmFaults(this.randomFaults, this.decisions);
    const r = this.randomFaults;
    if (r && r.endUs > r.startUs) scheduleNemesis(this, r.startUs);
    if (this.trace) {
      this.trace.write({
        type: 'header',
        format: TRACE_FORMAT,
        version: TRACE_VERSION,
        source: 'sim',
        scenario: this.scenario,
        seed: this.seed,
        rng: { algorithm: this.scenario.rng, seed: this.seed },
        system: this.scenario.system,
        variant: this.scenario.variant,
        nodes: this.nodes.map((n) => ({ id: n.id, role: n.role, driver: n.driver })),
        replay: this.replayCommand,
        level: this.traceLevel,
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // The event loop

  run(): RunResult {
    const wall0 = wallNowMs();
    const lim = this.scenario.limits;
    this.initialise();
    const q = this.queue;
    let iter = 0;
    try {
      for (;;) {
        if (q.size === 0) {
          this.outcome = 'quiescent';
          break;
        }
        if (q.peekTime() > lim.simulatedTimeUs) {
          this.outcome = 'time-limit';
          this.nowUs = lim.simulatedTimeUs;
          break;
        }
        const item = q.pop()!;
        this.nowUs = q.lastTime;
        this.dispatch(item);
        if (this.outcome !== null) break;
        if (this.doneFlag) {
          this.outcome = 'done';
          break;
        }
        if (this.steps >= lim.events) {
          this.outcome = 'event-limit';
          break;
        }
        if ((++iter & 4095) === 0 && wallNowMs() - wall0 > lim.wallMs) {
          this.outcome = 'wall-limit';
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof StopRun)) throw e;
    }
    return this.finish(wallNowMs() - wall0);
  }

  private dispatch(item: Item): void {
    switch (item.k) {
      case DELIVER: {
        const to = this.nodes[item.to]!;
        if (to.paused && to.up) return void to.deferred.push(item);
        if (!to.up || to.halted) return this.netFate('down', item.from, item.to, item.msgId);
        if (this.net.epoch(item.from, item.to) !== item.epoch) return this.netFate('stale', item.from, item.to, item.msgId);
        if (this.net.isBlocked(item.from, item.to)) return this.netFate('partitioned', item.from, item.to, item.msgId);
        return this.step(to, { type: 'message', from: this.nodes[item.from]!.id, msg: item.msg }, item.msgId);
      }
      case TIMER: {
        const n = this.nodes[item.node]!;
        if (n.timers.get(item.name) !== item.gen) return; // cancelled, re-armed, or the node crashed
        if (n.paused) return void n.deferred.push(item);
        n.timers.delete(item.name);
        return this.step(n, { type: 'timer', timer: item.name }, -1);
      }
      case REQUEST: {
        const to = this.nodes[item.to]!;
        if (to.paused && to.up) return void to.deferred.push(item);
        if (!to.up || to.halted || this.net.epoch(item.from, item.to) !== item.epoch || this.net.isBlocked(item.from, item.to)) {
          return this.netFate(to.up ? 'stale' : 'down', item.from, item.to, item.msgId);
        }
        return this.step(to, { type: 'client', reqId: item.reqId, body: item.body }, item.msgId);
      }
      case RESPONSE: {
        const to = this.nodes[item.to]!;
        if (this.net.epoch(item.from, item.to) !== item.epoch || this.net.isBlocked(item.from, item.to)) {
          return this.netFate('stale', item.from, item.to, item.msgId);
        }
        const from = this.nodes[item.from]!;
        this.appendHistory({ kind: 'ret', t: this.nowUs, reqId: item.reqId, client: to.id, node: from.id, body: item.body });
        return this.step(to, { type: 'response', reqId: item.reqId, from: from.id, body: item.body }, item.msgId);
      }
      case START: {
        const n = this.nodes[item.node]!;
        n.state = n.machine.init(n.spec.config, n.id);
        n.up = true;
        this.traceBoot(n);
        return this.step(n, { type: 'start' }, -1);
      }
      case RESTART:
        return this.restart(this.nodes[item.node]!);
      case RESUME: {
        const n = this.nodes[item.node]!;
        if (!n.paused) return;
        n.paused = false;
        this.down--;
        this.recordFault({ kind: 'resume', nodes: [n.id] });
        const d = n.deferred;
        n.deferred = [];
        for (const it of d) this.queue.push(this.nowUs, it);
        return;
      }
      case FAULT:
        return applyScripted(this, item.fault, item.index);
      case NEMESIS:
        return nemesisTick(this);
      case UNBLOCK: {
        const p = item.pairs;
        for (let i = 0; i < p.length; i += 2) this.net.unblock(p[i]!, p[i + 1]!);
        return this.recordFault({ kind: 'heal', detail: { links: p.length / 2 } });
      }
      case LINK_CLEAR: {
        const p = item.pairs;
        for (let i = 0; i < p.length; i += 2) this.net.setLinkFault(p[i]!, p[i + 1]!, null);
        return this.recordFault({ kind: 'linkHeal', detail: { links: p.length / 2 } });
      }
      default:
        assertNever(item, 'queue item');
    }
  }

  // -------------------------------------------------------------------------------------------
  // Steps and effects

  private localTime(n: SimNode): number {
    const t = this.nowUs;
    return t + n.skewUs + n.driftAccumUs + Math.round(((t - n.driftSinceUs) * n.driftPpm) / 1e6);
  }

  private step(n: SimNode, input: Input, msgId: number): void {
    assert(n.up && !n.halted && !n.paused, 'only a running node steps');
    n.ctx.nowUs = this.localTime(n);
    let result;
    const before = this.checks ? digest(n.state) : '';
    try {
      result = this.checks ? this.checkedStep(n, input) : n.machine.step(n.state, input, n.ctx);
    } catch (e) {
      if (e instanceof ReplayDivergence || e instanceof StopRun) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      this.violation({ invariant: 'machine-assertion', message: `${n.id} (${n.role}) threw on ${input.type}: ${msg}`, node: n.id }, input);
      return;
    }
    n.state = result.state;
    const effects = result.effects;
    const i = this.steps++;
    // The trace hash covers the schedule: when, who, what kind of input, and how many effects.
    const h = this.hash;
    h.u32(this.nowUs % 0x1_0000_0000).u32(Math.floor(this.nowUs / 0x1_0000_0000)).u32(n.idx).u32(INPUT_CODE[input.type]);
    if (input.type === 'message') {
      const ty = (input.msg as { type?: unknown } | null)?.type;
      if (typeof ty === 'string') h.u32(strHash32(ty));
    } else if (input.type === 'timer') h.u32(strHash32(input.timer));
    h.u32(effects.length);
    const msgIds = this.trace ? ([] as number[]) : null;
    this.execute(n, effects, msgIds);
    if (this.trace) {
      const rec: Record<string, unknown> = { type: 'step', i, t: this.nowUs, node: n.id, input, effects };
      if (msgId >= 0) rec.msgId = msgId;
      if (msgIds && msgIds.length) rec.msgIds = msgIds;
      if (this.checks) rec.before = before;
      if (this.traceLevel !== 'events' && n.up) rec.state = this.traceState(n);
      this.trace.write(rec);
    }
    this.checkInvariants(n);
    // The workload may finish on a driver's step, or later when the system quiesces (background
    // work such as recovery); the latter is polled every 256 steps to keep `done` off the hot path.
    if ((n.driver || (i & 255) === 0) && this.instance.done && this.instance.done(this)) this.doneFlag = true;
  }

  /** Steps twice on clones with the same choices and demands identical results. */
  private checkedStep(n: SimNode, input: Input) {
    const a = structuredClone(n.state);
    const b = structuredClone(n.state);
    const before = digest(n.state);
    deepFreeze(input);
    const rec = new RecordingCtx(n.ctx);
    const ra = n.machine.step(a, input, rec);
    const rb = n.machine.step(b, input, new EchoCtx(n.id, n.ctx.nowUs, rec.choices));
    assert(digest(n.state) === before, `${n.id}: step mutated a state it did not own (checks mode)`);
    const da = digest(ra.state);
    const db = digest(rb.state);
    if (da !== db) throw new AssertionFailure(`nondeterministic step: two runs of the same ${input.type} input gave different states`);
    if (digest(ra.effects) !== digest(rb.effects)) throw new AssertionFailure(`nondeterministic step: two runs of the same ${input.type} input gave different effects`);
    for (const e of ra.effects) deepFreeze(e);
    return ra;
  }

  private execute(n: SimNode, effects: readonly Effect[], msgIds: number[] | null): void {
    let offset = 0;
    for (let k = 0; k < effects.length; k++) {
      const e = effects[k]!;
      switch (e.type) {
        case 'send': {
          const to = this.byId.get(e.to);
          if (!to) throw new AssertionFailure(`${n.id} sent to unknown node ${e.to}`);
          const id = this.nextMsgId++;
          if (msgIds !== null) this.tracePlan(msgIds, id);
          const plan = this.net.plan(n.idx, to.idx, this.nowUs + offset);
          this.planMsgId = -1;
          for (let c = 0; c < plan.count; c++) {
            this.queue.push(c === 0 ? plan.t0 : plan.t1, { k: DELIVER, to: to.idx, from: n.idx, msg: e.msg, msgId: id, epoch: plan.epoch });
          }
          break;
        }
        case 'setTimer': {
          if (!(e.delayUs >= 0) || !Number.isFinite(e.delayUs)) throw new AssertionFailure(`${n.id} set timer ${e.timer} with delay ${e.delayUs}`);
          const gen = ++this.timerGen;
          n.timers.set(e.timer, gen);
          const scale = 1 + n.driftPpm / 1e6;
          this.queue.push(this.nowUs + offset + Math.ceil(e.delayUs / scale), { k: TIMER, node: n.idx, name: e.timer, gen });
          break;
        }
        case 'cancelTimer':
          n.timers.delete(e.timer);
          break;
        case 'persist':
          n.disk.write(e.key, e.value, e.sync);
          if (e.sync) offset += this.scenario.disk.syncLatencyUs;
          break;
        case 'reply': {
          const origin = this.requestOrigin.get(e.reqId);
          if (origin === undefined) break; // a reply to a request nobody issued (or a duplicate's twin)
          const id = this.nextMsgId++;
          if (msgIds !== null) this.tracePlan(msgIds, id);
          const plan = this.net.plan(n.idx, origin, this.nowUs + offset);
          this.planMsgId = -1;
          for (let c = 0; c < plan.count; c++) {
            this.queue.push(c === 0 ? plan.t0 : plan.t1, { k: RESPONSE, to: origin, from: n.idx, reqId: e.reqId, body: e.body, msgId: id, epoch: plan.epoch });
          }
          break;
        }
        case 'request': {
          if (!n.driver) throw new AssertionFailure(`${n.id} is not a workload driver but issued a request`);
          const to = this.byId.get(e.to);
          if (!to) throw new AssertionFailure(`${n.id} sent a request to unknown node ${e.to}`);
          this.requestOrigin.set(e.reqId, n.idx);
          this.appendHistory({ kind: 'call', t: this.nowUs + offset, reqId: e.reqId, client: n.id, node: to.id, body: e.body });
          const id = this.nextMsgId++;
          if (msgIds !== null) this.tracePlan(msgIds, id);
          const plan = this.net.plan(n.idx, to.idx, this.nowUs + offset);
          this.planMsgId = -1;
          for (let c = 0; c < plan.count; c++) {
            this.queue.push(c === 0 ? plan.t0 : plan.t1, { k: REQUEST, to: to.idx, from: n.idx, reqId: e.reqId, body: e.body, msgId: id, epoch: plan.epoch });
          }
          break;
        }
        case 'record':
          this.appendHistory({ kind: 'record', t: this.nowUs, node: n.id, event: e.event });
          break;
        case 'fatal': {
          n.halted = true;
          n.timers.clear();
          this.appendHistory({ kind: 'fatal', t: this.nowUs, node: n.id, reason: e.reason });
          this.violation({ invariant: 'fatal', message: `${n.id} (${n.role}) reached a fatal state: ${e.reason}`, node: n.id });
          return;
        }
        default:
          assertNever(e, 'effect');
      }
    }
  }

  /** Trace only: lists a sent message on its step and names it for the fates the network plans. */
  private tracePlan(msgIds: number[], id: number): void {
    msgIds.push(id);
    this.planMsgId = id;
  }

  private appendHistory(ev: HistoryEvent): void {
    this.historyLog.push(ev);
    if (this.trace) this.trace.write({ type: 'history', ...ev });
    for (const inv of this.instance.invariants) {
      if (!inv.onHistory) continue;
      const m = inv.onHistory(ev, this);
      if (m !== null) this.violation({ invariant: inv.name, message: m });
    }
  }

  private checkInvariants(n: SimNode): void {
    for (const inv of this.instance.invariants) {
      if (!inv.afterStep) continue;
      const m = inv.afterStep(this, n.id);
      if (m !== null) this.violation({ invariant: inv.name, message: m, node: n.id });
    }
  }

  /** `input`, when given, is the input whose step threw; only the trace records it. */
  private violation(v: Omit<Violation, 'eventIndex' | 'timeUs'>, input?: Input): void {
    if (this.outcome === 'violation') return;
    const full: Violation = { ...v, eventIndex: this.steps, timeUs: this.nowUs };
    this.violationsFound.push(full);
    this.outcome = 'violation';
    if (this.trace) this.trace.write(input === undefined ? { type: 'violation', ...full } : { type: 'violation', ...full, input });
  }

  /**
   * The state a trace records for a node, raw (the trace sink encodes it, as a change from the
   * node's previous one): its machine's `traceView` if it has one, or with level 'full' the whole
   * state.
   */
  private traceState(n: SimNode): unknown {
    return this.traceLevel === 'states' && n.machine.traceView ? n.machine.traceView(n.state) : n.state;
  }

  private traceBoot(n: SimNode): void {
    if (this.trace && this.traceLevel !== 'events') this.trace.write({ type: 'boot', t: this.nowUs, node: n.id, state: this.traceState(n) });
  }

  private netFate(fate: NetFate | 'stale' | 'down', from: number, to: number, msgId: number): void {
    if (fate === 'stale' || fate === 'down') {
      this.faultCounts[fate === 'stale' ? 'lostInFlight' : 'lostToDownNode'] = (this.faultCounts[fate === 'stale' ? 'lostInFlight' : 'lostToDownNode'] ?? 0) + 1;
    } else {
      this.faultCounts[fate] = (this.faultCounts[fate] ?? 0) + 1;
    }
    if (this.trace) {
      const rec: Record<string, unknown> = { type: 'net', t: this.nowUs, fate, from: this.nodes[from]!.id, to: this.nodes[to]!.id };
      if (msgId >= 0) rec.msgId = msgId;
      this.trace.write(rec);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  recordFault(f: FaultRecord): void {
    this.faultCounts[f.kind] = (this.faultCounts[f.kind] ?? 0) + 1;
    this.lastFaultUs = this.nowUs;
    const h = this.hash;
    h.u32(strHash32(f.kind));
    if (f.nodes) for (const id of f.nodes) h.u32(this.byId.get(id)?.idx ?? -1);
    this.appendHistory({ kind: 'fault', t: this.nowUs, fault: f });
    this.trace?.write({ type: 'fault', t: this.nowUs, kind: f.kind, nodes: f.nodes ?? [], detail: f.detail ?? {} });
  }

  guard(f: FaultRecord): boolean {
    const g = this.instance.faultGuard;
    if (!g) return true;
    const why = g(f, this);
    if (why !== null) {
      this.faultCounts.refused = (this.faultCounts.refused ?? 0) + 1;
      this.trace?.write({ type: 'fault', t: this.nowUs, kind: f.kind, nodes: f.nodes ?? [], detail: { ...f.detail, refused: why } });
      return false;
    }
    return true;
  }



  crash(n: SimNode, unsyncedLoss: number): boolean {
    if (!n.up || n.halted) return false;
    if (!this.guard({ kind: 'crash', nodes: [n.id] })) return false;
    if (n.paused) {
      n.paused = false;
      this.down--;
    }
    n.up = false;
    n.state = undefined;
    n.timers.clear();
    n.deferred = [];
    this.down++;
    this.net.breakNode(n.idx);
    const lost = n.disk.crash(this.decisions, n.labels.crash, unsyncedLoss);
    this.recordFault({ kind: 'crash', nodes: [n.id], detail: { unsyncedLost: lost } });
    if (lost > 0) this.faultCounts.unsyncedLoss = (this.faultCounts.unsyncedLoss ?? 0) + lost;
    return true;
  }

  restart(n: SimNode): void {
    if (n.up || n.halted) return;
    if (!this.guard({ kind: 'restart', nodes: [n.id] })) return;
    n.state = n.machine.recover(n.spec.config, n.id, n.disk.image());
    n.up = true;
    this.down--;
    this.net.breakNode(n.idx);
    this.recordFault({ kind: 'restart', nodes: [n.id] });
    this.traceBoot(n);
    this.step(n, { type: 'restart' }, -1);
  }

  pause(n: SimNode, durationUs: number): boolean {
    if (!n.up || n.halted || n.paused) return false;
    if (!this.guard({ kind: 'pause', nodes: [n.id], detail: { durationUs } })) return false;
    n.paused = true;
    this.down++;
    this.recordFault({ kind: 'pause', nodes: [n.id], detail: { durationUs } });
    this.queue.push(this.nowUs + durationUs, { k: RESUME, node: n.idx });
    return true;
  }

  setDrift(n: SimNode, ppm: number): void {
    const t = this.nowUs;
    n.driftAccumUs += Math.round(((t - n.driftSinceUs) * n.driftPpm) / 1e6);
    n.driftSinceUs = t;
    n.driftPpm = ppm;
  }





  // -------------------------------------------------------------------------------------------
  // The end of a run

  private finish(wallMs: number): RunResult {
    const outcome = this.outcome ?? 'quiescent';
    const truncated = outcome === 'event-limit' || outcome === 'wall-limit';
    const finished: FinishedRun = {
      history: this.historyLog,
      view: this,
      endUs: this.nowUs,
      lastFaultUs: this.lastFaultUs,
      truncated,
      quiescent: outcome === 'quiescent',
    };
    if (outcome !== 'violation') {
      for (const c of this.instance.checkers) {
        for (const v of c.check(finished)) {
          this.violationsFound.push(v);
          this.trace?.write({ type: 'violation', ...v });
        }
      }
    }
    // Fold every node's final state into the hash, so equal schedules with different data differ.
    for (const n of this.nodes) {
      this.hash.u32(n.up ? 1 : 0);
      if (n.up) this.hash.str(digest(n.state));
    }
    const traceHash = this.hash.hex();
    const report = this.instance.report ? this.instance.report(finished) : {};
    const faults: Record<string, number> = {};
    for (const k of Object.keys(this.faultCounts).sort()) faults[k] = this.faultCounts[k]!;
    const result: RunResult = {
      scenario: this.scenario.name,
      system: this.scenario.system,
      variant: this.scenario.variant,
      seed: this.seed,
      outcome: this.violationsFound.length > 0 ? 'violation' : outcome,
      events: this.steps,
      simulatedTimeUs: this.nowUs,
      wallMs: Math.round(wallMs * 10) / 10,
      traceHash,
      violations: this.violationsFound,
      faults,
      decisions: this.decisions.count,
      replay: this.replayCommand,
      report,
    };
    if (this.trace) {
      this.trace.write({
        type: 'end',
        outcome: result.outcome,
        events: result.events,
        simulatedTimeUs: result.simulatedTimeUs,
        traceHash,
        violations: result.violations,
        faults,
        report,
        decisions: this.decisions.recorded(),
      });
      this.trace.close();
    }
    return result;
  }
}

export type { FaultKind };
