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
import { AssertionFailure, assert, assertNever, InputError } from '../src/core/assert.ts';
import type { Ctx, Effect, Input, Machine, NodeId } from '../src/core/contract.ts';
import { digest, Hash64, strHash32 } from '../src/core/hash.ts';
import { toDisplayBounded } from '../src/core/json.ts';
import type { FaultKind, FaultRecord, FinishedRun, HistoryEvent, NodeSpec, SystemInstance, Violation, WorldView } from '../src/core/system.ts';
import { type DecisionLog, Decisions, type MismatchPolicy, ReplayDivergence } from './decisions.ts';
import { SimDisk } from './disk.ts';
import { sampleDist } from './dist.ts';
import { EventQueue } from './queue.ts';
import { createRng } from './rng.ts';
import { type NetFate, Network } from './network.ts';
import { swarmFaults } from './swarm.ts';
import { parseRandomFaults, type RandomFaultKind, type RandomFaults, type Scenario, type ScriptedFault } from '../src/scenario/scenario.ts';
import { RANDOM_FAULT_KINDS } from '../src/scenario/scenario.ts';
import { TRACE_FORMAT, TRACE_VERSION, type TraceSink } from './trace.ts';
import { wallNowMs } from './wallclock.ts';

// ---------------------------------------------------------------------------------------------
// Queue items. Numeric kinds and flat objects keep dispatch a jump table.

const DELIVER = 0;
const TIMER = 1;
const REQUEST = 2;
const RESPONSE = 3;
const START = 4;
const RESTART = 5;
const RESUME = 6;
const FAULT = 7;
const NEMESIS = 8;
const UNBLOCK = 9;
const LINK_CLEAR = 10;

type Item =
  | { k: typeof DELIVER; to: number; from: number; msg: unknown; msgId: number; epoch: number }
  | { k: typeof TIMER; node: number; name: string; gen: number }
  | { k: typeof REQUEST; to: number; from: number; reqId: string; body: unknown; msgId: number; epoch: number }
  | { k: typeof RESPONSE; to: number; from: number; reqId: string; body: unknown; msgId: number; epoch: number }
  | { k: typeof START; node: number }
  | { k: typeof RESTART; node: number }
  | { k: typeof RESUME; node: number }
  | { k: typeof FAULT; fault: ScriptedFault; index: number }
  | { k: typeof NEMESIS }
  | { k: typeof UNBLOCK; pairs: number[] }
  | { k: typeof LINK_CLEAR; pairs: number[] };

/** Values of one node's state a trace step may hold (larger states are elided). */
export const TRACE_STATE_VALUES_MAX = 20_000;

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
  /** Write each node's full state after every step into the trace (for the viewer). */
  readonly traceStates?: boolean;
  readonly recordDecisions?: boolean;
  readonly replay?: DecisionLog;
  readonly onMismatch?: MismatchPolicy;
  /** Checks mode: step every input twice on clones and compare; freeze messages. */
  readonly checks?: boolean;
  /** The command that reproduces this run, printed with violations. */
  readonly replayCommand?: string;
}

interface SimNode {
  readonly idx: number;
  readonly id: NodeId;
  readonly role: string;
  readonly spec: NodeSpec;
  readonly machine: Machine;
  readonly driver: boolean;
  readonly faultable: boolean;
  state: unknown;
  up: boolean;
  halted: boolean;
  paused: boolean;
  deferred: Item[];
  timers: Map<string, number>;
  readonly disk: SimDisk;
  skewUs: number;
  driftPpm: number;
  driftSinceUs: number;
  driftAccumUs: number;
  readonly ctx: SimCtx;
  readonly labels: { maybe: string; random: string; crash: string };
}

class SimCtx implements Ctx {
  nowUs = 0;
  constructor(
    readonly self: NodeId,
    private readonly d: Decisions,
    private readonly labels: { maybe: string; random: string },
  ) {}
  maybe(label: string, p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new AssertionFailure(`ctx.maybe(${label}): probability ${p} outside [0, 1]`);
    return this.d.bool(this.labels.maybe + label, p);
  }
  randomU32(label: string): number {
    return this.d.u32(this.labels.random + label);
  }
}

/** Replays a recorded sequence of choices into a second step, for checks mode. */
class EchoCtx implements Ctx {
  private i = 0;
  constructor(
    readonly self: NodeId,
    readonly nowUs: number,
    private readonly choices: (boolean | number)[],
  ) {}
  maybe(): boolean {
    return this.choices[this.i++] as boolean;
  }
  randomU32(): number {
    return this.choices[this.i++] as number;
  }
}

