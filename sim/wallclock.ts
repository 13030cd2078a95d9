/**
 * The only wall-clock read in the simulator. It measures how long a run took (the `wallMs` field)
 * and enforces the wall-time limit; neither feeds a machine, a choice or the trace hash.
 */
import { performance } from 'node:perf_hooks';

export function wallNowMs(): number {
  return performance.now(); // nondeterminism-ok: run timing and the wall-time limit only
}

/** CPU time this process has used (user + system), ms: what a run costs on one core, whatever the load. */
export function cpuNowMs(): number {
  const u = process.cpuUsage(); // nondeterminism-ok: cost reporting only
  return (u.user + u.system) / 1000;
}
