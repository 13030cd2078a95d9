/**
 * The adapter that turns any `SystemInstance` into an explorer model, so the machines the
 * simulator runs are the machines the explorer checks.
 *
 * A world state is every node's state (up or crashed, its machine state, its disk as synced
 * writes plus unsynced ones, its armed timers), the messages in flight, the fault budget left and
 * the history the checkers need. Actions are: deliver any message in flight (in any order: the
 * network is unordered), fire any armed timer, and, within the declared budget, crash a node
 * (losing its unsynced writes: every prefix of them may survive), restart a crashed node, drop a
 * message, or deliver one twice. Workload drivers issue their requests through their own timers,
 * so client steps are ordinary actions too.
 *
 * Modelling choices (each an option, see `WorldOptions`):
 * - In flight as a *set* by default (Stateright's and TLA+'s choice): sending a message that is
 *   already in flight changes nothing, which keeps retransmission loops finite; a message is
 *   received twice only through the duplicate budget. As a *multiset*, copies accumulate up to
 *   `inFlightMax` (beyond it the action is disabled).
 * - Time: untimed by default (every `ctx.nowUs` is 0, timers fire at any moment); with
 *   `timeStepUs` each step advances a global clock and a timer fires no earlier than its deadline,
 *   which makes the clock part of the state. Timers may fire in any order, in DSLabs' duration
 *   order (a timer waits for timers armed earlier with no longer a delay), or only when nothing is
 *   in flight.
 * - `ctx.maybe(label, p)` with 0 < p < 1 branches (both outcomes are explored); `ctx.randomU32`
 *   derives its value from the stepping node's own state and input, so a step is a function of
 *   that node alone, or branches over listed values for labels named in `branchRandom` (the
 *   register driver's read-or-write choice).
 * - Links break on a crash, as in the simulator: messages to and from a crashed node are lost, and
 *   messages sent to a down node are lost. Links of the nodes listed in `fifo` deliver in send
 *   order (the simulator's TCP-like links); all others are unordered.
 * - A run ends where the system's `done` holds with `stopAtDone`, as the simulator stops there:
 *   for systems whose background timers never fall silent, the only terminal states.
 * - Pauses, partitions and clock faults are not separate actions: an unordered network already
 *   delays any message arbitrarily, and a partition's effect on safety is that of dropped messages.
 *
 * Properties: every invariant of the instance (plus `fatal` and `machine-assertion`) is an
 * `always` property, judged on the step that produced a state. Invariants keep incremental state,
 * so for each step a fresh set is built and primed with what it would have seen: every node's last
 * observed state and the history so far; the contract for explorer invariants is that they depend
 * on nothing else. The checkers are `final` properties, run on the history of terminal states (and
 * of states cut at the depth bound, marked truncated so liveness does not judge them), or of every
 * state with `checkers: 'every'`. `done` becomes a `sometimes` property: a model in which the
 * workload can never complete is vacuous.
 *
 * History times are logical: the index of the event in the history when untimed, the clock when
 * timed. Checkers only compare them, and a pending operation at a terminal state counts as never
 * completing (the run is quiescent).
 */
import { AssertionFailure, assert, assertNever, InputError } from '../../src/core/assert.ts';
import type { Ctx, Effect, Input, Machine, NodeId } from '../../src/core/contract.ts';
import { Hash64, hashValue, strHash32 } from '../../src/core/hash.ts';
import type { FinishedRun, HistoryEvent, NodeSpec, SystemDef, SystemInstance, Violation, WorldView } from '../../src/core/system.ts';
import { cloneState } from './clone.ts';
import type { Fp, Model, Property, TraceAdapter } from './model.ts';

export interface WorldOptions {
  /** Fault budget: at most this many crashes, restarts, dropped and duplicated messages. */
  readonly crashes: number;
  readonly restarts: number;
  readonly drops: number;
  readonly duplicates: number;
  /** How many `ctx.maybe` choices may come out true along a path (e.g. injected function crashes). */
  readonly maybes: number;
  readonly inFlight: 'set' | 'multiset';
  /** Multiset only: a step that would leave more messages in flight than this is disabled. */
  readonly inFlightMax: number;
  /**
   * Nodes whose links, both ways, deliver in send order, like the simulator's `fifo` links (TCP
   * sessions): only the oldest message in flight on such a link can be delivered. For protocols
   * that rely on in-order sessions (a ZooKeeper client takes any out-of-order reply as a lost
   * connection and re-reads everything); other links stay unordered.
   */
  readonly fifo: readonly string[];
  readonly timers: 'unordered' | 'duration' | 'quiescent';
  /**
   * With quiescent timers: how many times along a path a timer may fire while messages are in
   * flight anyway (a premature timeout, counted like a fault).
   */
  readonly earlyTimers: number;
  /**
   * Timers that fire at any moment whatever the timer mode, as "<node>:<name prefix>" (node may
   * be "*"): a workload driver's think times are pacing, not timeouts.
   */
  readonly freeTimers: readonly string[];
  /** 0: untimed. Otherwise each step advances the clock by this much. */
  readonly timeStepUs: number;
  readonly maybe: 'branch' | 'never';
  /** randomU32 labels (bare, or "<node>:<label>") that branch over the listed values. */
  readonly branchRandom: Readonly<Record<string, readonly number[]>>;
  /** Groups of interchangeable node ids, for symmetry reduction. */
  readonly symmetry: readonly (readonly string[])[];
  readonly checkers: 'terminal' | 'every';
  /** Cache checker verdicts by history alone (sound when checkers read only the history). */
  readonly checkerCache: 'history' | 'state';
  /** Crashes may keep any prefix of the unsynced writes, or always lose them all. */
  readonly unsyncedLoss: 'prefixes' | 'all';
  /** May drop and duplicate faults hit messages to and from workload drivers? */
  readonly faultDriverLinks: boolean;
  /**
   * Every invariant judges the stepping node alone (true of `replica-timestamp-monotonic`): steps
   * of different nodes then commute, and partial-order reduction is sound.
   */
  readonly localInvariants: boolean;
  /** Step every input twice on separate copies and demand identical results. */
  readonly checks: boolean;
  /**
   * A state where the system's `done` holds ends the run, as in the simulator (outcome 'done'):
   * it has no actions, so it is terminal, and its checkers judge a run that was stopped, not a
   * quiescent one (liveness judges nothing pending as "never completes"). For systems whose
   * background work (heartbeats, repair timers) never falls silent, so no state is otherwise
   * terminal.
   */
  readonly stopAtDone: boolean;
}

export const DEFAULT_WORLD_OPTIONS: WorldOptions = {
  crashes: 0,
  restarts: 0,
  drops: 0,
  duplicates: 0,
  maybes: 1_000_000,
  inFlight: 'set',
  inFlightMax: 64,
  fifo: [],
  timers: 'unordered',
  earlyTimers: 0,
  freeTimers: [],
  timeStepUs: 0,
  maybe: 'branch',
  branchRandom: {},
  symmetry: [],
  checkers: 'terminal',
  checkerCache: 'state',
  unsyncedLoss: 'prefixes',
  faultDriverLinks: false,
  localInvariants: false,
  checks: false,
  stopAtDone: false,
};

const CHOICES_MAX = 64;
const PERMUTATIONS_MAX = 40_320;

// ---------------------------------------------------------------------------------------------
// World state

const PKT_MSG = 0;
const PKT_REQ = 1;
const PKT_REP = 2;

/** A message in flight. Immutable and shared between worlds. */
export interface Packet {
  readonly kind: number;
  readonly from: number;
  readonly to: number;
  readonly reqId: string;
  readonly body: unknown;
  /** Digest of the body alone, so a permutation that leaves the body alone reuses it. */
  readonly b0: number;
  readonly b1: number;
  readonly h0: number;
  readonly h1: number;
  /** Hash lanes under each symmetry permutation, filled lazily. */
  sym?: Int32Array;
  /** Whether the body names an interchangeable node (0 unknown, 1 no, 2 yes). */
  names?: number;
  /** The hash as 16 hex digits, filled lazily (action keys). */
  hex?: string;
  /** On a FIFO link: the send order (only its rank among the link's messages is state). */
  readonly ord?: number;
}

