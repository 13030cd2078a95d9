/**
 * Sweeps: many seeds of one scenario, in this thread or spread over worker threads. Each seed is
 * an independent run, so the results (and the combined hash, folded in seed order) are identical
 * whatever the number of workers and whatever order they finish in.
 */
import { Worker } from 'node:worker_threads';
import { Hash64 } from '../src/core/hash.ts';
import { resolveScenario } from '../src/scenario/instance.ts';
import { runOnce } from './run.ts';
import { loadedPlugins } from '../src/scenario/plugins.ts';
import type { Scenario } from '../src/scenario/scenario.ts';
import { type SeedSummary, summarize } from './seed-summary.ts';
import { wallNowMs } from './wallclock.ts';
import { bundleWorker } from './worker-bundle.ts';

export { type SeedSummary, summarize };

export interface SweepRequest {
  readonly scenario: string;
  readonly sets: readonly (readonly [string, unknown])[];
  readonly variant: string | null;
  readonly seeds: readonly number[];
  readonly workers: number;
  /** Stop handing out seeds after the first failure. */
  readonly failFast?: boolean;
  /** Called after every seed (seeds done, seeds in the request, failing so far); it cannot change results. */
  readonly onProgress?: (done: number, total: number, failing: number) => void;
  /**
   * Polled before each seed is handed out; true stops the sweep (a front end's time budget: the
   * wall clock stays with the caller). Seeds already running finish; the result covers what ran.
   */
  readonly shouldStop?: () => boolean;
}

export interface SweepResult {
  readonly scenario: string;
  readonly seeds: number;
  readonly passed: number;
  readonly failingSeeds: readonly number[];
  readonly failures: readonly SeedSummary[];
  readonly events: number;
  readonly simulatedTimeUs: number;
  readonly wallMs: number;
  readonly traceHash: string;
  readonly faults: Readonly<Record<string, number>>;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly perSeed: readonly SeedSummary[];
}

export async function sweep(req: SweepRequest): Promise<SweepResult> {
  // Resolve once up front so bad input fails before any worker starts.
  const scenario = resolveScenario({ scenario: req.scenario, sets: req.sets, variant: req.variant });
  const wall0 = wallNowMs();
  const results = new Map<number, SeedSummary>();
  let failing = 0;
  const total = req.seeds.length;
  const record = (s: SeedSummary) => {
    results.set(s.seed, s);
    if (s.violations.length > 0) failing++;
    req.onProgress?.(results.size, total, failing);
  };
  if (req.workers <= 1 || total <= 1) {
    for (const seed of req.seeds) {
      if (req.shouldStop?.() === true) break;
      record(summarize(runOnce({ scenario: req.scenario, seed, sets: req.sets, variant: req.variant })));
      if (req.failFast && failing > 0) break;
    }
  } else {
    await runInWorkers(req, record, () => (req.failFast === true && failing > 0) || req.shouldStop?.() === true);
  }
  return combine(scenario, req.seeds, results, wallNowMs() - wall0);
}

function combine(scenario: Scenario, seeds: readonly number[], results: Map<number, SeedSummary>, wallMs: number): SweepResult {
  const h = new Hash64(0x73776570);
  const perSeed: SeedSummary[] = [];
  const faults: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  let events = 0;
  let simulatedTimeUs = 0;
  for (const seed of [...seeds].sort((a, b) => a - b)) {
    const s = results.get(seed);
    if (!s) continue;
    perSeed.push(s);
    h.num(seed).str(s.traceHash);
    events += s.events;
    simulatedTimeUs += s.simulatedTimeUs;
    outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
    for (const [k, v] of Object.entries(s.faults)) faults[k] = (faults[k] ?? 0) + v;
  }
  const failures = perSeed.filter((s) => s.violations.length > 0);
  return {
    scenario: scenario.name,
    seeds: perSeed.length,
    passed: perSeed.length - failures.length,
    failingSeeds: failures.map((f) => f.seed),
    failures,
    events,
    simulatedTimeUs,
    wallMs: Math.round(wallMs),
    traceHash: h.hex(),
    faults,
    outcomes,
    perSeed,
  };
}

async function runInWorkers(req: SweepRequest, record: (s: SeedSummary) => void, stop: () => boolean): Promise<void> {
  const queue = [...req.seeds];
  const n = Math.min(req.workers, queue.length);
  // The bundle loads in a fraction of the time tsx takes to load the sources module by module;
  // without it (esbuild failed), or when plugins are loaded (TypeScript modules the bundle cannot
  // import), the workers load the sources through tsx.
  const plugins = loadedPlugins();
  const boot = (plugins.length === 0 ? await workerBundle() : null) ?? new URL('./sweep-worker.mjs', import.meta.url);
  await Promise.all(
    Array.from({ length: n }, () => {
      return new Promise<void>((resolve, reject) => {
        // Workers load the plugins this thread loaded, so plugin systems sweep in parallel too.
        const w = new Worker(boot, { workerData: { scenario: req.scenario, sets: req.sets, variant: req.variant, plugins } });
        const next = () => {
          const seed = stop() ? undefined : queue.shift();
          if (seed === undefined) {
            void w.terminate().then(() => resolve());
            return;
          }
          w.postMessage(seed);
        };
        w.on('message', (m: { ok: true; summary: SeedSummary } | { ok: false; error: string }) => {
          if (!m.ok) {
            reject(new Error(m.error));
            void w.terminate();
            return;
          }
          record(m.summary);
          next();
        });
        w.on('error', reject);
        w.on('online', next);
      });
    }),
  );
}

/**
 * One self-contained CommonJS bundle of the sweep worker (sweep-entry.ts and everything a run
 * needs), or null if it cannot be built (the workers then load the sources through tsx).
 */
export function workerBundle(): Promise<string | null> {
  return bundleWorker(new URL('./sweep-entry.ts', import.meta.url), 'sweep-worker');
}
