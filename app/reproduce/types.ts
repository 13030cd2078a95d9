/**
 * The shapes shared by the reproduction's experiments, runner and report writer.
 *
 * An experiment plans runs (one per point and seed), analyses each finished run into flat numeric
 * measures, and renders the aggregated points into tables, figures and a section of
 * REPRODUCTION.md. Rendering is a pure function of the saved results, so the document can be
 * rebuilt from the `<experiment>.json` files of earlier runs.
 */
import type { FinishedRun } from '../../src/core/system.ts';
import type { Measures } from './analysis.ts';
import type { Summary } from './stats.ts';

export interface Scale {
  readonly seeds: number;
  /** Measured requests per run, overriding each experiment's default (null: the default). */
  readonly requests: number | null;
  readonly log: 'boki' | 'reference';
  /** Fewer points and smaller runs, for smoke tests; never for figures. */
  readonly quick: boolean;
  /** Extra `--set` overrides for every run (tests shrink key spaces with them). */
  readonly sets: readonly (readonly [string, unknown])[];
}

export const DEFAULT_SCALE: Scale = { seeds: 3, requests: null, log: 'boki', quick: false, sets: [] };

export type Labels = Readonly<Record<string, string | number>>;

export interface RunSpec {
  /** The point this run samples, e.g. "hm-read r=0.3". */
  readonly point: string;
  readonly labels: Labels;
  readonly scenario: string;
  readonly sets: readonly (readonly [string, unknown])[];
  readonly seed: number;
  readonly analyze: (run: FinishedRun, report: Readonly<Record<string, unknown>>) => Measures;
}

export interface RunRecord {
  readonly point: string;
  readonly seed: number;
  readonly measures: Measures;
  /** First line of each violation (exactly-once, log checks, liveness): none expected. */
  readonly violations: readonly string[];
  readonly events: number;
  readonly simulatedUs: number;
  readonly cpuMs: number;
  readonly replay: string;
}

export interface PointResult {
  readonly point: string;
  readonly labels: Labels;
  readonly runs: number;
  /** Per measure, its summary across seeds (null when no run defined it). */
  readonly measures: Readonly<Record<string, Summary | null>>;
  readonly violations: number;
}

export interface ExperimentResult {
  readonly experiment: string;
  /** The command line that produced it. */
  readonly command: string;
  readonly scale: Scale;
  readonly points: readonly PointResult[];
  readonly runs: readonly RunRecord[];
  readonly cpuMs: number;
  readonly wallMs: number;
}

export type Cell = string | number | null;

/**
 * A table: `columns`/`rows` are the machine-readable form written as CSV (numbers unformatted,
 * confidence half-widths in their own columns); `md` is the formatted form for Markdown.
 */
export interface Table {
  readonly name: string;
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  readonly md?: { readonly columns: readonly string[]; readonly rows: readonly (readonly string[])[] };
  /** Sentences printed under the table. */
  readonly notes?: readonly string[];
}

export interface FigureOut {
  readonly name: string;
  readonly svg: string;
  readonly caption: string;
}

/** One line of the headline comparison: simulated beside published, with the gap and its cause. */
export interface Comparison {
  readonly what: string;
  readonly simulated: string;
  readonly published: string;
  readonly verdict: 'reproduced' | 'partly' | 'not reproduced' | 'no published value';
  readonly cause: string;
}

export interface Rendered {
  readonly tables: readonly Table[];
  readonly figures: readonly FigureOut[];
  /** Markdown for REPRODUCTION.md (without the tables, which are inlined by the writer). */
  readonly section: string;
  readonly comparisons: readonly Comparison[];
}

export interface Experiment {
  readonly name: string;
  readonly title: string;
  /** The paper's figure it reproduces. */
  readonly figure: string;
  readonly description: string;
  plan(scale: Scale): RunSpec[];
  render(result: ExperimentResult): Rendered;
}