interface ArmedTimer {
  readonly name: string;
  readonly delayUs: number;
  readonly deadlineUs: number;
}

interface PendingWrite {
  readonly key: string;
  readonly value: unknown;
}

/** One node. Immutable and shared between worlds until the node changes. */
export interface Slot {
  readonly up: boolean;
  readonly halted: boolean;
  readonly state: unknown;
  readonly synced: ReadonlyMap<string, unknown>;
  readonly pending: readonly PendingWrite[];
  readonly timers: readonly ArmedTimer[];
  /** For a crashed node, the state it had when it went down (what invariants last observed). */
  readonly lastUp: unknown;
  readonly h0: number;
  readonly h1: number;
  sym?: Int32Array;
  /** Whether the slot names an interchangeable node (0 unknown, 1 no, 2 yes). */
  names?: number;
}

/** The history as a shared list, newest first, with a running hash. */
interface Hist {
  readonly ev: HistoryEvent;
  readonly prev: Hist | null;
  readonly len: number;
  /** Digest of the event alone. */
  readonly e0: number;
  readonly e1: number;
  /** Running hash of the history up to and including this event. */
  readonly h0: number;
  readonly h1: number;
  sym?: Int32Array;
  names?: number;
}

/** How a world was reached, for traces. Not part of the state. */
export interface Via {
  readonly kind: 'step' | 'crash' | 'restart' | 'drop' | 'duplicate';
  readonly node: number;
  readonly input: Input | null;
  readonly effects: readonly Effect[];
  readonly events: readonly HistoryEvent[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface World {
  readonly slots: readonly Slot[];
  /** Sorted by hash: the canonical order of the set (or multiset). */
  readonly net: readonly Packet[];
  /** Left of the budget: crashes, restarts, drops, duplicates, true maybes, early timers. */
  readonly budget: readonly number[];
  readonly hist: Hist | null;
  readonly nowUs: number;
  /** The invariant the step into this world violated, if any. */
  readonly violation: Violation | null;
  readonly h0: number;
  readonly h1: number;
  readonly via: Via | null;
  /** The history as an array, built on first use. */
  histArray?: readonly HistoryEvent[];
}

// ---------------------------------------------------------------------------------------------
// Actions

export const A_DELIVER = 0;
export const A_TIMER = 1;
export const A_CRASH = 2;
export const A_RESTART = 3;
export const A_DROP = 4;
export const A_DUP = 5;

/** What a step touched, recorded by `next` for partial-order reduction. */
interface StepInfo {
  readonly node: number;
  readonly fault: boolean;
  readonly wroteHistory: boolean;
  /** Hash key of the packet the step consumed, or null. */
  readonly consumed: string | null;
  /** Hash keys of the packets it sent. */
  readonly sent: readonly string[];
}

export interface WAction {
  readonly k: number;
  readonly node: number;
  readonly pkt: Packet | null;
  readonly name: string;
  readonly keep: number;
  readonly choices: readonly number[];
  readonly key: string;
  info: StepInfo | null;
}

function bodyLanes(body: unknown): [number, number] {
  const bh = new Hash64(0x62);
  hashValue(bh, body);
  return bh.finish();
}

function packetLanes(kind: number, from: number, to: number, reqId: string, b0: number, b1: number): [number, number] {
  return new Hash64(0x70).u32(kind).u32(from).u32(to).str(reqId).u32(b0).u32(b1).finish();
}

function hex(h0: number, h1: number): string {
  return (h0 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

/** The key of the packet a send effect creates (its content hash), as action keys name it. */
function packetKey(kind: number, from: number, to: number, reqId: string, body: unknown): string {
  const [b0, b1] = bodyLanes(body);
  const [h0, h1] = packetLanes(kind, from, to, reqId, b0, b1);
  return hex(h0, h1);
}

function pktKey(p: Packet): string {
  return (p.hex ??= hex(p.h0, p.h1));
}

function cmpPkt(a: Packet, b: Packet): number {
  return (a.h0 >>> 0) - (b.h0 >>> 0) || (a.h1 >>> 0) - (b.h1 >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Choices inside a step

/** A path that asks a step for a choice it does not offer: the model changed, not the machine. */
export class ChoiceError extends AssertionFailure {}

/**
 * The context a machine steps with. Branching choices answer from a forced prefix, then take
 * option 0 and record how many options there were, so the caller can fork the others.
 */
class ChoiceCtx implements Ctx {
  readonly answers: number[] = [];
  readonly arities: number[] = [];
  /** How many maybe choices came out true. */
  maybesUsed = 0;
  private draws = 0;
  constructor(
    readonly self: NodeId,
    readonly nowUs: number,
    private readonly forced: readonly number[],
    readonly seedA: number,
    readonly seedB: number,
    private readonly maybesLeft: number,
    private readonly m: SystemModel,
  ) {}
  private choose(arity: number, label: string): number {
    const j = this.answers.length;
    if (j >= CHOICES_MAX) throw new ChoiceError(`${this.self}: more than ${CHOICES_MAX} branching choices in one step (${label})`);
    const v = j < this.forced.length ? this.forced[j]! : 0;
    if (v >= arity) throw new ChoiceError(`${this.self}: choice ${j} (${label}) has ${arity} options, the path asks for option ${v}`);
    this.answers.push(v);
    this.arities.push(arity);
    return v;
  }
  maybe(label: string, p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new AssertionFailure(`ctx.maybe(${label}): probability ${p} outside [0, 1]`);
    if (p === 0) return false;
    if (p === 1) return true;
    if (this.m.opts.maybe === 'never' || this.maybesUsed >= this.maybesLeft) return false;
    const yes = this.choose(2, label) === 1;
    if (yes) this.maybesUsed++;
    return yes;
  }
  randomU32(label: string): number {
    const values = this.m.branchValues(this.self, label);
    if (values !== null) return values[this.choose(values.length, label)]!;
    const h = new Hash64(this.seedA).u32(this.seedB).u32(strHash32(label)).u32(this.draws++);
    return h.finish()[0] >>> 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The model

export interface SystemModelArgs {
  /** The model's name (a preset such as `register`, or `system:<name>`). */
  readonly name: string;
  readonly def: SystemDef<any>;
  readonly params: Readonly<Record<string, unknown>>;
  readonly variant: string | null;
  readonly options: WorldOptions;
  /** Everything needed to rebuild this model, for trace headers. */
  readonly rebuild: Readonly<Record<string, unknown>>;
}

type Draft = {
  slots: Slot[];
  net: Packet[];
  budget: number[];
  hist: Hist | null;
  nowUs: number;
  violation: Violation | null;
  events: HistoryEvent[];
  sent: string[];
  netChanged: boolean;
  disabled: boolean;
};

export class SystemModel implements Model<World, WAction> {
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly opts: WorldOptions;
  readonly instance: SystemInstance;
  readonly specs: readonly NodeSpec[];
  readonly properties: readonly Property<World>[];
  readonly symmetry: Model<World, WAction>['symmetry'];
  readonly trace: TraceAdapter<World, WAction>;
  private readonly def: SystemDef<any>;
  private readonly variant: string | null;
  private readonly sysParams: Readonly<Record<string, unknown>>;
  private readonly index = new Map<NodeId, number>();
  private readonly faultable: readonly boolean[];
  private readonly perms: readonly { readonly order: Int32Array; readonly rename: ReadonlyMap<string, string> }[];
  /** Index of each permutation in `perms`, by its order joined with commas. */
  private readonly permIndex = new Map<string, number>();
  /** Node indices of each symmetry group, ascending. */
  private readonly groupIdx: readonly (readonly number[])[];
  /** Every node id in some symmetry group. */
  private readonly symIds: ReadonlySet<string>;
  private readonly checkerCache = new Map<string, string | null>();
  private readonly branch: ReadonlyMap<string, readonly number[]>;
  private readonly timed: boolean;
  private readonly fifoNode: readonly boolean[];
  independent?: (a: WAction, b: WAction) => boolean;

  constructor(args: SystemModelArgs) {
    this.name = args.name;
    this.def = args.def;
    this.variant = args.variant;
    this.sysParams = args.params;
    this.opts = args.options;
    this.params = args.rebuild;
    this.timed = args.options.timeStepUs > 0;
    this.instance = args.def.build(args.params as never, args.variant);
    this.specs = this.instance.nodes;
    assert(this.specs.length > 0 && this.specs.length <= 256, 'the explorer handles 1 to 256 nodes');
    this.specs.forEach((s, i) => {
      assert(!this.index.has(s.id), `duplicate node id ${s.id}`);
      this.index.set(s.id, i);
    });
    this.faultable = this.specs.map((s) => !(s.driver ?? false) && (s.faultable ?? true));
    this.branch = new Map(Object.entries(args.options.branchRandom));
    for (const [label, vals] of this.branch) {
      if (vals.length === 0 || vals.length > 256) throw new InputError(`branchRandom.${label}: give 1 to 256 values`);
    }
    for (const f of args.options.freeTimers) {
      if (typeof f !== 'string' || !f.includes(':')) throw new InputError(`freeTimers: expected "<node>:<timer name prefix>" entries, got ${JSON.stringify(f)}`);
    }
    this.fifoNode = this.specs.map((s) => args.options.fifo.includes(s.id));
    for (const id of args.options.fifo) if (!this.index.has(id)) throw new InputError(`fifo: unknown node '${id}' (nodes: ${this.specs.map((s) => s.id).join(', ')})`);
    if (args.options.fifo.length > 0 && args.options.symmetry.length > 0) throw new InputError('fifo links and symmetry reduction cannot be combined');
    this.perms = this.buildPermutations(args.options.symmetry);
    this.perms.forEach((p, i) => this.permIndex.set(p.order.join(','), i));
    this.groupIdx = args.options.symmetry.map((g) => g.map((id) => this.index.get(id)!).sort((a, b) => a - b));
    this.symIds = new Set(args.options.symmetry.flat());
    this.properties = this.buildProperties();
    this.symmetry =
      this.perms.length > 1
        ? { name: args.options.symmetry.map((g) => `{${g.join(', ')}}`).join(' x '), canonicalFingerprint: (w, out) => this.canonicalFp(w, out) }
        : null;
    if (args.options.localInvariants && !this.timed) this.independent = (a, b) => this.commute(a, b);
    this.trace = worldTrace(this);
  }

  // -------------------------------------------------------------------------------------------
  // Model interface

  initStates(): readonly World[] {
    const n = this.specs.length;
    const slots: Slot[] = this.specs.map((spec) => this.mkSlot(true, false, spec.machine.init(spec.config, spec.id), new Map(), [], [], undefined));
    const budget = [this.opts.crashes, this.opts.restarts, this.opts.drops, this.opts.duplicates, this.opts.maybes, this.opts.earlyTimers];
    let worlds: World[] = [this.finishWorld({ slots, net: [], budget, hist: null, nowUs: 0, violation: null, events: [], sent: [], netChanged: false, disabled: false }, null)];
    // Boot every node in index order, as the simulator does at time 0; a start step that branches
    // gives several initial worlds.
    for (let i = 0; i < n; i++) {
      const next: World[] = [];
      for (const w of worlds) {
        const base = this.mkAction(A_TIMER, i, null, '', 0, []);
        const pending: WAction[] = [base];
        for (let j = 0; j < pending.length; j++) {
          const r = this.stepNode(w, i, { type: 'start' }, pending[j]!, pending, null);
          if (r !== null) next.push(r);
        }
      }
      worlds = next.map((w) => ({ ...w, via: null }));
    }
    return worlds;
  }

  actions(w: World, out: WAction[]): void {
    if (w.violation !== null) return;
    if (this.stoppedAtDone(w)) return;
    const slots = w.slots;
    const net = w.net;
    for (let i = 0; i < net.length; i++) {
      const p = net[i]!;
      if (i > 0 && cmpPkt(net[i - 1]!, p) === 0) continue; // identical copies: one action
      if (!fifoHead(net, p)) continue;
      out.push(this.mkAction(A_DELIVER, p.to, p, '', 0, []));
    }
    const held = this.opts.timers === 'quiescent' && net.length > 0 && w.budget[5]! <= 0;
    for (let n = 0; n < slots.length; n++) {
      const s = slots[n]!;
      if (!s.up || s.halted) continue;
      const ts = s.timers;
      for (let j = 0; j < ts.length; j++) {
        const free = this.isFreeTimer(n, ts[j]!.name);
        if (held && !free) continue;
        if (!free && this.opts.timers === 'duration' && earlierNotLonger(ts, j)) continue;
        out.push(this.mkAction(A_TIMER, n, null, ts[j]!.name, 0, []));
      }
    }
    const b = w.budget;
    for (let n = 0; n < slots.length; n++) {
      const s = slots[n]!;
      if (!this.faultable[n] || s.halted) continue;
      if (s.up && b[0]! > 0) {
        const lo = this.opts.unsyncedLoss === 'all' ? 0 : s.pending.length;
        for (let keep = lo; keep >= 0; keep--) out.push(this.mkAction(A_CRASH, n, null, '', keep, []));
      }
      if (!s.up && b[1]! > 0) out.push(this.mkAction(A_RESTART, n, null, '', 0, []));
    }
    if (b[2]! > 0 || b[3]! > 0) {
      for (let i = 0; i < net.length; i++) {
        const p = net[i]!;
        if (i > 0 && cmpPkt(net[i - 1]!, p) === 0) continue;
        if (!this.opts.faultDriverLinks && (p.kind !== PKT_MSG || this.specs[p.from]!.driver || this.specs[p.to]!.driver)) continue;
        if (b[2]! > 0) out.push(this.mkAction(A_DROP, p.to, p, '', 0, []));
        if (b[3]! > 0 && fifoHead(net, p)) out.push(this.mkAction(A_DUP, p.to, p, '', 0, []));
      }
    }
  }

  next(w: World, a: WAction, forks: WAction[] | null): World | null {
    switch (a.k) {
      case A_DELIVER:
      case A_DUP: {
        const i = findPacket(w.net, a.pkt!);
        if (i < 0 || !fifoHead(w.net, w.net[i]!)) return null;
        if (a.k === A_DUP && w.budget[3]! <= 0) return null;
        const p = w.net[i]!;
        const input: Input =
          p.kind === PKT_MSG
            ? { type: 'message', from: this.specs[p.from]!.id, msg: p.body }
            : p.kind === PKT_REQ
              ? { type: 'client', reqId: p.reqId, body: p.body }
              : { type: 'response', reqId: p.reqId, from: this.specs[p.from]!.id, body: p.body };
        return this.stepNode(w, p.to, input, a, forks, a.k === A_DELIVER ? p : null);
      }
      case A_TIMER: {
        const s = w.slots[a.node]!;
        if (!s.up || s.halted || !s.timers.some((t) => t.name === a.name)) return null;
        const early = this.opts.timers === 'quiescent' && w.net.length > 0 && !this.isFreeTimer(a.node, a.name);
        if (early && w.budget[5]! <= 0) return null;
        return this.stepNode(w, a.node, { type: 'timer', timer: a.name }, a, forks, null, w, [], early);
      }
      case A_CRASH:
        return this.crash(w, a);
      case A_RESTART:
        return this.restart(w, a, forks);
      case A_DROP:
        return this.drop(w, a);
      default:
        throw new AssertionFailure(`unknown explorer action kind ${a.k}`);
    }
  }

  fingerprint(w: World, out: Fp): void {
    out[0] = w.h0;
    out[1] = w.h1;
  }

  isFault(a: WAction): boolean {
    return a.k === A_CRASH || a.k === A_RESTART || a.k === A_DROP || a.k === A_DUP;
  }

  thread(a: WAction): number {
    return this.isFault(a) ? this.specs.length : a.node;
  }

  actionKey(a: WAction): string {
    return a.key;
  }

  describeAction(a: WAction, w: World): string {
    const id = (n: number) => this.specs[n]!.id;
    const pkt = (p: Packet) => {
      const body = p.kind === PKT_MSG ? (p.body as { type?: unknown })?.type ?? 'message' : p.kind === PKT_REQ ? `request ${p.reqId}` : `response ${p.reqId}`;
      return `${String(body)} ${id(p.from)}->${id(p.to)}`;
    };
    const ch = a.choices.length > 0 ? ` [choices ${a.choices.join('.')}]` : '';
    switch (a.k) {
      case A_DELIVER:
        return `deliver ${pkt(a.pkt!)}${ch}`;
      case A_DUP:
        return `duplicate ${pkt(a.pkt!)} (delivered, and a copy stays in flight)${ch}`;
      case A_DROP:
        return `drop ${pkt(a.pkt!)}`;
      case A_TIMER:
        return `timer ${a.name} fires at ${id(a.node)}${ch}`;
      case A_CRASH: {
        const lost = w.slots[a.node]!.pending.length - a.keep;
        return `crash ${id(a.node)}${lost > 0 ? ` (${lost} unsynced write${lost > 1 ? 's' : ''} lost)` : ''}`;
      }
      case A_RESTART:
        return `restart ${id(a.node)}${ch}`;
      default:
        return `action ${a.k}`;
    }
  }

  describeState(w: World): unknown {
    return {
      nodes: Object.fromEntries(w.slots.map((s, i) => [this.specs[i]!.id, s.up ? s.state : s.halted ? 'halted' : 'down'])),
      inFlight: w.net.map((p) => ({ from: this.specs[p.from]!.id, to: this.specs[p.to]!.id, ...(p.kind === PKT_MSG ? { msg: p.body } : { reqId: p.reqId, body: p.body }) })),
      budget: { crashes: w.budget[0], restarts: w.budget[1], drops: w.budget[2], duplicates: w.budget[3], maybes: w.budget[4], earlyTimers: w.budget[5] },
      history: this.history(w).length,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Steps

  private isFreeTimer(n: number, name: string): boolean {
    const free = this.opts.freeTimers;
    if (free.length === 0) return false;
    const id = this.specs[n]!.id;
    for (const f of free) {
      const i = f.indexOf(':');
      const node = f.slice(0, i);
      if ((node === '*' || node === id) && name.startsWith(f.slice(i + 1))) return true;
    }
    return false;
  }

  indexOf(id: NodeId): number {
    const i = this.index.get(id);
    if (i === undefined) throw new AssertionFailure(`unknown node ${id}`);
    return i;
  }

  branchValues(self: NodeId, label: string): readonly number[] | null {
    if (this.branch.size === 0) return null;
    return this.branch.get(`${self}:${label}`) ?? this.branch.get(label) ?? null;
  }

  private mkAction(k: number, node: number, pkt: Packet | null, name: string, keep: number, choices: readonly number[]): WAction {
    const id = this.specs[node]!.id;
    let key: string;
    switch (k) {
      case A_DELIVER:
        key = `deliver ${pktKey(pkt!)}`;
        break;
      case A_DUP:
        key = `duplicate ${pktKey(pkt!)}`;
        break;
      case A_DROP:
        key = `drop ${pktKey(pkt!)}`;
        break;
      case A_TIMER:
        key = `timer ${id} ${name}`;
        break;
      case A_CRASH:
        key = `crash ${id} keep ${keep}`;
        break;
      case A_RESTART:
        key = `restart ${id}`;
        break;
      default:
        throw new AssertionFailure(`unknown explorer action kind ${k}`);
    }
    if (choices.length > 0) key += `#${choices.join('.')}`;
    return { k, node, pkt, name, keep, choices, key, info: null };
  }

  private draft(w: World): Draft {
    return { slots: w.slots.slice(), net: w.net as Packet[], budget: w.budget.slice(), hist: w.hist, nowUs: w.nowUs, violation: null, events: [], sent: [], netChanged: false, disabled: false };
  }

  private netOf(d: Draft): Packet[] {
    if (!d.netChanged) {
      d.net = d.net.slice();
      d.netChanged = true;
    }
    return d.net;
  }

  private removePacket(d: Draft, p: Packet): void {
    const net = this.netOf(d);
    const i = findPacket(net, p);
    assert(i >= 0, 'removing a packet that is not in flight');
    net.splice(i, 1);
  }

  private addPacket(d: Draft, kind: number, from: number, to: number, reqId: string, body: unknown): void {
    const t = d.slots[to]!;
    if (!t.up || t.halted) return; // links to a down node are broken: the message is lost
    const [b0, b1] = bodyLanes(body);
    const [h0, h1] = packetLanes(kind, from, to, reqId, b0, b1);
    const net = this.netOf(d);
    let ord: number | undefined;
    if (this.fifoNode[from] || this.fifoNode[to]) {
      ord = 0;
      for (const q of net) if (q.from === from && q.to === to && q.ord! >= ord) ord = q.ord! + 1;
    }
    const p: Packet = ord === undefined ? { kind, from, to, reqId, body, b0, b1, h0, h1 } : { kind, from, to, reqId, body, b0, b1, h0, h1, ord };
    let lo = 0;
    let hi = net.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpPkt(net[mid]!, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (this.opts.inFlight === 'set' && lo < net.length && cmpPkt(net[lo]!, p) === 0) return;
    net.splice(lo, 0, p);
    d.sent.push(pktKey(p));
    if (net.length > this.opts.inFlightMax) d.disabled = true;
  }

  private appendHistory(d: Draft, ev: HistoryEvent): void {
    const prev = d.hist;
    const eh = new Hash64(0x65);
    hashValue(eh, ev);
    const [e0, e1] = eh.finish();
    const h = new Hash64(0x68);
    if (prev) h.u32(prev.h0).u32(prev.h1);
    const [h0, h1] = h.u32(e0).u32(e1).finish();
    d.hist = { ev, prev, len: (prev?.len ?? 0) + 1, e0, e1, h0, h1 };
    d.events.push(ev);
  }

  /** The time of the next history event: its index (untimed) or the clock. */
  private histT(d: Draft): number {
    return this.timed ? d.nowUs : (d.hist?.len ?? 0);
  }

  /**
   * One machine step of node `n` on `input`, forking the step's other branches into `forks`.
   * Invariants are primed from `primeFrom` plus `priorEvents` (a restart primes from the world
   * before the node came back, so they compare with the state it crashed with).
   */
  private stepNode(w: World, n: number, input: Input, a: WAction, forks: WAction[] | null, consume: Packet | null, primeFrom: World = w, priorEvents: readonly HistoryEvent[] = [], early = false): World | null {
    const d = this.draft(w);
    if (a.k === A_DUP) d.budget[3]!--;
    if (early) d.budget[5]!--;
    const spec = this.specs[n]!;
    const slot = w.slots[n]!;
    assert(slot.up && !slot.halted, 'only a running node steps');
    if (this.timed) d.nowUs = w.nowUs + this.opts.timeStepUs;
    let timers = slot.timers;
    if (input.type === 'timer') {
      const t = timers.find((x) => x.name === input.timer)!;
      if (this.timed && t.deadlineUs > d.nowUs) d.nowUs = t.deadlineUs;
      timers = timers.filter((x) => x.name !== input.timer);
    }
    if (consume !== null) this.removePacket(d, consume);
    if (input.type === 'response') {
      this.appendHistory(d, { kind: 'ret', t: this.histT(d), reqId: input.reqId, client: spec.id, node: input.from, body: input.body });
    }
    const salt = input.type === 'message' || input.type === 'client' || input.type === 'response' ? (a.pkt?.h0 ?? 0) : strHash32(input.type === 'timer' ? input.timer : input.type);
    const ctx = new ChoiceCtx(spec.id, this.timed ? d.nowUs : 0, a.choices, slot.h0 ^ salt, slot.h1, w.budget[4]!, this);
    let result: { state: unknown; effects: readonly Effect[] };
    try {
      result = this.opts.checks ? this.checkedStep(spec.machine, slot.state, input, ctx) : spec.machine.step(cloneState(slot.state), input, ctx);
    } catch (e) {
      if (e instanceof ChoiceError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      d.violation = { invariant: 'machine-assertion', message: `${spec.id} (${spec.role}) threw on ${input.type}: ${msg}`, node: spec.id };
      d.slots[n] = this.mkSlot(slot.up, true, slot.state, slot.synced, slot.pending, [], undefined);
      return this.finishWorld(d, { kind: 'step', node: n, input, effects: [], events: d.events, detail: { threw: msg } });
    }
    if (forks !== null) this.fork(a, ctx, forks);
    d.budget[4]! -= ctx.maybesUsed;
    const out = this.applyEffects(d, n, result.effects, timers);
    d.slots[n] = this.mkSlot(true, out.halted, result.state, out.synced, out.pending, out.timers, undefined);
    if (d.disabled) return null;
    a.info = { node: n, fault: a.k === A_DUP || early, wroteHistory: d.events.length > 0, consumed: consume ? pktKey(consume) : null, sent: d.sent };
    // A step that changes neither the node's state nor the history shows the invariants the very
    // observation they accepted before; there is nothing new to judge.
    const changed = d.slots[n]!.h0 !== slot.h0 || d.slots[n]!.h1 !== slot.h1 || d.events.length > 0 || priorEvents.length > 0 || primeFrom !== w;
    if (d.violation === null && changed) d.violation = this.checkInvariants(primeFrom, [...priorEvents, ...d.events], d, n);
    return this.finishWorld(d, { kind: a.k === A_DUP ? 'duplicate' : 'step', node: n, input, effects: result.effects, events: d.events, detail: {} });
  }

  /** Checks mode: two steps on separate copies with the same choices must agree. */
  private checkedStep(machine: Machine, state: unknown, input: Input, ctx: ChoiceCtx): { state: unknown; effects: readonly Effect[] } {
    const before = stateHash(state);
    const r1 = machine.step(cloneState(state), input, ctx);
    const echo = new ChoiceCtx(ctx.self, ctx.nowUs, ctx.answers.slice(), ctx.seedA, ctx.seedB, ctx.maybesUsed, this);
    const r2 = machine.step(cloneState(state), input, echo);
    if (stateHash(state) !== before) throw new AssertionFailure('a step mutated the state the explorer kept (checks mode)');
    if (stateHash(r1.state) !== stateHash(r2.state)) throw new AssertionFailure(`nondeterministic step: two runs of the same ${input.type} input gave different states`);
    if (stateHash(r1.effects) !== stateHash(r2.effects)) throw new AssertionFailure(`nondeterministic step: two runs of the same ${input.type} input gave different effects`);
    return r1;
  }

  private fork(a: WAction, ctx: ChoiceCtx, forks: WAction[]): void {
    for (let j = a.choices.length; j < ctx.arities.length; j++) {
      for (let v = 1; v < ctx.arities[j]!; v++) {
        const choices = [...ctx.answers.slice(0, j), v];
        forks.push(this.mkAction(a.k, a.node, a.pkt, a.name, a.keep, choices));
      }
    }
  }

  private applyEffects(d: Draft, n: number, effects: readonly Effect[], timers0: readonly ArmedTimer[]) {
    const spec = this.specs[n]!;
    const slot = d.slots[n]!;
    let timers = timers0;
    let synced = slot.synced;
    let pending = slot.pending;
    let halted = false;
    for (const e of effects) {
      switch (e.type) {
        case 'send': {
          const to = this.index.get(e.to);
          if (to === undefined) throw new AssertionFailure(`${spec.id} sent to unknown node ${e.to}`);
          this.addPacket(d, PKT_MSG, n, to, '', e.msg);
          break;
        }
        case 'setTimer':
          if (!(e.delayUs >= 0) || !Number.isFinite(e.delayUs)) throw new AssertionFailure(`${spec.id} set timer ${e.timer} with delay ${e.delayUs}`);
          timers = [...timers.filter((t) => t.name !== e.timer), { name: e.timer, delayUs: e.delayUs, deadlineUs: d.nowUs + e.delayUs }];
          break;
        case 'cancelTimer':
          if (timers.some((t) => t.name === e.timer)) timers = timers.filter((t) => t.name !== e.timer);
          break;
        case 'persist':
          if (e.sync) {
            const m = new Map(synced);
            for (const p of pending) applyWrite(m, p.key, p.value);
            applyWrite(m, e.key, e.value);
            synced = m;
            pending = [];
          } else pending = [...pending, { key: e.key, value: e.value }];
          break;
        case 'reply': {
          const origin = this.originIndex(d.hist, e.reqId);
          if (origin >= 0) this.addPacket(d, PKT_REP, n, origin, e.reqId, e.body);
          break;
        }
        case 'request': {
          if (!spec.driver) throw new AssertionFailure(`${spec.id} is not a workload driver but issued a request`);
          const to = this.index.get(e.to);
          if (to === undefined) throw new AssertionFailure(`${spec.id} sent a request to unknown node ${e.to}`);
          this.appendHistory(d, { kind: 'call', t: this.histT(d), reqId: e.reqId, client: spec.id, node: e.to, body: e.body });
          this.addPacket(d, PKT_REQ, n, to, e.reqId, e.body);
          break;
        }
        case 'record':
          this.appendHistory(d, { kind: 'record', t: this.histT(d), node: spec.id, event: e.event });
          break;
        case 'fatal':
          halted = true;
          timers = [];
          this.appendHistory(d, { kind: 'fatal', t: this.histT(d), node: spec.id, reason: e.reason });
          d.violation = { invariant: 'fatal', message: `${spec.id} (${spec.role}) reached a fatal state: ${e.reason}`, node: spec.id };
          return { timers, synced, pending, halted };
        default:
          assertNever(e, 'effect');
      }
    }
    return { timers, synced, pending, halted };
  }

  /** The driver that issued a request: the client of its call event. */
  originIndex(h: Hist | null, reqId: string): number {
    for (let x = h; x !== null; x = x.prev) {
      if (x.ev.kind === 'call' && x.ev.reqId === reqId) return this.index.get(x.ev.client) ?? -1;
    }
    return -1;
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  private crash(w: World, a: WAction): World | null {
    const s = w.slots[a.node]!;
    if (!s.up || s.halted || w.budget[0]! <= 0 || a.keep > s.pending.length) return null;
    const d = this.draft(w);
    d.budget[0]!--;
    const synced = new Map(s.synced);
    for (let i = 0; i < a.keep; i++) applyWrite(synced, s.pending[i]!.key, s.pending[i]!.value);
    d.slots[a.node] = this.mkSlot(false, false, undefined, synced, [], [], s.state);
    // The node's connections break: what was in flight to or from it is lost.
    if (w.net.some((p) => p.from === a.node || p.to === a.node)) {
      d.net = w.net.filter((p) => p.from !== a.node && p.to !== a.node);
      d.netChanged = true;
    }
    const lost = s.pending.length - a.keep;
    const id = this.specs[a.node]!.id;
    this.appendHistory(d, { kind: 'fault', t: this.histT(d), fault: { kind: 'crash', nodes: [id], detail: { unsyncedLost: lost } } });
    a.info = { node: a.node, fault: true, wroteHistory: true, consumed: null, sent: [] };
    return this.finishWorld(d, { kind: 'crash', node: a.node, input: null, effects: [], events: d.events, detail: { unsyncedLost: lost } });
  }

  private restart(w: World, a: WAction, forks: WAction[] | null): World | null {
    const s = w.slots[a.node]!;
    if (s.up || s.halted || w.budget[1]! <= 0) return null;
    const spec = this.specs[a.node]!;
    const d = this.draft(w);
    d.budget[1]!--;
    const id = spec.id;
    this.appendHistory(d, { kind: 'fault', t: this.histT(d), fault: { kind: 'restart', nodes: [id] } });
    const recovered = spec.machine.recover(spec.config, id, new Map(s.synced));
    d.slots[a.node] = this.mkSlot(true, false, recovered, s.synced, [], [], s.lastUp);
    const mid = this.finishWorld(d, null);
    const r = this.stepNode(mid, a.node, { type: 'restart' }, a, forks, null, w, d.events);
    if (r === null) return null;
    a.info = { node: a.node, fault: true, wroteHistory: true, consumed: null, sent: [] };
    const v = r.via!;
    return { ...r, via: { ...v, kind: 'restart', events: [...d.events, ...v.events] } };
  }

  private drop(w: World, a: WAction): World | null {
    if (w.budget[2]! <= 0 || findPacket(w.net, a.pkt!) < 0) return null;
    const d = this.draft(w);
    d.budget[2]!--;
    this.removePacket(d, a.pkt!);
    a.info = { node: a.node, fault: true, wroteHistory: false, consumed: pktKey(a.pkt!), sent: [] };
    return this.finishWorld(d, { kind: 'drop', node: a.node, input: null, effects: [], events: [], detail: { from: this.specs[a.pkt!.from]!.id, to: this.specs[a.pkt!.to]!.id } });
  }

  // -------------------------------------------------------------------------------------------
  // Hashing

  private mkSlot(up: boolean, halted: boolean, state: unknown, synced: ReadonlyMap<string, unknown>, pending: readonly PendingWrite[], timers: readonly ArmedTimer[], lastUp: unknown): Slot {
    const h = new Hash64(0x73);
    hashSlot(h, up, halted, state, synced, pending, timers, lastUp, this.timed, null);
    const [h0, h1] = h.finish();
    return { up, halted, state, synced, pending, timers, lastUp, h0, h1 };
  }

  private finishWorld(d: Draft, via: Via | null): World {
    const h = new Hash64(0x77);
    for (const s of d.slots) h.u32(s.h0).u32(s.h1);
    h.u32(d.net.length);
    for (const p of d.net) {
      h.u32(p.h0).u32(p.h1);
      if (p.ord !== undefined) h.u32(fifoRank(d.net, p));
    }
    for (const b of d.budget) h.u32(b);
    h.u32(d.hist?.h0 ?? 0).u32(d.hist?.h1 ?? 0);
    if (this.timed) h.num(d.nowUs);
    h.u32(d.violation === null ? 0 : 1);
    const [h0, h1] = h.finish();
    return { slots: d.slots, net: d.net, budget: d.budget, hist: d.hist, nowUs: d.nowUs, violation: d.violation, h0, h1, via };
  }

  private buildPermutations(groups: readonly (readonly string[])[]) {
    const n = this.specs.length;
    const seen = new Set<string>();
    for (const g of groups) {
      for (const id of g) {
        if (!this.index.has(id)) throw new InputError(`symmetry: unknown node '${id}' (nodes: ${this.specs.map((s) => s.id).join(', ')})`);
        if (seen.has(id)) throw new InputError(`symmetry: node '${id}' is in two groups`);
        seen.add(id);
      }
      const roles = new Set(g.map((id) => this.specs[this.index.get(id)!]!.role));
      if (roles.size > 1) throw new InputError(`symmetry: group {${g.join(', ')}} mixes roles (${[...roles].join(', ')})`);
    }
    // Every combination of one permutation per group.
    let perms: number[][] = [Array.from({ length: n }, (_, i) => i)];
    for (const g of groups) {
      const idx = g.map((id) => this.index.get(id)!);
      const out: number[][] = [];
      for (const base of perms) {
        for (const p of permutations(idx.length)) {
          const m = base.slice();
          for (let k = 0; k < idx.length; k++) m[idx[k]!] = base[idx[p[k]!]!]!;
          out.push(m);
        }
      }
      perms = out;
      if (perms.length > PERMUTATIONS_MAX) throw new InputError(`symmetry: more than ${PERMUTATIONS_MAX} permutations; declare smaller groups`);
    }
    return perms.map((order) => {
      const rename = new Map<string, string>();
      order.forEach((to, from) => {
        if (to !== from) rename.set(this.specs[from]!.id, this.specs[to]!.id);
      });
      return { order: Int32Array.from(order), rename };
    });
  }

  /**
   * The permutations worth trying: each group's members in the order of their own slot hashes,
   * and every order among members whose hashes tie. When a member's state names no member of its
   * group (true of register replicas), its slot hash is the same under every renaming, so sorting
   * by it picks the same representatives for every state of an orbit, and the least fingerprint
   * over the candidates is canonical. When it does name them, the result is still the fingerprint
   * of a permutation of the state (sound), just not always the same one per orbit.
   */
  private candidates(w: World): number[] {
    let partial: number[][] = [Array.from({ length: this.specs.length }, (_, i) => i)];
    const cmp = (x: number, y: number) => {
      const a = w.slots[x]!;
      const b = w.slots[y]!;
      return (a.h0 >>> 0) - (b.h0 >>> 0) || (a.h1 >>> 0) - (b.h1 >>> 0);
    };
    for (const g of this.groupIdx) {
      const sorted = g.slice().sort((x, y) => cmp(x, y) || x - y);
      let orders: number[][] = [[]];
      for (let k = 0; k < sorted.length; ) {
        let e = k + 1;
        while (e < sorted.length && cmp(sorted[k]!, sorted[e]!) === 0) e++;
        const tie = sorted.slice(k, e);
        const next: number[][] = [];
        for (const o of orders) for (const p of permutations(tie.length)) next.push([...o, ...p.map((i) => tie[i]!)]);
        orders = next;
        k = e;
      }
      const out: number[][] = [];
      for (const base of partial) {
        for (const ord of orders) {
          const m = base.slice();
          for (let k = 0; k < g.length; k++) m[ord[k]!] = g[k]!;
          out.push(m);
        }
      }
      partial = out;
    }
    return partial.map((m) => this.permIndex.get(m.join(','))!);
  }

  /** The least fingerprint over the candidate permutations of the interchangeable nodes. */
  private canonicalFp(w: World, out: Fp): void {
    let best0 = 0;
    let best1 = 0;
    let first = true;
    const slotLanes = new Int32Array(this.specs.length * 2);
    for (const pi of this.candidates(w)) {
      if (pi === 0) {
        if (first || (w.h0 >>> 0) < (best0 >>> 0) || (w.h0 === best0 && (w.h1 >>> 0) < (best1 >>> 0))) {
          best0 = w.h0;
          best1 = w.h1;
          first = false;
        }
        continue;
      }
      const perm = this.perms[pi]!;
      for (let i = 0; i < w.slots.length; i++) {
        const s = w.slots[i]!;
        const j = perm.order[i]!;
        // A slot that names no interchangeable node hashes the same under every renaming.
        s.names ??= slotNames(s, this.symIds) ? 2 : 1;
        if (s.names === 1) {
          slotLanes[j * 2] = s.h0;
          slotLanes[j * 2 + 1] = s.h1;
          continue;
        }
        const lanes = (s.sym ??= new Int32Array(this.perms.length * 2).fill(0));
        if (lanes[pi * 2] === 0 && lanes[pi * 2 + 1] === 0) {
          const h = new Hash64(0x73);
          hashSlot(h, s.up, s.halted, s.state, s.synced, s.pending, s.timers, s.lastUp, this.timed, perm.rename);
          const [a, b] = h.finish();
          lanes[pi * 2] = a;
          lanes[pi * 2 + 1] = b | (a === 0 && b === 0 ? 1 : 0);
        }
        slotLanes[j * 2] = lanes[pi * 2]!;
        slotLanes[j * 2 + 1] = lanes[pi * 2 + 1]!;
      }
      const h = new Hash64(0x77);
      for (let j = 0; j < w.slots.length; j++) h.u32(slotLanes[j * 2]!).u32(slotLanes[j * 2 + 1]!);
      h.u32(w.net.length);
      const pk = w.net.map((p) => this.packetUnder(p, pi)).sort((x, y) => (x[0]! >>> 0) - (y[0]! >>> 0) || (x[1]! >>> 0) - (y[1]! >>> 0));
      for (const [a, b] of pk) h.u32(a!).u32(b!);
      for (const b of w.budget) h.u32(b);
      const hl = this.histUnder(w.hist, pi);
      h.u32(hl[0]).u32(hl[1]);
      if (this.timed) h.num(w.nowUs);
      h.u32(w.violation === null ? 0 : 1);
      const [a, b] = h.finish();
      if (first || (a >>> 0) < (best0 >>> 0) || (a === best0 && (b >>> 0) < (best1 >>> 0))) {
        best0 = a;
        best1 = b;
        first = false;
      }
    }
    out[0] = best0;
    out[1] = best1;
  }

  private packetUnder(p: Packet, pi: number): Int32Array {
    const lanes = (p.sym ??= new Int32Array(this.perms.length * 2).fill(0));
    if (lanes[pi * 2] === 0 && lanes[pi * 2 + 1] === 0) {
      const perm = this.perms[pi]!;
      p.names ??= mentions(p.body, this.symIds, 0) ? 2 : 1;
      let b0 = p.b0;
      let b1 = p.b1;
      if (p.names === 2) {
        const bh = new Hash64(0x62);
        hashValue(bh, p.body, 0, perm.rename);
        [b0, b1] = bh.finish();
      }
      const [a, b] = new Hash64(0x70).u32(p.kind).u32(perm.order[p.from]!).u32(perm.order[p.to]!).str(perm.rename.get(p.reqId) ?? p.reqId).u32(b0).u32(b1).finish();
      lanes[pi * 2] = a;
      lanes[pi * 2 + 1] = b | (a === 0 && b === 0 ? 1 : 0);
    }
    return lanes.subarray(pi * 2, pi * 2 + 2);
  }

  private histUnder(x: Hist | null, pi: number): [number, number] {
    if (x === null) return [0, 0];
    const lanes = (x.sym ??= new Int32Array(this.perms.length * 2).fill(0));
    if (lanes[pi * 2] === 0 && lanes[pi * 2 + 1] === 0) {
      const prev = this.histUnder(x.prev, pi);
      x.names ??= mentions(x.ev, this.symIds, 0) ? 2 : 1;
      let e0 = x.e0;
      let e1 = x.e1;
      if (x.names === 2) {
        const eh = new Hash64(0x65);
        hashValue(eh, x.ev, 0, this.perms[pi]!.rename);
        [e0, e1] = eh.finish();
      }
      const h = new Hash64(0x68);
      if (x.prev) h.u32(prev[0]).u32(prev[1]);
      const [a, b] = h.u32(e0).u32(e1).finish();
      lanes[pi * 2] = a;
      lanes[pi * 2 + 1] = b | (a === 0 && b === 0 ? 1 : 0);
    }
    return [lanes[pi * 2]!, lanes[pi * 2 + 1]!];
  }

  // -------------------------------------------------------------------------------------------
  // Partial-order reduction

  private commute(a: WAction, b: WAction): boolean {
    const x = a.info;
    const y = b.info;
    if (x === null || y === null) return false;
    if (x.fault || y.fault) return false;
    if (x.node === y.node) return false;
    if (x.wroteHistory && y.wroteHistory) return false;
    if (this.opts.inFlight === 'set') {
      // Under set semantics a send of a message that the other step consumes does not commute.
      if (x.consumed !== null && y.sent.includes(x.consumed)) return false;
      if (y.consumed !== null && x.sent.includes(y.consumed)) return false;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Properties

  history(w: World): readonly HistoryEvent[] {
    if (w.histArray !== undefined) return w.histArray;
    const out: HistoryEvent[] = new Array(w.hist?.len ?? 0);
    let i = out.length - 1;
    for (let x = w.hist; x !== null; x = x.prev) out[i--] = x.ev;
    w.histArray = out;
    return out;
  }

  view(w: World, last = false): WorldView {
    return new ExploreView(this, w, last);
  }

  private buildProperties(): Property<World>[] {
    const props: Property<World>[] = [];
    const names = ['machine-assertion', 'fatal', ...this.instance.invariants.map((i) => i.name)];
    for (const name of [...new Set(names)]) {
      props.push({ kind: 'always', name, check: (w) => (w.violation !== null && w.violation.invariant === name ? w.violation.message : null) });
    }
    this.instance.checkers.forEach((c, ci) => {
      props.push({ kind: 'final', name: c.name, check: (w, truncated) => this.runChecker(ci, w, truncated) });
      // In every state, the history so far is judged as a run cut short (liveness abstains).
      if (this.opts.checkers === 'every') props.push({ kind: 'always', name: `${c.name} (every state)`, check: (w) => this.runChecker(ci, w, true) });
    });
    const done = this.instance.done;
    if (done) props.push({ kind: 'sometimes', name: 'workload completes', holds: (w) => w.violation === null && done(this.view(w)) });
    return props;
  }

  /** With `stopAtDone`: does the run end at this state? */
  private stoppedAtDone(w: World): boolean {
    const done = this.instance.done;
    return this.opts.stopAtDone && done !== undefined && done(this.view(w));
  }

  private runChecker(ci: number, w: World, truncated: boolean): string | null {
    const key = `${ci}:${truncated ? 1 : 0}:${this.opts.checkerCache === 'history' ? `${w.hist?.h0 ?? 0}:${w.hist?.h1 ?? 0}` : `${w.h0}:${w.h1}`}`;
    const cached = this.checkerCache.get(key);
    if (cached !== undefined) return cached;
    const history = this.history(w);
    let lastFault = -1;
    for (const ev of history) if (ev.kind === 'fault') lastFault = ev.t;
    const run: FinishedRun = {
      history,
      view: this.view(w),
      endUs: this.timed ? w.nowUs : history.length,
      lastFaultUs: lastFault,
      truncated,
      quiescent: !truncated && !this.stoppedAtDone(w),
    };
    const vs = this.instance.checkers[ci]!.check(run);
    const msg = vs.length === 0 ? null : `${vs[0]!.invariant}: ${vs[0]!.message}`;
    if (this.checkerCache.size > 1_000_000) this.checkerCache.clear();
    this.checkerCache.set(key, msg);
    return msg;
  }

  /**
   * Judges the invariants on the step that took node `n` from world `w` to draft `d`: a fresh set
   * is primed with every node's last observed state and the history before the step, then sees
   * the step's history events and the node's new state.
   */
  private checkInvariants(w: World, events: readonly HistoryEvent[], d: Draft, n: number): Violation | null {
    if (this.instance.invariants.length === 0) return null;
    const fresh = this.def.build(this.sysParams as never, this.variant).invariants;
    const before = this.view(w, true);
    for (const inv of fresh) {
      if (inv.afterStep) for (let m = 0; m < w.slots.length; m++) if (before.isUp(this.specs[m]!.id)) inv.afterStep(before, this.specs[m]!.id);
      if (inv.onHistory) for (const ev of this.history(w)) inv.onHistory(ev, before);
    }
    const after = this.view({ slots: d.slots, net: d.net, budget: d.budget, hist: d.hist, nowUs: d.nowUs, violation: null, h0: 0, h1: 0, via: null });
    const id = this.specs[n]!.id;
    for (const inv of fresh) {
      if (inv.onHistory) {
        for (const ev of events) {
          const m = inv.onHistory(ev, after);
          if (m !== null) return { invariant: inv.name, message: m, node: id };
        }
      }
      if (inv.afterStep) {
        const m = inv.afterStep(after, id);
        if (m !== null) return { invariant: inv.name, message: m, node: id };
      }
    }
    return null;
  }
}

/** A read-only view of a world for invariants and checkers. With `last`, crashed nodes show the state they went down with. */
class ExploreView implements WorldView {
  constructor(
    private readonly m: SystemModel,
    private readonly w: World,
    private readonly last: boolean,
  ) {}
  get nowUs(): number {
    return this.w.nowUs;
  }
  get eventIndex(): number {
    return this.w.hist?.len ?? 0;
  }
  get history(): readonly HistoryEvent[] {
    return this.m.history(this.w);
  }
  get lastFaultUs(): number {
    for (let x = this.w.hist; x !== null; x = x.prev) if (x.ev.kind === 'fault') return x.ev.t;
    return -1;
  }
  nodeIds(): readonly NodeId[] {
    return this.m.specs.map((s) => s.id);
  }
  private slot(id: NodeId): Slot {
    return this.w.slots[this.m.indexOf(id)]!;
  }
  role(id: NodeId): string {
    return this.m.specs[this.m.indexOf(id)]!.role;
  }
  isUp(id: NodeId): boolean {
    const s = this.slot(id);
    if (this.last) return s.up ? !s.halted : s.lastUp !== undefined;
    return s.up && !s.halted;
  }
  state(id: NodeId): unknown {
    const s = this.slot(id);
    return this.last && !s.up ? s.lastUp : s.state;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function applyWrite(m: Map<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) m.delete(key);
  else m.set(key, value);
}

/** Is `p` deliverable under FIFO order: no older message in flight on its link? */
function fifoHead(net: readonly Packet[], p: Packet): boolean {
  return p.ord === undefined || fifoRank(net, p) === 0;
}

/** How many messages in flight on `p`'s FIFO link are older than `p`. */
function fifoRank(net: readonly Packet[], p: Packet): number {
  let r = 0;
  for (const q of net) if (q.from === p.from && q.to === p.to && q.ord !== undefined && q.ord < p.ord!) r++;
  return r;
}

function findPacket(net: readonly Packet[], p: Packet): number {
  let lo = 0;
  let hi = net.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmpPkt(net[mid]!, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < net.length && cmpPkt(net[lo]!, p) === 0 ? lo : -1;
}

/** DSLabs' timer order: a timer waits for every timer armed before it with no longer a delay. */
function earlierNotLonger(ts: readonly ArmedTimer[], j: number): boolean {
  for (let i = 0; i < j; i++) if (ts[i]!.delayUs <= ts[j]!.delayUs) return true;
  return false;
}

function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  yield a.slice();
  // Heap's algorithm.
  const c = new Array<number>(n).fill(0);
  let i = 0;
  while (i < n) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      yield a.slice();
      c[i]!++;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

/** A machine state's canonical hash; the immutable `cfg` it carries is left out. */
function hashState(h: Hash64, state: unknown, rename: ReadonlyMap<string, string> | null): void {
  if (typeof state === 'object' && state !== null && !Array.isArray(state) && !(state instanceof Map) && !(state instanceof Set) && 'cfg' in state) {
    const keys = Object.keys(state).filter((k) => k !== 'cfg');
    const sorted = rename === null ? keys.sort() : keys.map((k) => [rename.get(k) ?? k, k] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map((x) => x[1]);
    h.u32(21).u32(sorted.length);
    for (const k of sorted) {
      h.str(rename?.get(k) ?? k);
      hashValue(h, (state as Record<string, unknown>)[k], 1, rename);
    }
    return;
  }
  hashValue(h, state, 0, rename);
}

/** Does a plain-data value contain one of `ids` as a string (a value, an object key, a Map key)? */
function mentions(v: unknown, ids: ReadonlySet<string>, depth: number): boolean {
  if (typeof v === 'string') return ids.has(v);
  if (typeof v !== 'object' || v === null || depth > 64) return false;
  if (Array.isArray(v)) return v.some((x) => mentions(x, ids, depth + 1));
  if (v instanceof Map) {
    for (const [k, x] of v) if (mentions(k, ids, depth + 1) || mentions(x, ids, depth + 1)) return true;
    return false;
  }
  if (v instanceof Set) {
    for (const x of v) if (mentions(x, ids, depth + 1)) return true;
    return false;
  }
  if (ArrayBuffer.isView(v)) return false;
  for (const k in v as Record<string, unknown>) {
    if (depth === 0 && k === 'cfg') continue;
    if (ids.has(k) || mentions((v as Record<string, unknown>)[k], ids, depth + 1)) return true;
  }
  return false;
}

/** Whether a slot's hashed parts name an interchangeable node. */
function slotNames(s: Slot, ids: ReadonlySet<string>): boolean {
  if (mentions(s.up ? s.state : s.lastUp, ids, 0) || mentions(s.synced, ids, 1)) return true;
  return s.pending.some((p) => ids.has(p.key) || mentions(p.value, ids, 1));
}

function stateHash(v: unknown): string {
  const h = new Hash64();
  hashValue(h, v);
  return h.hex();
}

function hashSlot(
  h: Hash64,
  up: boolean,
  halted: boolean,
  state: unknown,
  synced: ReadonlyMap<string, unknown>,
  pending: readonly PendingWrite[],
  timers: readonly ArmedTimer[],
  lastUp: unknown,
  timed: boolean,
  rename: ReadonlyMap<string, string> | null,
): void {
  h.u32(up ? 1 : 0).u32(halted ? 1 : 0);
  if (up) hashState(h, state, rename);
  else hashState(h, lastUp, rename);
  hashValue(h, synced, 0, rename);
  h.u32(pending.length);
  for (const p of pending) {
    h.str(rename?.get(p.key) ?? p.key);
    hashValue(h, p.value, 0, rename);
  }
  h.u32(timers.length);
  for (const t of timers) {
    h.str(t.name).num(t.delayUs);
    if (timed) h.num(t.deadlineUs);
  }
}

// ---------------------------------------------------------------------------------------------
// Traces

function worldTrace(m: SystemModel): TraceAdapter<World, WAction> {
  const id = (n: number) => m.specs[n]!.id;
  // Message ids for the viewer, one per send in effect order; a delivery names the oldest id of
  // its content still in flight (a duplicate delivers it again under the same id). Reset by boot.
  let inFlight = new Map<string, number[]>();
  let nextId = 0;
  const sentIds = (prev: World, node: number, effects: readonly Effect[]): number[] => {
    const ids: number[] = [];
    for (const e of effects) {
      let key: string | null = null;
      if (e.type === 'send') key = packetKey(PKT_MSG, node, m.indexOf(e.to), '', e.msg);
      else if (e.type === 'request') key = packetKey(PKT_REQ, node, m.indexOf(e.to), e.reqId, e.body);
      else if (e.type === 'reply') {
        const origin = m.originIndex(prev.hist, e.reqId);
        if (origin >= 0) key = packetKey(PKT_REP, node, origin, e.reqId, e.body);
      }
      if (key === null) continue;
      const msgId = nextId++;
      ids.push(msgId);
      const q = inFlight.get(key);
      if (q) q.push(msgId);
      else inFlight.set(key, [msgId]);
    }
    return ids;
  };
  const delivered = (p: Packet, keep: boolean): number | undefined => {
    const q = inFlight.get(pktKey(p));
    if (!q || q.length === 0) return undefined;
    return keep ? q[0] : q.shift();
  };
  return {
    nodes: () => m.specs.map((s) => ({ id: s.id, role: s.role, driver: s.driver ?? false })),
    boot(w) {
      inFlight = new Map();
      nextId = 0;
      return m.specs.map((s, i) => ({ type: 'boot', t: 0, node: s.id, state: w.slots[i]!.state }));
    },
    step(prev, a, next, i) {
      const v = next.via;
      if (v === null) return [];
      const t = next.nowUs > 0 ? next.nowUs : i + 1;
      const out: Record<string, unknown>[] = [];
      switch (v.kind) {
        case 'crash':
          out.push({ type: 'fault', t, kind: 'crash', nodes: [id(v.node)], detail: v.detail });
          break;
        case 'drop': {
          const msgId = delivered(a.pkt!, false);
          out.push({ type: 'net', t, fate: 'drop', from: v.detail.from, to: v.detail.to, ...(msgId !== undefined ? { msgId } : {}) });
          out.push({ type: 'fault', t, kind: 'drop', nodes: [v.detail.from, v.detail.to], detail: {} });
          break;
        }
        case 'restart':
          out.push({ type: 'fault', t, kind: 'restart', nodes: [id(v.node)], detail: {} });
          out.push({ type: 'boot', t, node: id(v.node), state: next.slots[v.node]!.state });
          break;
        case 'duplicate':
          out.push({ type: 'fault', t, kind: 'duplicate', nodes: [id(v.node)], detail: {} });
          break;
        case 'step':
          break;
        default:
          assertNever(v.kind, 'via');
      }
      // History records come before the step they belong to (a ret before the driver's response).
      for (const ev of v.events) if (ev.kind !== 'fault') out.push({ type: 'history', ...ev });
      const threw = next.violation !== null && next.violation.invariant === 'machine-assertion';
      if (v.input !== null && !threw) {
        const s = next.slots[v.node]!;
        const msgId = a.pkt !== null && (a.k === A_DELIVER || a.k === A_DUP) ? delivered(a.pkt, a.k === A_DUP) : undefined;
        const msgIds = sentIds(prev, v.node, v.effects);
        out.push({ type: 'step', i, t, node: id(v.node), input: v.input, effects: v.effects, ...(s.up ? { state: s.state } : {}), ...(msgId !== undefined ? { msgId } : {}), ...(msgIds.length > 0 ? { msgIds } : {}) });
      }
      if (next.violation !== null) out.push({ type: 'violation', ...next.violation, eventIndex: i, timeUs: t, ...(threw && v.input !== null ? { input: v.input } : {}) });
      return out;
    },
  };
}
