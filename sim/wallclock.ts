/**
 * The only wall-clock read in the simulator. It measures how long a run took (the `wallMs` field)
 * and enforces the wall-time limit; neither feeds a machine, a choice or the trace hash.
 */
import { performance } from 'node:perf_hooks';

export function wallNowMs(): number {
  return performance.now(); // nondeterminism-ok: run timing and the wall-time limit only
}
