/**
 * Running a suite, and the one function that turns per-seed results into an entry's summary. The
 * summary depends only on which seeds ran and what each gave, never on sharding, workers or
 * timing, so merging shards (merge.ts) reproduces exactly the summary of an unsharded run.
 *
 * An entry that expects a violation stops at its first failing seed; its summary covers the seeds
 * up to the smallest failing one, whatever else ran (another shard or worker may have run later
 * seeds before it heard). An entry that expects a pass runs every seed and lists each failure.
 */
import { join } from 'node:path';
import { Hash64 } from '../../src/core/hash.ts';
import { replayCommand, resolveScenario } from '../../src/scenario/instance.ts';
import { sweep } from '../../sim/sweep.ts';
import { entrySeeds, entrySets, type Suite, type SuiteEntry } from './spec.ts';

/** What one seed gave: enough to summarise, replay and merge. */
export interface SeedRow {
  readonly seed: number;
  readonly outcome: string;
  readonly traceHash: string;
  readonly events: number;
  readonly simulatedTimeUs: number;
  /** The first violation, if any. */
  readonly invariant: string | null;
  readonly message: string | null;
}

export type Status = 'met' | 'unmet' | 'incomplete';

export interface FailureInfo {
  readonly seed: number;
  readonly invariant: string;
  readonly message: string;
  readonly replay: string;
  /** Where the replay command writes its trace, or the shrunk trace written with --artifacts. */
  readonly trace: string;
  readonly html?: string;
}

export interface EntrySummary {
  readonly name: string;
  readonly system: string;
  readonly scenario: string;
  readonly protocol: string | null;
  readonly variant: string | null;
  readonly swarm: boolean;
  readonly expect: 'pass' | 'violation';
  readonly seedRange: string;
  readonly seeds: number;
  readonly seedsRun: number;
  readonly passed: number;
  readonly failingSeeds: readonly number[];
  readonly status: Status;
  /** Why it is met, unmet or incomplete, in one line. */
  readonly verdict: string;
  readonly failures: readonly FailureInfo[];
  readonly events: number;
  readonly simulatedTimeUs: number;
  readonly traceHash: string;
  readonly why: string | null;
}

export interface SuiteSummary {
  readonly suite: string;
  readonly entries: readonly EntrySummary[];
  readonly met: number;
  readonly unmet: number;
  readonly incomplete: number;
  readonly seedsRun: number;
  readonly traceHash: string;
}

/** The entry's replay command for one seed, with the trace path it writes. */
export function replayFor(e: SuiteEntry, seed: number): string {
  const s = resolveScenario({ scenario: e.scenario, sets: entrySets(e), variant: e.variant });
  return `${replayCommand(s, seed, entrySets(e), e.scenario)} --trace ${traceName(e, seed)}`;
}

export function traceName(e: SuiteEntry, seed: number): string {
  return `${e.name.replace(/[^A-Za-z0-9._+-]+/g, '_')}-seed-${seed}.jsonl`;
}

const MAX_LISTED_FAILURES = 20;

/** The summary of an entry from the rows of the seeds that ran, out of `planned` (the entry's seeds, or a shard's). */
export function summarizeEntry(e: SuiteEntry, planned: readonly number[], rows: readonly SeedRow[], artifactsDir: string | null = null): EntrySummary {
  const bySeed = new Map<number, SeedRow>();
  for (const r of rows) bySeed.set(r.seed, r);
  const plan = [...planned].sort((a, b) => a - b);
  let kept = plan.filter((s) => bySeed.has(s)).map((s) => bySeed.get(s)!);
  const firstFail = kept.find((r) => r.invariant !== null);
  let status: Status;
  let verdict: string;
  if (e.expect === 'violation') {
    if (firstFail) {
      kept = kept.filter((r) => r.seed <= firstFail.seed);
      status = 'met';
      verdict = `caught at seed ${firstFail.seed} (${firstFail.invariant}) after ${kept.length} seed${kept.length === 1 ? '' : 's'}`;
    } else if (kept.length === plan.length) {
      status = 'unmet';
      verdict = `expected a violation, but all ${kept.length} seeds passed`;
    } else {
      status = 'incomplete';
      verdict = `not caught in the ${kept.length} of ${plan.length} seeds that ran before the time budget`;
    }
  } else {
    const failing = kept.filter((r) => r.invariant !== null);
    if (failing.length > 0) {
      status = 'unmet';
      verdict = `expected every seed to pass, but ${failing.length} of ${kept.length} failed (first: seed ${failing[0]!.seed}, ${failing[0]!.invariant})`;
    } else if (kept.length === plan.length) {
      status = 'met';
      verdict = `all ${kept.length} seeds passed`;
    } else {
      status = 'incomplete';
      verdict = `${kept.length} of ${plan.length} seeds ran (all passed) before the time budget`;
    }
  }
  const failing = kept.filter((r) => r.invariant !== null);
  const h = new Hash64(0x73756974);
  let events = 0;
  let simulatedTimeUs = 0;
  for (const r of kept) {
    h.num(r.seed).str(r.traceHash);
    events += r.events;
    simulatedTimeUs += r.simulatedTimeUs;
  }
  return {
    name: e.name,
    system: e.system,
    scenario: e.scenario,
    protocol: e.protocol,
    variant: e.variant,
    swarm: e.swarm,
    expect: e.expect,
    seedRange: `${e.from}..${e.to}`,
    seeds: plan.length,
    seedsRun: kept.length,
    passed: kept.length - failing.length,
    failingSeeds: failing.map((r) => r.seed),
    status,
    verdict,
    failures: failing.slice(0, MAX_LISTED_FAILURES).map((r) => ({ seed: r.seed, invariant: r.invariant!, message: r.message!.slice(0, 500), replay: replayFor(e, r.seed), trace: artifactsDir === null ? traceName(e, r.seed) : join(artifactsDir, traceName(e, r.seed)) })),
    events,
    simulatedTimeUs,
    traceHash: h.hex(),
    why: e.why,
  };
}