class RecordingCtx implements Ctx {
  readonly choices: (boolean | number)[] = [];
  constructor(private readonly inner: SimCtx) {}
  get self(): NodeId {
    return this.inner.self;
  }
  get nowUs(): number {
    return this.inner.nowUs;
  }
  maybe(label: string, p: number): boolean {
    const v = this.inner.maybe(label, p);
    this.choices.push(v);
    return v;
  }
  randomU32(label: string): number {
    const v = this.inner.randomU32(label);
    this.choices.push(v);
    return v;
  }
}

function deepFreeze(v: unknown, depth = 0): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v) || depth > 64) return;
  if (v instanceof Map || v instanceof Set || ArrayBuffer.isView(v)) return; // cannot be frozen in place
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k], depth + 1);
}

/** Stops the event loop from inside a handler. */
class StopRun extends Error {}

export class Simulator implements WorldView {
  readonly scenario: Scenario;
  readonly instance: SystemInstance;
  readonly seed: number;
  private readonly nodes: SimNode[];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly queue = new EventQueue<Item>(4096);
  private readonly hash = new Hash64(0x68616c66);
  readonly decisions: Decisions;
  private readonly net: Network;
  private readonly trace: TraceSink | null;
  private readonly traceStates: boolean;
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
  private down = 0;
  private timerGen = 0;
  /** The id of the message whose fate the network is deciding, when tracing; else -1. */
  private planMsgId = -1;
  nowUs = 0;
  lastFaultUs = -1;
  /** The random nemesis: the scenario's, or else one the system asks for through its parameters. */
  private randomFaults: RandomFaults | null;

