/**
 * Replay of trace files. A simulator trace re-runs from its decision log (or, with `fromSeed`,
 * from its seed) with the scenario stored in its header, and must reproduce the recorded trace
 * hash. Other trace sources (explorer counterexamples, real-runtime recordings) register their own
 * replayer here.
 */
import { InputError } from '../src/core/assert.ts';
import type { DecisionLog } from './decisions.ts';
import { ReplayDivergence } from './decisions.ts';
import { runOnce } from './run.ts';
import { parseScenario } from '../src/scenario/scenario.ts';
import type { RunResult } from './simulator.ts';
import { readTrace, type TraceFile, type TraceSink } from './trace.ts';

export interface ReplayOptions {
  readonly fromSeed?: boolean;
  /** Write the replayed run's own trace here. */
  readonly traceSink?: TraceSink | null;
}

export interface ReplayOutcome {
  readonly source: string;
  readonly expectedHash: string | null;
  readonly actualHash: string;
  readonly matches: boolean;
  readonly result: RunResult;
  readonly divergence: string | null;
}

export type Replayer = (trace: TraceFile, path: string, opts: ReplayOptions) => ReplayOutcome;

const replayers = new Map<string, Replayer>();

export function registerReplayer(source: string, r: Replayer): void {
  replayers.set(source, r);
}

export function decisionLogOf(trace: TraceFile, path: string): DecisionLog | null {
  const d = trace.end?.decisions as { labels?: unknown; entries?: unknown } | null | undefined;
  if (d === null || d === undefined) return null;
  if (!Array.isArray(d.labels) || !d.labels.every((l) => typeof l === 'string') || !Array.isArray(d.entries)) {
    throw new InputError(`${path}: the end record's decision log is malformed`);
  }
  return { labels: d.labels as string[], entries: d.entries as number[] };
}

export function replaySim(trace: TraceFile, path: string, opts: ReplayOptions): ReplayOutcome {
  const h = trace.header;
  const scenario = parseScenario(h.scenario, `${path}: header.scenario`);
  const seed = h.seed;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) throw new InputError(`${path}: header.seed must be a non-negative integer`);
  const log = opts.fromSeed ? null : decisionLogOf(trace, path);
  const expectedHash = typeof trace.end?.traceHash === 'string' ? trace.end.traceHash : null;
  let divergence: string | null = null;
  let result: RunResult;
  try {
    result = runOnce({
      scenario,
      seed,
      ...(log ? { replay: log } : {}),
      traceSink: opts.traceSink ?? null,
      recordDecisions: true,
    });
  } catch (e) {
    if (e instanceof ReplayDivergence) {
      divergence = e.message;
      result = runOnce({ scenario, seed });
    } else throw e;
  }
  return {
    source: 'sim',
    expectedHash,
    actualHash: result.traceHash,
    matches: divergence === null && expectedHash === result.traceHash,
    result,
    divergence,
  };
}

registerReplayer('sim', replaySim);

/** Replays a trace file; reading it streams (only the header and the end record are kept). */
export async function replayFile(path: string, opts: ReplayOptions = {}): Promise<ReplayOutcome> {
  const trace = await readTrace(path);
  const source = typeof trace.header.source === 'string' ? trace.header.source : 'sim';
  const r = replayers.get(source);
  if (!r) throw new InputError(`${path}: no replayer for traces from '${source}' (known: ${[...replayers.keys()].join(', ')})`);
  return r(trace, path, opts);
}
