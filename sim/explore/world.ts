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
 * This file owns stepping: the actions a world enables, one machine step with its effects (sends,
 * timers, disk writes, history), the faults, and the world hashes built from cached per-slot and
 * per-packet lanes. Beside it: `world-state.ts` (options, modelling choices, the world and action
 * types, pure helpers), `world-choice.ts` (branching inside a step), `world-symmetry.ts`
 * (canonical fingerprints), `world-memo.ts` (remembered steps), `world-props.ts` (invariants and checkers as properties),
 * `world-view.ts` (what invariants see) and `world-trace.ts` (traces for the viewer).
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
import type { Effect, Input, Machine, NodeId } from '../../src/core/contract.ts';
import { hashInto, Lanes, strHash32 } from '../../src/core/hash.ts';
import type { HistoryEvent, NodeSpec, SystemDef, SystemInstance, Violation, WorldView } from '../../src/core/system.ts';
import { cloneState } from './clone.ts';
import type { Fp, Model, Property, TraceAdapter } from './model.ts';
import { ChoiceCtx, ChoiceError } from './world-choice.ts';
import { type StepMemo, StepMemos } from './world-memo.ts';
import { WorldJudge } from './world-props.ts';
import {
  A_CRASH,
  A_DELIVER,
  A_DROP,
  A_DUP,
  A_RESTART,
  A_TIMER,
  applyWrite,
  type ArmedTimer,
  bodyLanes,
  cmpPkt,
  earlierNotLonger,
  fifoHead,
  fifoRank,
  findPacket,
  packetLowerBound,
  type Hist,
  hashSlot,
  type Packet,
  type PendingWrite,
  PKT_MSG,
  PKT_REP,
  PKT_REQ,
  packetLanes,
  actionKeyOf,
  describeWAction,
  type Slot,
  stateHash,
  type Via,
  type WAction,
  type World,
  type WorldOptions,
} from './world-state.ts';
import { WorldSymmetry } from './world-symmetry.ts';
import { worldTrace } from './world-trace.ts';
import { ExploreView } from './world-view.ts';

