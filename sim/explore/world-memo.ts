/**
 * Remembered machine steps, so a step is computed once per slot object and input however many
 * worlds share that slot. A step is a function of the node's slot (state, disk, timers), the
 * input, the forced choices, the maybe budget left and (timed) the clock; the memo is keyed by
 * the slot object (weakly: a slot no world holds any more takes its steps with it) and by the
 * consumed packet object or the timer name, then matched on the rest. It keeps the new state,
 * its effects and choice arities, the node's new slot with its hash, and the packets the step
 * sent, so a remembered step costs no copy, no machine step and no hashing. Bounded: past
 * `MEMO_MAX` steps it starts over.
 */
import type { Effect } from '../../src/core/contract.ts';
import type { Packet, Slot } from './world-state.ts';

/** One remembered step. */
export interface StepMemo {
  readonly choices: readonly number[];
  readonly maybesLeft: number;
  readonly nowUs: number;
  readonly state: unknown;
  readonly effects: readonly Effect[];
  readonly answers: readonly number[];
  readonly arities: readonly number[];
  readonly maybesUsed: number;
  /** The node's slot after the step (null until built, and for a step that halts). */
  slot: Slot | null;
  /** Per effect: the packet it made last time, reused when it goes to the same node again. */
  readonly pkts: (Packet | undefined)[];
}

/** Remembered steps at most; then the memo starts over. */
const MEMO_MAX = 1_000_000;

export class StepMemos {
  private memo = new WeakMap<Slot, Map<Packet | string, StepMemo[]>>();
  private size = 0;

  recall(slot: Slot, key: Packet | string, choices: readonly number[], maybesLeft: number, nowUs: number): StepMemo | null {
    const list = this.memo.get(slot)?.get(key);
    if (list === undefined) return null;
    for (const m of list) {
      if (m.maybesLeft !== maybesLeft || m.nowUs !== nowUs || m.choices.length !== choices.length) continue;
      let same = true;
      for (let i = 0; i < choices.length && same; i++) same = m.choices[i] === choices[i];
      if (same) return m;
    }
    return null;
  }

  remember(slot: Slot, key: Packet | string, m: StepMemo): void {
    if (++this.size > MEMO_MAX) {
      this.memo = new WeakMap();
      this.size = 1;
    }
    let byKey = this.memo.get(slot);
    if (byKey === undefined) this.memo.set(slot, (byKey = new Map()));
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [m]);
    else list.push(m);
  }
}
