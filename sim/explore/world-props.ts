/**
 * The explorer world's properties, judged through the system's own invariants and checkers:
 * every invariant (plus `fatal` and `machine-assertion`) is an `always` property decided on the
 * step that produced a state, with a fresh invariant set primed with every node's last observed
 * state and the history before the step; every checker is a `final` property on the history of a
 * terminal (or cut) state, cached by state or by history; `done` becomes a `sometimes` property.
 */
import type { FinishedRun, HistoryEvent, NodeSpec, SystemDef, SystemInstance, Violation, WorldView } from '../../src/core/system.ts';
import type { Property } from './model.ts';
import type { Hist, Packet, Slot, World, WorldOptions } from './world-state.ts';

/** The parts of a step in progress that invariants see. */
export interface StepView {
  readonly slots: readonly Slot[];
  readonly net: readonly Packet[];
  readonly budget: readonly number[];
  readonly hist: Hist | null;
  readonly nowUs: number;
}

/** What the judge needs from its model. */
export interface JudgeHost {
  readonly opts: WorldOptions;
  readonly instance: SystemInstance;
  readonly specs: readonly NodeSpec[];
  readonly timed: boolean;
  history(w: World): readonly HistoryEvent[];
  view(w: World, last?: boolean): WorldView;
  stoppedAtDone(w: World): boolean;
}

export class WorldJudge {
  private readonly checkerCache = new Map<string, string | null>();
  constructor(
    private readonly m: JudgeHost,
    private readonly def: SystemDef<any>,
    private readonly sysParams: Readonly<Record<string, unknown>>,
    private readonly variant: string | null,
  ) {}

  buildProperties(): Property<World>[] {
    const props: Property<World>[] = [];
    const names = ['machine-assertion', 'fatal', ...this.m.instance.invariants.map((i) => i.name)];
    for (const name of [...new Set(names)]) {
      props.push({ kind: 'always', name, check: (w) => (w.violation !== null && w.violation.invariant === name ? w.violation.message : null) });
    }
    this.m.instance.checkers.forEach((c, ci) => {
      props.push({ kind: 'final', name: c.name, check: (w, truncated) => this.runChecker(ci, w, truncated) });
      // In every state, the history so far is judged as a run cut short (liveness abstains).
      if (this.m.opts.checkers === 'every') props.push({ kind: 'always', name: `${c.name} (every state)`, check: (w) => this.runChecker(ci, w, true) });
    });
    const done = this.m.instance.done;
    if (done) props.push({ kind: 'sometimes', name: 'workload completes', holds: (w) => w.violation === null && done(this.m.view(w)) });
    return props;
  }

  private runChecker(ci: number, w: World, truncated: boolean): string | null {
    const key = `${ci}:${truncated ? 1 : 0}:${this.m.opts.checkerCache === 'history' ? `${w.hist?.h0 ?? 0}:${w.hist?.h1 ?? 0}` : `${w.h0}:${w.h1}`}`;
    const cached = this.checkerCache.get(key);
    if (cached !== undefined) return cached;
    const history = this.m.history(w);
    let lastFault = -1;
    for (const ev of history) if (ev.kind === 'fault') lastFault = ev.t;
    const run: FinishedRun = {
      history,
      view: this.m.view(w),
      endUs: this.m.timed ? w.nowUs : history.length,
      lastFaultUs: lastFault,
      truncated,
      quiescent: !truncated && !this.m.stoppedAtDone(w),
    };
    const vs = this.m.instance.checkers[ci]!.check(run);
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
  checkInvariants(w: World, events: readonly HistoryEvent[], d: StepView, n: number): Violation | null {
    if (this.m.instance.invariants.length === 0) return null;
    const fresh = this.m.instance.freshInvariants?.() ?? this.def.build(this.sysParams as never, this.variant).invariants;
    const before = this.m.view(w, true);
    for (const inv of fresh) {
      if (inv.afterStep) for (let m = 0; m < w.slots.length; m++) if (before.isUp(this.m.specs[m]!.id)) inv.afterStep(before, this.m.specs[m]!.id);
      if (inv.onHistory) for (const ev of this.m.history(w)) inv.onHistory(ev, before);
    }
    const after = this.m.view({ slots: d.slots, net: d.net, budget: d.budget, hist: d.hist, nowUs: d.nowUs, violation: null, h0: 0, h1: 0, via: null });
    const id = this.m.specs[n]!.id;
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
