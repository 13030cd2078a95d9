/**
 * The decision log: every random choice a run makes (message latency, drops, fault choices,
 * `ctx.maybe`, protocol randomness) is drawn here under a label and can be recorded. Replaying a
 * run from its decision log instead of its seed reproduces it exactly, and reports the first
 * choice where a changed program diverges from the log ("expected label X at choice 120, got Y").
 *
 * Choices are unsigned 32-bit values mapped so that 0 is always the simplest outcome (no fault,
 * the shortest delay, the first option). The shrinker exploits this: zeroing a choice removes
 * the fault it caused.
 */
import { InputError } from '../src/core/assert.ts';
import type { Hash64 } from '../src/core/hash.ts';
import type { Rng } from './rng.ts';

export interface DecisionLog {
  readonly labels: readonly string[];
  /** Flat pairs: label index, value. */
  readonly entries: readonly number[];
}

export class ReplayDivergence extends Error {
  readonly tag = 'ReplayDivergence' as const;
  constructor(
    readonly index: number,
    readonly expected: string | null,
    readonly actual: string,
  ) {
    super(
      expected === null
        ? `replay diverged at choice ${index}: the log ended, but the run asked for '${actual}'`
        : `replay diverged at choice ${index}: the log has '${expected}', the run asked for '${actual}'`,
    );
  }
}

/** What happens when a replayed log disagrees with the run: throw, or fall back to "simplest" (0). */
export type MismatchPolicy = 'throw' | 'zero';

export class Decisions {
  private readonly labelIndex = new Map<string, number>();
  private readonly labels: string[] = [];
  private readonly log: number[] | null;
  private readonly replayLog: DecisionLog | null;
  private pos = 0;
  private readonly onMismatch: MismatchPolicy;
  /** Number of choices made so far. */
  count = 0;
  /** Replay mismatches tolerated under the 'zero' policy. */
  mismatches = 0;

  constructor(
    private readonly rng: Rng,
    private readonly hash: Hash64,
    opts: { record?: boolean; replay?: DecisionLog; onMismatch?: MismatchPolicy } = {},
  ) {
    this.log = opts.record ? [] : null;
    this.replayLog = opts.replay ?? null;
    this.onMismatch = opts.onMismatch ?? 'throw';
    if (this.replayLog) {
      const e = this.replayLog.entries;
      if (e.length % 2 !== 0) throw new InputError('decision log: entries must come in (label, value) pairs');
      for (let i = 0; i < e.length; i += 2) {
        const l = e[i]!;
        const v = e[i + 1]!;
        if (!Number.isInteger(l) || l < 0 || l >= this.replayLog.labels.length) {
          throw new InputError(`decision log: entry ${i / 2} names label ${l}, which does not exist`);
        }
        if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
          throw new InputError(`decision log: entry ${i / 2} has value ${v}, not an unsigned 32-bit integer`);
        }
      }
    }
  }

  private intern(label: string): number {
    let i = this.labelIndex.get(label);
    if (i === undefined) {
      i = this.labels.length;
      this.labels.push(label);
      this.labelIndex.set(label, i);
    }
    return i;
  }

  /** One raw choice: an unsigned 32-bit integer. */
  u32(label: string): number {
    const li = this.intern(label);
    let v: number;
    const r = this.replayLog;
    if (r !== null) {
      const k = this.pos;
      if (k * 2 >= r.entries.length) {
        if (this.onMismatch === 'throw') throw new ReplayDivergence(k, null, label);
        this.mismatches++;
        v = 0;
      } else {
        const want = r.labels[r.entries[k * 2]!]!;
        if (want !== label) {
          if (this.onMismatch === 'throw') throw new ReplayDivergence(k, want, label);
          this.mismatches++;
          v = 0;
        } else {
          v = r.entries[k * 2 + 1]!;
        }
      }
      this.pos = k + 1;
    } else {
      v = this.rng.nextU32();
    }
    if (this.log !== null) this.log.push(li, v);
    this.hash.u32(li).u32(v);
    this.count++;
    return v;
  }

  /** Uniform float in [0, 1); a zero choice gives 0. */
  float(label: string): number {
    return this.u32(label) / 0x1_0000_0000;
  }

  /** Uniform integer in [lo, hi]; a zero choice gives lo. */
  int(label: string, lo: number, hi: number): number {
    return lo + Math.floor(this.float(label) * (hi - lo + 1));
  }

  /** True with probability p; a zero choice gives false. Draws nothing when p is 0 or 1. */
  bool(label: string, p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float(label) >= 1 - p;
  }

  /** The recorded log (only when recording). */
  recorded(): DecisionLog | null {
    if (this.log === null) return null;
    return { labels: [...this.labels], entries: this.log };
  }

  /** Choices of the replay log that were never consumed (a shorter run than recorded). */
  unconsumed(): number {
    return this.replayLog ? this.replayLog.entries.length / 2 - this.pos : 0;
  }
}