  constructor(opts: SimOptions) {
    this.scenario = opts.scenario;
    this.instance = opts.instance;
    this.randomFaults = opts.scenario.faults.random ?? (opts.instance.randomFaults ? parseRandomFaults(opts.instance.randomFaults, `${opts.scenario.name}: the system's fault schedule`) : null);
    this.seed = opts.seed;
    this.trace = opts.trace ?? null;
    this.traceStates = opts.traceStates ?? false;
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
    this.validateFaults();
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

  private validateFaults(): void {
    const f = this.scenario.faults;
    f.scripted.forEach((s, i) => {
      const where = `faults.scripted[${i}]`;
      const check = (sel: string, field: string) => {
        if (sel === '*' || sel.startsWith('role:') || this.byId.has(sel)) return;
        if (this.instance.resolveSelector) return; // symbolic selectors are resolved when the fault fires
        throw new InputError(`${where}.${field}: unknown node '${sel}'`);
      };
      if ('node' in s) check(s.node, 'node');
      if (s.kind === 'partition') {
        if (s.mode === 'one-way' && (!s.from || !s.to)) throw new InputError(`${where}: a one-way partition needs 'from' and 'to'`);
        if (s.mode !== 'one-way' && !s.groups) throw new InputError(`${where}: a ${s.mode} partition needs 'groups'`);
        s.groups?.forEach((g, gi) => g.forEach((x, xi) => check(x, `groups[${gi}][${xi}]`)));
        s.from?.forEach((x, xi) => check(x, `from[${xi}]`));
        s.to?.forEach((x, xi) => check(x, `to[${xi}]`));
      }
      if (s.kind === 'linkFault') {
        check(s.from, 'from');
        check(s.to, 'to');
      }
    });
    if (this.randomFaults) {
      const kinds = Object.entries(this.randomFaults.kinds).filter(([, w]) => (w ?? 0) > 0);
      if (kinds.length === 0) throw new InputError('faults.random.kinds: give at least one kind a positive weight');
      for (const r of this.randomFaults.roles ?? []) {
        if (!this.nodes.some((n) => n.role === r)) throw new InputError(`faults.random.roles: no node has role '${r}'`);
      }
    }
  }

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
    if (r && r.endUs > r.startUs) this.scheduleNemesis(r.startUs);
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
        return this.applyScripted(item.fault, item.index);
      case NEMESIS:
        return this.nemesisTick();
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
      if (this.traceStates && n.up) rec.state = this.traceState(n);
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
          for (const t of plan.times) {
            this.queue.push(t, { k: DELIVER, to: to.idx, from: n.idx, msg: e.msg, msgId: id, epoch: plan.epoch });
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
          for (const t of plan.times) {
            this.queue.push(t, { k: RESPONSE, to: origin, from: n.idx, reqId: e.reqId, body: e.body, msgId: id, epoch: plan.epoch });
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
          for (const t of plan.times) {
            this.queue.push(t, { k: REQUEST, to: to.idx, from: n.idx, reqId: e.reqId, body: e.body, msgId: id, epoch: plan.epoch });
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
   * The state a trace records for a node: its machine's `traceView` if it has one, else the whole
   * state, elided beyond TRACE_STATE_VALUES_MAX values so a trace stays proportional to the run.
   */
  private traceState(n: SimNode): unknown {
    const v = n.machine.traceView ? n.machine.traceView(n.state) : n.state;
    const shown = toDisplayBounded(v, TRACE_STATE_VALUES_MAX);
    return shown === null ? { $elided: `state of more than ${TRACE_STATE_VALUES_MAX} values` } : shown;
  }

  private traceBoot(n: SimNode): void {
    if (this.trace && this.traceStates) this.trace.write({ type: 'boot', t: this.nowUs, node: n.id, state: this.traceState(n) });
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

  private recordFault(f: FaultRecord): void {
    this.faultCounts[f.kind] = (this.faultCounts[f.kind] ?? 0) + 1;
    this.lastFaultUs = this.nowUs;
    const h = this.hash;
    h.u32(strHash32(f.kind));
    if (f.nodes) for (const id of f.nodes) h.u32(this.byId.get(id)?.idx ?? -1);
    this.appendHistory({ kind: 'fault', t: this.nowUs, fault: f });
    this.trace?.write({ type: 'fault', t: this.nowUs, kind: f.kind, nodes: f.nodes ?? [], detail: f.detail ?? {} });
  }

  private guard(f: FaultRecord): boolean {
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

  /** Resolves a node selector to one node, choosing among candidates through the decision log. */
  private resolveOne(sel: string, label: string, filter: (n: SimNode) => boolean): SimNode | null {
    const direct = this.byId.get(sel);
    if (direct) return filter(direct) ? direct : null;
    let cands: SimNode[];
    if (sel === '*') cands = this.nodes.filter((n) => n.faultable && filter(n));
    else if (sel.startsWith('role:')) cands = this.nodes.filter((n) => n.role === sel.slice(5) && n.faultable && filter(n));
    else {
      const id = this.instance.resolveSelector?.(sel, this) ?? null;
      if (id === null) return null;
      const n = this.byId.get(id);
      return n && filter(n) ? n : null;
    }
    if (cands.length === 0) return null;
    return cands[this.decisions.int(label, 0, cands.length - 1)]!;
  }

  private resolveMany(sels: readonly string[]): SimNode[] {
    const out: SimNode[] = [];
    for (const sel of sels) {
      const direct = this.byId.get(sel);
      if (direct) out.push(direct);
      else if (sel === '*') out.push(...this.nodes.filter((n) => !n.driver));
      else if (sel.startsWith('role:')) out.push(...this.nodes.filter((n) => n.role === sel.slice(5)));
      else {
        const id = this.instance.resolveSelector?.(sel, this) ?? null;
        const n = id === null ? undefined : this.byId.get(id);
        if (n) out.push(n);
      }
    }
    return [...new Set(out)];
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

  private restart(n: SimNode): void {
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

  private pause(n: SimNode, durationUs: number): boolean {
    if (!n.up || n.halted || n.paused) return false;
    if (!this.guard({ kind: 'pause', nodes: [n.id], detail: { durationUs } })) return false;
    n.paused = true;
    this.down++;
    this.recordFault({ kind: 'pause', nodes: [n.id], detail: { durationUs } });
    this.queue.push(this.nowUs + durationUs, { k: RESUME, node: n.idx });
    return true;
  }

  private setDrift(n: SimNode, ppm: number): void {
    const t = this.nowUs;
    n.driftAccumUs += Math.round(((t - n.driftSinceUs) * n.driftPpm) / 1e6);
    n.driftSinceUs = t;
    n.driftPpm = ppm;
  }

  private partition(mode: 'symmetric' | 'asymmetric' | 'one-way', groups: SimNode[][], durationUs: number | undefined, label: string): void {
    const pairs: number[] = [];
    const ids = groups.map((g) => g.map((x) => x.id));
    if (!this.guard({ kind: 'partition', nodes: groups.flat().map((x) => x.id), detail: { mode, groups: ids } })) return;
    if (mode === 'one-way') {
      for (const a of groups[0]!) for (const b of groups[1]!) if (a !== b) pairs.push(a.idx, b.idx);
    } else {
      for (let gi = 0; gi < groups.length; gi++) {
        for (let gj = gi + 1; gj < groups.length; gj++) {
          for (const a of groups[gi]!) {
            for (const b of groups[gj]!) {
              if (a === b) continue;
              if (mode === 'symmetric') pairs.push(a.idx, b.idx, b.idx, a.idx);
              else {
                // Asymmetric: each pair loses one direction or both, chosen per pair.
                const c = this.decisions.int(label, 0, 2);
                if (c !== 1) pairs.push(a.idx, b.idx);
                if (c !== 0) pairs.push(b.idx, a.idx);
              }
            }
          }
        }
      }
    }
    for (let i = 0; i < pairs.length; i += 2) this.net.block(pairs[i]!, pairs[i + 1]!);
    this.recordFault({ kind: 'partition', nodes: groups.flat().map((x) => x.id), detail: { mode, groups: ids } });
    if (durationUs !== undefined) this.queue.push(this.nowUs + durationUs, { k: UNBLOCK, pairs });
  }

  private applyScripted(f: ScriptedFault, index: number): void {
    const label = `fault:${index}`;
    const up = (x: SimNode) => x.up && !x.halted;
    switch (f.kind) {
      case 'crash': {
        const n = this.resolveOne(f.node, label, up);
        if (n) this.crash(n, f.unsyncedLoss ?? this.scenario.disk.unsyncedLoss);
        return;
      }
      case 'restart': {
        const n = this.resolveOne(f.node, label, (x) => !x.up && !x.halted);
        if (n) this.restart(n);
        return;
      }
      case 'crashRestart': {
        const n = this.resolveOne(f.node, label, up);
        if (n && this.crash(n, f.unsyncedLoss ?? this.scenario.disk.unsyncedLoss)) this.queue.push(this.nowUs + f.downUs, { k: RESTART, node: n.idx });
        return;
      }
      case 'pause': {
        const n = this.resolveOne(f.node, label, (x) => up(x) && !x.paused);
        if (n) this.pause(n, f.durationUs);
        return;
      }
      case 'partition': {
        if (f.mode === 'one-way') return this.partition('one-way', [this.resolveMany(f.from!), this.resolveMany(f.to!)], f.durationUs, label);
        const named = f.groups!.map((g) => this.resolveMany(g));
        const seen = new Set(named.flat());
        const rest = this.nodes.filter((x) => !x.driver && !seen.has(x));
        if (rest.length) named.push(rest);
        return this.partition(f.mode, named, f.durationUs, label);
      }
      case 'heal':
        this.net.healAll();
        return this.recordFault({ kind: 'heal' });
      case 'clockSkew': {
        const n = this.resolveOne(f.node, label, () => true);
        if (!n) return;
        n.skewUs += f.skewUs;
        return this.recordFault({ kind: 'clockSkew', nodes: [n.id], detail: { skewUs: f.skewUs } });
      }
      case 'clockDrift': {
        const n = this.resolveOne(f.node, label, () => true);
        if (!n) return;
        this.setDrift(n, f.ppm);
        return this.recordFault({ kind: 'clockDrift', nodes: [n.id], detail: { ppm: f.ppm } });
      }
      case 'linkFault': {
        const from = this.resolveMany([f.from]);
        const to = this.resolveMany([f.to]);
        const lf = { drop: f.drop ?? 0, duplicate: f.duplicate ?? 0, reorder: f.reorder ?? 0, delayUs: f.delayUs ?? 0 };
        const pairs: number[] = [];
        for (const a of from) for (const b of to) if (a !== b) pairs.push(a.idx, b.idx);
        if (!this.guard({ kind: 'linkFault', nodes: [...from, ...to].map((x) => x.id), detail: lf })) return;
        for (let i = 0; i < pairs.length; i += 2) this.net.setLinkFault(pairs[i]!, pairs[i + 1]!, lf);
        this.recordFault({ kind: 'linkFault', nodes: [...new Set([...from, ...to])].map((x) => x.id), detail: lf });
        if (f.durationUs !== undefined) this.queue.push(this.nowUs + f.durationUs, { k: LINK_CLEAR, pairs });
        return;
      }
      case 'linkHeal':
        this.net.clearLinkFaults();
        return this.recordFault({ kind: 'linkHeal' });
      default:
        assertNever(f, 'scripted fault');
    }
  }

  // -------------------------------------------------------------------------------------------
  // The random nemesis

  private scheduleNemesis(from: number): void {
    const r = this.randomFaults!;
    const gap = Math.max(1, Math.round(-r.meanIntervalUs * Math.log(1 - this.decisions.float('nemesis:gap'))));
    if (from + gap < r.endUs) this.queue.push(from + gap, { k: NEMESIS });
  }

  private nemesisTick(): void {
    const r = this.randomFaults!;
    const d = this.decisions;
    const kinds = RANDOM_FAULT_KINDS.filter((k) => (r.kinds[k] ?? 0) > 0);
    const total = kinds.reduce((s, k) => s + r.kinds[k]!, 0);
    let x = d.float('nemesis:kind') * total;
    let kind: RandomFaultKind = kinds[kinds.length - 1]!;
    for (const k of kinds) {
      x -= r.kinds[k]!;
      if (x < 0) {
        kind = k;
        break;
      }
    }
    const roles = r.roles;
    const eligible = this.nodes.filter((n) => n.faultable && (!roles || roles.includes(n.role)));
    const running = eligible.filter((n) => n.up && !n.halted && !n.paused);
    const duration = sampleDist(r.duration, d.float('nemesis:duration'));
    const pick = (c: SimNode[]) => (c.length ? c[d.int('nemesis:target', 0, c.length - 1)]! : null);
    const unsyncedLoss = this.scenario.disk.unsyncedLoss;
    switch (kind) {
      case 'crash':
      case 'crashRestart': {
        if (this.down >= r.maxDown) break;
        const n = pick(running);
        if (n && this.crash(n, unsyncedLoss) && kind === 'crashRestart') this.queue.push(this.nowUs + duration, { k: RESTART, node: n.idx });
        break;
      }
      case 'pause': {
        if (this.down >= r.maxDown) break;
        const n = pick(running);
        if (n) this.pause(n, duration);
        break;
      }
      case 'partition': {
        const all = this.nodes.filter((n) => !n.driver);
        if (all.length < 2) break;
        // Split into two sides: a random cut of a random order (FoundationDB-style).
        const order = all.map((n) => ({ n, key: d.u32('nemesis:shuffle') })).sort((a, b) => a.key - b.key || a.n.idx - b.n.idx);
        const cut = d.int('nemesis:cut', 1, all.length - 1);
        const modes = ['symmetric', 'asymmetric', 'one-way'] as const;
        const mode = modes[d.int('nemesis:mode', 0, 2)]!;
        this.partition(mode, [order.slice(0, cut).map((o) => o.n), order.slice(cut).map((o) => o.n)], duration, 'nemesis:asym');
        break;
      }
      case 'linkFault': {
        const a = pick(eligible);
        const b = pick(this.nodes.filter((n) => n !== a && !n.driver));
        if (!a || !b) break;
        const lf = {
          drop: d.bool('nemesis:lf:drop', 0.5) ? r.linkDrop : 0,
          duplicate: d.bool('nemesis:lf:dup', 0.5) ? r.linkDuplicate : 0,
          reorder: d.bool('nemesis:lf:reorder', 0.5) ? r.linkReorder : 0,
          delayUs: d.bool('nemesis:lf:delay', 0.5) ? d.int('nemesis:lf:delayUs', 0, 50_000) : 0,
        };
        if (!this.guard({ kind: 'linkFault', nodes: [a.id, b.id], detail: lf })) break;
        this.net.setLinkFault(a.idx, b.idx, lf);
        this.recordFault({ kind: 'linkFault', nodes: [a.id, b.id], detail: lf });
        this.queue.push(this.nowUs + duration, { k: LINK_CLEAR, pairs: [a.idx, b.idx] });
        break;
      }
      case 'clockSkew': {
        const n = pick(eligible);
        if (!n) break;
        const s = d.int('nemesis:skew', -r.clockSkewMaxUs, r.clockSkewMaxUs);
        n.skewUs += s;
        this.recordFault({ kind: 'clockSkew', nodes: [n.id], detail: { skewUs: s } });
        break;
      }
      case 'clockDrift': {
        const n = pick(eligible);
        if (!n) break;
        const ppm = (d.float('nemesis:drift') * 2 - 1) * r.clockDriftPpmMax;
        this.setDrift(n, ppm);
        this.recordFault({ kind: 'clockDrift', nodes: [n.id], detail: { ppm } });
        break;
      }
      default:
        assertNever(kind, 'random fault kind');
    }
    this.scheduleNemesis(this.nowUs);
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