export { A_CRASH, A_DELIVER, A_DROP, A_DUP, A_RESTART, A_TIMER, DEFAULT_WORLD_OPTIONS, type Packet, type Slot, type Via, type WAction, type World, type WorldOptions } from './world-state.ts';
export { ChoiceError } from './world-choice.ts';

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
  sent: Packet[];
  netChanged: boolean;
  /** Whether `budget` is this draft's own copy yet (it is shared with the parent until spent). */
  budgetChanged: boolean;
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
  private readonly index = new Map<NodeId, number>();
  private readonly faultable: readonly boolean[];
  private readonly sym: WorldSymmetry;
  private readonly judge: WorldJudge;
  private readonly branch: ReadonlyMap<string, readonly number[]>;
  readonly timed: boolean;
  /** The hasher of slots, history entries and worlds, reset for each (never reentered). */
  private readonly hasher = new Lanes();
  private readonly memo = new StepMemos();
  private readonly fifoNode: readonly boolean[];
  independent?: (a: WAction, b: WAction) => boolean;

  constructor(args: SystemModelArgs) {
    this.name = args.name;
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
    this.sym = new WorldSymmetry(this.specs, this.index, args.options.symmetry, this.timed);
    this.judge = new WorldJudge(this, args.def, args.params, args.variant);
    this.properties = this.judge.buildProperties();
    this.symmetry =
      this.sym.perms.length > 1
        ? { name: args.options.symmetry.map((g) => `{${g.join(', ')}}`).join(' x '), canonicalFingerprint: (w, out) => this.sym.canonicalFp(w, out) }
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
    let worlds: World[] = [this.finishWorld({ slots, net: [], budget, hist: null, nowUs: 0, violation: null, events: [], sent: [], netChanged: false, budgetChanged: true, disabled: false }, null)];
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
    return actionKeyOf(a, this.specs);
  }

  describeAction(a: WAction, w: World): string {
    return describeWAction(a, w, this.specs);
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
    if (k < A_DELIVER || k > A_DUP) throw new AssertionFailure(`unknown explorer action kind ${k}`);
    return { k, node, pkt, name, keep, choices, key: null, info: null };
  }

  private draft(w: World): Draft {
    return { slots: w.slots.slice(), net: w.net as Packet[], budget: w.budget as number[], hist: w.hist, nowUs: w.nowUs, violation: null, events: [], sent: [], netChanged: false, budgetChanged: false, disabled: false };
  }

  /** Spends `n` of budget item `i` (copying the budget on the draft's first spend). */
  private spend(d: Draft, i: number, n = 1): void {
    if (n === 0) return;
    if (!d.budgetChanged) {
      d.budget = d.budget.slice();
      d.budgetChanged = true;
    }
    d.budget[i]! -= n;
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

  /** Puts a message in flight; the packet effect `i` of `memo` made before is reused when it fits. */
  private addPacket(d: Draft, kind: number, from: number, to: number, reqId: string, body: unknown, memo: StepMemo, i: number): void {
    const t = d.slots[to]!;
    if (!t.up || t.halted) return; // links to a down node are broken: the message is lost
    const net = this.netOf(d);
    const fifo = this.fifoNode[from] || this.fifoNode[to];
    let p: Packet;
    const known = memo.pkts[i];
    if (!fifo && known !== undefined && known.to === to) p = known;
    else {
      const [b0, b1] = bodyLanes(body);
      const [h0, h1] = packetLanes(kind, from, to, reqId, b0, b1);
      let ord: number | undefined;
      if (fifo) {
        ord = 0;
        for (const q of net) if (q.from === from && q.to === to && q.ord! >= ord) ord = q.ord! + 1;
      }
      p = ord === undefined ? { kind, from, to, reqId, body, b0, b1, h0, h1 } : { kind, from, to, reqId, body, b0, b1, h0, h1, ord };
      if (!fifo) memo.pkts[i] = p;
    }
    const lo = packetLowerBound(net, p);
    if (this.opts.inFlight === 'set' && lo < net.length && cmpPkt(net[lo]!, p) === 0) return;
    net.splice(lo, 0, p);
    d.sent.push(p);
    if (net.length > this.opts.inFlightMax) d.disabled = true;
  }

  private appendHistory(d: Draft, ev: HistoryEvent): void {
    const prev = d.hist;
    const eh = this.hasher.reset(0x65);
    hashInto(eh, ev);
    const { r0: e0, r1: e1 } = eh.done();
    const h = this.hasher.reset(0x68);
    if (prev) h.u32(prev.h0).u32(prev.h1);
    const { r0: h0, r1: h1 } = h.u32(e0).u32(e1).done();
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
    if (a.k === A_DUP) this.spend(d, 3);
    if (early) this.spend(d, 5);
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
    const key = this.opts.checks ? null : input.type === 'timer' ? input.timer : input.type === 'message' || input.type === 'client' || input.type === 'response' ? (consume ?? a.pkt) : null;
    const nowUs = this.timed ? d.nowUs : 0;
    let memo = key === null ? null : this.memo.recall(slot, key, a.choices, w.budget[4]!, nowUs);
    if (memo === null) {
      const ctx = new ChoiceCtx(spec.id, nowUs, a.choices, slot.h0 ^ salt, slot.h1, w.budget[4]!, this);
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
      memo = { choices: a.choices, maybesLeft: w.budget[4]!, nowUs, state: result.state, effects: result.effects, answers: ctx.answers, arities: ctx.arities, maybesUsed: ctx.maybesUsed, slot: null, pkts: [] };
      if (key !== null) this.memo.remember(slot, key, memo);
    }
    if (forks !== null) this.fork(a, memo.answers, memo.arities, forks);
    this.spend(d, 4, memo.maybesUsed);
    if (memo.slot !== null) {
      this.applyEffects(d, n, memo, timers, true);
      d.slots[n] = memo.slot;
    } else {
      const out = this.applyEffects(d, n, memo, timers, false);
      d.slots[n] = this.mkSlot(true, out.halted, memo.state, out.synced, out.pending, out.timers, undefined);
      if (!out.halted && key !== null) memo.slot = d.slots[n]!;
    }
    if (d.disabled) return null;
    a.info = { node: n, fault: a.k === A_DUP || early, wroteHistory: d.events.length > 0, consumed: consume, sent: d.sent };
    // A step that changes neither the node's state nor the history shows the invariants the very
    // observation they accepted before; there is nothing new to judge.
    const changed = d.slots[n]!.h0 !== slot.h0 || d.slots[n]!.h1 !== slot.h1 || d.events.length > 0 || priorEvents.length > 0 || primeFrom !== w;
    if (d.violation === null && changed) d.violation = this.judge.checkInvariants(primeFrom, [...priorEvents, ...d.events], d, n);
    return this.finishWorld(d, { kind: a.k === A_DUP ? 'duplicate' : 'step', node: n, input, effects: memo.effects, events: d.events, detail: {} });
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

  private fork(a: WAction, answers: readonly number[], arities: readonly number[], forks: WAction[]): void {
    for (let j = a.choices.length; j < arities.length; j++) {
      for (let v = 1; v < arities[j]!; v++) {
        const choices = [...answers.slice(0, j), v];
        forks.push(this.mkAction(a.k, a.node, a.pkt, a.name, a.keep, choices));
      }
    }
  }

  /**
   * Applies a step's effects to the draft: messages, history and, unless `slotKnown` (the memo
   * already holds the node's new slot), the node's timers and disk.
   */
  private applyEffects(d: Draft, n: number, memo: StepMemo, timers0: readonly ArmedTimer[], slotKnown: boolean) {
    const spec = this.specs[n]!;
    const slot = d.slots[n]!;
    const effects = memo.effects;
    let timers = timers0;
    let synced = slot.synced;
    let pending = slot.pending;
    let halted = false;
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      if (slotKnown && (e.type === 'setTimer' || e.type === 'cancelTimer' || e.type === 'persist')) continue;
      switch (e.type) {
        case 'send': {
          const to = this.index.get(e.to);
          if (to === undefined) throw new AssertionFailure(`${spec.id} sent to unknown node ${e.to}`);
          this.addPacket(d, PKT_MSG, n, to, '', e.msg, memo, i);
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
          if (origin >= 0) this.addPacket(d, PKT_REP, n, origin, e.reqId, e.body, memo, i);
          break;
        }
        case 'request': {
          if (!spec.driver) throw new AssertionFailure(`${spec.id} is not a workload driver but issued a request`);
          const to = this.index.get(e.to);
          if (to === undefined) throw new AssertionFailure(`${spec.id} sent a request to unknown node ${e.to}`);
          this.appendHistory(d, { kind: 'call', t: this.histT(d), reqId: e.reqId, client: spec.id, node: e.to, body: e.body });
          this.addPacket(d, PKT_REQ, n, to, e.reqId, e.body, memo, i);
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
    this.spend(d, 0);
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
    this.spend(d, 1);
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
    this.spend(d, 2);
    this.removePacket(d, a.pkt!);
    a.info = { node: a.node, fault: true, wroteHistory: false, consumed: a.pkt, sent: [] };
    return this.finishWorld(d, { kind: 'drop', node: a.node, input: null, effects: [], events: [], detail: { from: this.specs[a.pkt!.from]!.id, to: this.specs[a.pkt!.to]!.id } });
  }

  // -------------------------------------------------------------------------------------------
  // Hashing

  private mkSlot(up: boolean, halted: boolean, state: unknown, synced: ReadonlyMap<string, unknown>, pending: readonly PendingWrite[], timers: readonly ArmedTimer[], lastUp: unknown): Slot {
    const h = this.hasher.reset(0x73);
    hashSlot(h, up, halted, state, synced, pending, timers, lastUp, this.timed, null);
    const { r0: h0, r1: h1 } = h.done();
    return { up, halted, state, synced, pending, timers, lastUp, h0, h1 };
  }

  private finishWorld(d: Draft, via: Via | null): World {
    const h = this.hasher.reset(0x77);
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
    const { r0: h0, r1: h1 } = h.done();
    return { slots: d.slots, net: d.net, budget: d.budget, hist: d.hist, nowUs: d.nowUs, violation: d.violation, h0, h1, via };
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
      if (x.consumed !== null && sentOne(y.sent, x.consumed)) return false;
      if (y.consumed !== null && sentOne(x.sent, y.consumed)) return false;
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

  /** With `stopAtDone`: does the run end at this state? */
  stoppedAtDone(w: World): boolean {
    const done = this.instance.done;
    return this.opts.stopAtDone && done !== undefined && done(this.view(w));
  }
}

/** Is a packet of `p`'s content (its hash) among `sent`? */
function sentOne(sent: readonly Packet[], p: Packet): boolean {
  for (const q of sent) if (cmpPkt(q, p) === 0) return true;
  return false;
}
