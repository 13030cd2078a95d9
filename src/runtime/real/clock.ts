/**
 * Real time and real randomness for the real runtime, and nowhere else: a node's local clock is
 * the wall clock in integer microseconds, and `Ctx` answers rare-path questions with "no" and
 * random draws with the operating system's randomness.
 */
import { getRandomValues } from 'node:crypto';
import { AssertionFailure } from '../../core/assert.ts';
import type { Ctx, NodeId } from '../../core/contract.ts';

/** Wall-clock time in integer microseconds since the epoch (monotonic within a process). */
export function wallUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Monotonic milliseconds, for measuring durations. */
export function monoMs(): number {
  return performance.now();
}

const POOL = 256;

export class RealCtx implements Ctx {
  nowUs = 0;
  private pool = new Uint32Array(POOL);
  private next = POOL;

  constructor(readonly self: NodeId) {}

  /** FoundationDB's BUGGIFY is off in production: the rare path is never taken. */
  maybe(label: string, p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new AssertionFailure(`ctx.maybe(${label}): probability ${p} outside [0, 1]`);
    return false;
  }

  randomU32(_label: string): number {
    if (this.next === POOL) {
      getRandomValues(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++]!;
  }
}
