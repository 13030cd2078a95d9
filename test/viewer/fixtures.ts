/** Traces for the viewer tests: real simulator runs written to a temporary directory, once per process. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { TraceDecoder } from '../../sim/trace-codec.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOnce } from '../../sim/run.ts';
import type { RunResult } from '../../sim/simulator.ts';

export const tmp = mkdtempSync(join(tmpdir(), 'halfmoon-viewer-'));

const made = new Map<string, { path: string; result: RunResult }>();

/** Runs a scenario with a trace and returns the trace's path and the run's result. */
export function simTrace(scenario: string, seed: number, variant: string | null = null): { path: string; result: RunResult } {
  const key = `${scenario}:${seed}:${variant ?? ''}`;
  const have = made.get(key);
  if (have) return have;
  const path = join(tmp, `${scenario}-${variant ?? 'correct'}-${seed}.jsonl`);
  const result = runOnce({ scenario, seed, variant, tracePath: path });
  const out = { path, result };
  made.set(key, out);
  return out;
}

/** A failing run whose violation is attributed to a step: a crash loses an acknowledged write. */
export const CRASH_FAILURE = { scenario: 'register-crash', seed: 1, variant: 'ack-before-sync' } as const;
/** A failing run judged on the whole history: a stale read under a partition. */
export const PARTITION_FAILURE = { scenario: 'register-partition', seed: 4, variant: 'read-one' } as const;

/** A (plain) trace's records, expanded as every reader sees them (states whole, references resolved). */
export function records(path: string): Record<string, unknown>[] {
  const dec = new TraceDecoder();
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((r, i) => (i === 0 ? r : dec.feed(r)))
    .filter((r): r is Record<string, unknown> => r !== null);
}

export function writeRecords(name: string, recs: readonly Record<string, unknown>[]): string {
  const path = join(tmp, name);
  writeFileSync(path, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

/**
 * Rewrites a simulator trace the way the explorer writes counterexamples: source "explore", time
 * = step index, no states, no boot or net records, no message ids.
 */
export function asExplorerTrace(recs: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of recs) {
    if (r.type === 'header') out.push({ ...r, source: 'explore', scenario: undefined });
    else if (r.type === 'boot' || r.type === 'net') continue;
    else if (r.type === 'step') {
      const { state: _s, msgId: _m, msgIds: _ms, t: _t, ...rest } = r;
      out.push({ ...rest, t: r.i });
    } else if (r.type === 'history' || r.type === 'fault') {
      const { t: _t, ...rest } = r;
      out.push(rest);
    } else out.push(r);
  }
  return out;
}

/**
 * Rewrites a simulator trace the way a real-runtime recording looks: source "real", wall-clock µs
 * since the epoch, each node's clock offset a little (so records are out of time order across
 * nodes), no states.
 */
export function asRealTrace(recs: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const EPOCH = 1_763_900_000_000_000;
  const skew = (node: unknown) => (typeof node === 'string' ? (node.charCodeAt(node.length - 1) % 3) * 7 : 0);
  return recs
    .filter((r) => r.type !== 'boot')
    .map((r) => {
      if (r.type === 'header') return { ...r, source: 'real' };
      if (typeof r.t !== 'number') return r;
      const { state: _s, ...rest } = r;
      return { ...rest, t: EPOCH + (r.t as number) + skew(r.node) };
    });
}
