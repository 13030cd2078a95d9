/** What every experiment's runs share: the calibrated latency model, generous limits, the seeds. */
import { rowName, type Json } from '../../../src/halfmoon/records.ts';
import { workload } from '../../../src/halfmoon/workloads/index.ts';
import { calibrationSets } from '../calibration.ts';
import type { Scale } from '../types.ts';

type Sets = [string, unknown][];

/**
 * The calibration, then the experiment's own settings, then the caller's overrides (last wins).
 * Limits are raised so a long warm-up on a loaded machine is never cut short: a truncated run
 * would silently bias the figures.
 */
export function runSets(scale: Scale, own: Sets): Sets {
  return [
    ...calibrationSets(scale.log),
    ['limits.simulatedTimeUs', 3_600_000_000],
    ['limits.events', 100_000_000],
    ['limits.wallMs', 24 * 3_600_000],
    ...own,
    ...(scale.sets as Sets),
  ];
}

export function seeds(scale: Scale): number[] {
  return Array.from({ length: Math.max(1, scale.seeds) }, (_, i) => i + 1);
}

/** The value of a `--set` key in a list of overrides (the last one wins), or the default. */
export function setValue<T>(sets: readonly (readonly [string, unknown])[], key: string, dflt: T): T {
  for (let i = sets.length - 1; i >= 0; i--) if (sets[i]![0] === key) return sets[i]![1] as T;
  return dflt;
}

/** The store rows a workload starts with, as the Halfmoon system populates them (INIT and BASE). */
export function initialRows(workloadName: string, params: Record<string, Json>): [string, Json][] {
  const rows: [string, Json][] = [];
  for (const [t, k, v] of workload(workloadName).initial(params)) rows.push([rowName(t, k, 'INIT'), v], [rowName(t, k, 'BASE'), v]);
  return rows;
}
