/**
 * Runs an experiment's planned simulations one after another in this process (one core), analyses
 * each finished run, and aggregates the measures of each point across seeds. Every run is an
 * ordinary seeded simulation: its `replay` command reproduces it exactly.
 */
import { runOnce } from '../../sim/run.ts';
import { cpuNowMs, wallNowMs } from '../../sim/wallclock.ts';
import type { Measures } from './analysis.ts';
import { summarize, type Summary } from './stats.ts';
import type { Experiment, ExperimentResult, PointResult, RunRecord, RunSpec, Scale } from './types.ts';

export interface Progress {
  /** Called before each run: runs done so far, total, and what is about to run. */
  (done: number, total: number, what: string): void;
}

export function runSpec(spec: RunSpec): RunRecord {
  const cpu0 = cpuNowMs();
  const r = runOnce({ scenario: spec.scenario, seed: spec.seed, sets: spec.sets, analyze: spec.analyze });
  const measures = ((r.report as { analysis?: Measures }).analysis ?? {}) as Measures;
  return {
    point: spec.point,
    seed: spec.seed,
    measures,
    violations: r.violations.map((v) => `${v.invariant}: ${v.message.split('\n')[0]!.slice(0, 300)}`),
    events: r.events,
    simulatedUs: r.simulatedTimeUs,
    cpuMs: Math.round(cpuNowMs() - cpu0),
    replay: r.replay,
  };
}

export function aggregate(specs: readonly RunSpec[], runs: readonly RunRecord[]): PointResult[] {
  const order: string[] = [];
  const labels = new Map<string, RunSpec['labels']>();
  for (const s of specs) {
    if (!labels.has(s.point)) {
      labels.set(s.point, s.labels);
      order.push(s.point);
    }
  }
  return order.map((point) => {
    const mine = runs.filter((r) => r.point === point);
    const names = new Set<string>();
    for (const r of mine) for (const k of Object.keys(r.measures)) names.add(k);
    const measures: Record<string, Summary | null> = {};
    for (const k of [...names].sort()) {
      const vals = mine.map((r) => r.measures[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      measures[k] = vals.length > 0 ? summarize(vals) : null;
    }
    return { point, labels: labels.get(point)!, runs: mine.length, measures, violations: mine.reduce((a, r) => a + r.violations.length, 0) };
  });
}

export function runExperiment(exp: Experiment, scale: Scale, progress?: Progress, offset = 0, total?: number, command = ''): ExperimentResult {
  const specs = exp.plan(scale);
  const cpu0 = cpuNowMs();
  const wall0 = wallNowMs();
  const runs: RunRecord[] = [];
  specs.forEach((spec, i) => {
    progress?.(offset + i, total ?? specs.length, `${exp.name}: ${spec.point} seed ${spec.seed}`);
    runs.push(runSpec(spec));
  });
  return {
    experiment: exp.name,
    command,
    scale,
    points: aggregate(specs, runs),
    runs,
    cpuMs: Math.round(cpuNowMs() - cpu0),
    wallMs: Math.round(wallNowMs() - wall0),
  };
}

/** A point's measure: its mean, or null. */
export function meanOf(p: PointResult | undefined, measure: string): number | null {
  return p?.measures[measure]?.mean ?? null;
}

export function summaryOf(p: PointResult | undefined, measure: string): Summary | null {
  return p?.measures[measure] ?? null;
}
