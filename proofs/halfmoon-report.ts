/**
 * The run report of a Halfmoon run (`halfmoon run --json` fields of issue 4): requests, records
 * appended and read per request, store operations, latency percentiles and the exactly-once
 * verdict. Built from log accounting and the exactly-once checker, above both.
 */
import type { FinishedRun } from '../src/core/system.ts';
import type { Mode } from '../src/halfmoon/records.ts';
import { accounting } from './accounting.ts';
import { checkExactlyOnce, isCoordinatorRequest } from './exactly-once.ts';
import { callsAndReturns } from './liveness.ts';
import type { ExactlyOnceOptions } from './workflow-history.ts';

export function halfmoonReport(run: FinishedRun, protocol: string, mode: Mode, audit?: ExactlyOnceOptions['audit'], finalMode?: ExactlyOnceOptions['finalMode']): Record<string, unknown> {
  const acc = accounting(run.history, mode);
  const calls = callsAndReturns(run.history).filter((c) => !isCoordinatorRequest(c.reqId));
  const done = calls.filter((c) => c.ret !== Infinity);
  const lat = done.map((c) => c.ret - c.call).sort((a, b) => a - b);
  const q = (f: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]! : 0);
  let appends = 0;
  let wasted = 0;
  let logReads = 0;
  let storeReads = 0;
  let storeWrites = 0;
  for (const a of acc.values()) {
    appends += a.counts.appends;
    wasted += a.counts.wasted;
    logReads += a.counts.logReads;
    storeReads += a.counts.storeReads;
    storeWrites += a.counts.storeWrites;
  }
  const n = Math.max(1, done.length);
  const eo = checkExactlyOnce(run, { mode, variant: null, ...(audit ? { audit } : {}), ...(finalMode ? { finalMode } : {}) });
  return {
    protocol,
    requests: done.length,
    log: { appends, appendsPerRequest: round(appends / n), wastedSlots: wasted, reads: logReads, readsPerRequest: round(logReads / n) },
    store: { reads: storeReads, writes: storeWrites },
    latencyUs: { p50: q(0.5), p99: q(0.99), mean: lat.length ? Math.round(lat.reduce((a, b) => a + b, 0) / lat.length) : 0 },
    exactlyOnce: eo.length === 0,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
