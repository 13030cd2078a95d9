/**
 * The read-only view of an explorer world that invariants, checkers and `done` see (the
 * `WorldView` of the system contract): node ids and roles, which nodes are up, their states and
 * the history. With `last`, a crashed node shows the state it went down with, which is what a
 * fresh invariant set is primed with before it judges a step.
 */
import type { NodeId } from '../../src/core/contract.ts';
import type { HistoryEvent, NodeSpec, WorldView } from '../../src/core/system.ts';
import type { Slot, World } from './world-state.ts';

/** What a view needs from its model. */
export interface ViewHost {
  readonly specs: readonly NodeSpec[];
  indexOf(id: NodeId): number;
  history(w: World): readonly HistoryEvent[];
}

/** A read-only view of a world for invariants and checkers. With `last`, crashed nodes show the state they went down with. */
export class ExploreView implements WorldView {
  constructor(
    private readonly m: ViewHost,
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
