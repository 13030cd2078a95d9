/**
 * `halfmoon reproduce`: runs the published experiments (Halfmoon spec §9) in simulation on the
 * published cluster with the calibrated latency model, and writes per experiment a JSON result,
 * CSV and Markdown tables and SVG figures, then REPRODUCTION.md over every result in the folder.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/core/assert.ts';
import { discussion } from './discussion.ts';
import { appsExperiments } from './experiments/apps.ts';
import { rwExperiment } from './experiments/rw.ts';
import { singleopExperiment } from './experiments/singleop.ts';
import { switchingExperiment } from './experiments/switching.ts';
import { readResult, reproductionMarkdown, writeExperiment } from './report.ts';
import { type Progress, runExperiment } from './runner.ts';
import type { Experiment, ExperimentResult, Rendered, Scale } from './types.ts';

/** In the order of the paper's figures. */
export const EXPERIMENTS: readonly Experiment[] = [singleopExperiment, ...appsExperiments, rwExperiment, switchingExperiment];

export function experimentByName(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new InputError(`--experiment: unknown experiment '${name}' (known: ${EXPERIMENTS.map((x) => x.name).join(', ')})`);
  return e;
}

export interface ReproduceOptions {
  readonly experiments: readonly Experiment[];
  readonly out: string;
  readonly scale: Scale;
  readonly progress?: Progress;
  /** The command line, quoted in REPRODUCTION.md. */
  readonly command: string;
}

export interface ReproduceResult {
  readonly results: readonly { readonly exp: Experiment; readonly result: ExperimentResult; readonly rendered: Rendered }[];
  readonly files: readonly string[];
}

/**
 * Rebuilds the tables, figures and REPRODUCTION.md from the results already saved in `out`,
 * without running anything (after a change to the rendering or the discussion).
 */
export function rerender(out: string, experiments: readonly Experiment[]): ReproduceResult {
  const results: { exp: Experiment; result: ExperimentResult; rendered: Rendered }[] = [];
  const files: string[] = [];
  for (const exp of experiments) {
    const result = readResult(out, exp.name);
    if (result === null) continue;
    const rendered = exp.render(result);
    files.push(...writeExperiment(out, exp, result, rendered));
    results.push({ exp, result, rendered });
  }
  if (results.length === 0) throw new InputError(`--render-only: no saved results in ${out}`);
  writeDocument(out, results);
  files.push('REPRODUCTION.md');
  return { results, files };
}

export function reproduce(opts: ReproduceOptions): ReproduceResult {
  const total = opts.experiments.reduce((a, e) => a + e.plan(opts.scale).length, 0);
  let done = 0;
  const results: { exp: Experiment; result: ExperimentResult; rendered: Rendered }[] = [];
  const files: string[] = [];
  for (const exp of opts.experiments) {
    const result = runExperiment(exp, opts.scale, opts.progress, done, total, opts.command);
    done += result.runs.length;
    const rendered = exp.render(result);
    files.push(...writeExperiment(opts.out, exp, result, rendered));
    results.push({ exp, result, rendered });
  }
  opts.progress?.(done, total, 'writing REPRODUCTION.md');
  writeDocument(opts.out, results);
  files.push('REPRODUCTION.md');
  return { results, files };
}

/** REPRODUCTION.md covers every experiment with a result in the folder, this run's or earlier ones. */
function writeDocument(out: string, fresh: readonly { exp: Experiment; result: ExperimentResult; rendered: Rendered }[]): void {
  const all = EXPERIMENTS.map((exp) => {
    const mine = fresh.find((r) => r.exp === exp);
    if (mine) return mine;
    const result = readResult(out, exp.name);
    return result ? { exp, result, rendered: exp.render(result) } : null;
  }).filter((x): x is NonNullable<typeof x> => x !== null);
  writeFileSync(join(out, 'REPRODUCTION.md'), reproductionMarkdown(all, discussion(all)));
}