export function summarizeSuite(name: string, entries: readonly EntrySummary[]): SuiteSummary {
  const h = new Hash64(0x73756974);
  for (const e of entries) h.str(e.name).str(e.traceHash);
  return {
    suite: name,
    entries,
    met: entries.filter((e) => e.status === 'met').length,
    unmet: entries.filter((e) => e.status === 'unmet').length,
    incomplete: entries.filter((e) => e.status === 'incomplete').length,
    seedsRun: entries.reduce((s, e) => s + e.seedsRun, 0),
    traceHash: h.hex(),
  };
}

export interface EntryRun {
  readonly entry: SuiteEntry;
  /** The seeds this run was to cover (the shard's share of the range). */
  readonly planned: readonly number[];
  readonly rows: readonly SeedRow[];
  readonly wallMs: number;
  readonly stoppedByBudget: boolean;
}

export interface SuiteProgress {
  /** Seeds done and planned over the whole suite, failures so far, the entry running. */
  (done: number, total: number, failing: number, entry: string): void;
}

export interface RunSuiteOptions {
  readonly shard: { readonly k: number; readonly n: number };
  readonly workers: number;
  readonly swarm: boolean;
  /** Wall-clock milliseconds since the suite started: the caller's clock (front ends own time). */
  readonly elapsedMs: () => number;
  readonly timeBudgetS: number | null;
  readonly onProgress?: SuiteProgress;
  /** Only entries whose name this accepts. */
  readonly only?: (name: string) => boolean;
}

export async function runSuite(suite: Suite, opts: RunSuiteOptions): Promise<EntryRun[]> {
  const entries = suite.entries.filter((e) => opts.only?.(e.name) ?? true).map((e) => (opts.swarm && !e.swarm ? { ...e, swarm: true } : e));
  const plans = entries.map((e) => entrySeeds(e, opts.shard.k, opts.shard.n));
  const total = plans.reduce((s, p) => s + p.length, 0);
  let doneBefore = 0;
  let failingBefore = 0;
  const out: EntryRun[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const planned = plans[i]!;
    const t0 = opts.elapsedMs();
    const overBudget = () => (opts.timeBudgetS !== null && opts.elapsedMs() >= opts.timeBudgetS * 1000) || (e.timeBudgetS !== null && opts.elapsedMs() - t0 >= e.timeBudgetS * 1000);
    if (planned.length === 0) {
      out.push({ entry: e, planned, rows: [], wallMs: 0, stoppedByBudget: false });
      continue;
    }
    let budgetHit = false;
    const r = await sweep({
      scenario: e.scenario,
      sets: entrySets(e),
      variant: e.variant,
      seeds: planned,
      workers: opts.workers,
      failFast: e.expect === 'violation',
      shouldStop: () => {
        if (overBudget()) budgetHit = true;
        return budgetHit;
      },
      onProgress: (done, _t, failing) => opts.onProgress?.(doneBefore + done, total, failingBefore + failing, e.name),
    });
    const rows: SeedRow[] = r.perSeed.map((s) => ({
      seed: s.seed,
      outcome: s.outcome,
      traceHash: s.traceHash,
      events: s.events,
      simulatedTimeUs: s.simulatedTimeUs,
      invariant: s.violations[0]?.invariant ?? null,
      message: s.violations[0]?.message ?? null,
    }));
    doneBefore += planned.length;
    failingBefore += r.failures.length;
    out.push({ entry: e, planned, rows, wallMs: opts.elapsedMs() - t0, stoppedByBudget: budgetHit });
  }
  return out;
}
