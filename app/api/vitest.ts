/**
 * `halfmoon/vitest`: vitest tests that sweep seeds of a scenario or explore a model.
 *
 *   simProperty('chain replication is linearizable', { scenario: 'chain.yaml', seeds: 50 });
 *   explores('chain replication, every interleaving', { model: 'system:chain', depth: 30 });
 *
 * On failure the error names the seed, the one-line command that replays it and the path of the
 * shrunk trace, in fast-check's layout (`Property failed after N tests`, `{ seed: ... }`,
 * `Counterexample: ...`), so `fc.assert` users read it at a glance. `checkSimProperty` and
 * `checkExplores` do the same work outside `test()`, throwing `PropertyFailure` (to assert that a
 * broken variant *is* caught).
 */
import { mkdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { filePlugins } from '../plugins.ts';
import { test } from 'vitest';
import { check, type CheckOptions, type Report, sweep, type ScenarioOptions } from './index.ts';

export interface SimPropertyOptions extends ScenarioOptions {
  /** How many seeds (1..n, fast-check's numRuns) or an inclusive range [from, to]; default 100. */
  readonly seeds?: number | readonly [number, number];
  /** Folder for shrunk traces (default .halfmoon/failures under the current directory). */
  readonly traceDir?: string;
  /** Simulator runs the shrinker may spend on the first failing seed (default 200; 0: no shrinking). */
  readonly shrinkRuns?: number;
  /** vitest's timeout for the test, in ms (default 120000). */
  readonly timeout?: number;
}

/** A property that did not hold: the message says where, how to replay, where the shrunk trace is. */
export class PropertyFailure extends Error {
  constructor(
    message: string,
    readonly seed: number | null,
    readonly replayCommand: string,
    readonly shrunkTrace: string | null,
    readonly report: Report,
  ) {
    super(message);
    this.name = 'PropertyFailure';
  }
}

function isScenarioFile(s: string): boolean {
  return s.includes('/') || /\.ya?ml$/.test(s);
}

function seedRange(s: SimPropertyOptions['seeds']): [number, number] {
  if (s === undefined) return [1, 100];
  if (typeof s === 'number') {
    if (!Number.isInteger(s) || s < 1) throw new Error(`seeds: expected a positive integer, got ${s}`);
    return [1, s];
  }
  return [s[0], s[1]];
}

/** Runs the sweep; throws a PropertyFailure naming the first failing seed. */
export async function checkSimProperty(o: SimPropertyOptions): Promise<Report> {
  const seeds = seedRange(o.seeds);
  const dir = resolve(o.traceDir ?? '.halfmoon/failures');
  const runs = o.shrinkRuns ?? 200;
  mkdirSync(dir, { recursive: true });
  const r = await sweep({ ...o, seeds, failFast: true, ...(runs > 0 ? { shrink: { dir, max: 1, runs } } : {}) });
  if (r.exitCode === 0) return r;
  const failing = (r.failingSeeds as number[])[0]!;
  const v = (r.violations as { seed: number; invariant: string; message: string }[]).find((x) => x.seed === failing);
  const plugins = (o.plugins ?? []).map((p) => ` --plugin ${p}`).join('');
  const replay = ((r.replays as string[])[0] ?? '').replace(/^halfmoon run/, `halfmoon run${plugins}`);
  // A trace names its system but not the plugin defining it: replay and view take the scenario's too.
  const traceFlags = plugins + (isScenarioFile(o.scenario) ? filePlugins(resolve(o.scenario)).map((p) => ` --plugin ${relative(process.cwd(), p) || p}`).join('') : '');
  const shrunk = ((r.shrunk as { seed: number; trace: string; original: { events: number }; shrunk: { events: number } }[] | undefined) ?? []).find((x) => x.seed === failing) ?? null;
  const tested = (r.seeds as number) ?? 0;
  const lines = [
    `Property failed after ${tested} tests`,
    `{ seed: ${failing}, scenario: ${JSON.stringify(o.scenario)}${o.variant ? `, variant: ${JSON.stringify(o.variant)}` : ''}${o.protocol ? `, protocol: ${JSON.stringify(o.protocol)}` : ''} }`,
    `Counterexample: seed ${failing}: ${v ? `${v.invariant}: ${v.message.slice(0, 300)}` : 'a violation'}`,
    shrunk ? `Shrunk trace: ${shrunk.trace} (${shrunk.original.events} -> ${shrunk.shrunk.events} events; halfmoon replay${traceFlags} ${shrunk.trace}, halfmoon view${traceFlags} ${shrunk.trace})` : 'Shrunk trace: none (shrinking off or it did not reproduce)',
    `Replay: ${replay}`,
  ];
  throw new PropertyFailure(lines.join('\n'), failing, replay, shrunk?.trace ?? null, r);
}

/** A vitest test that sweeps `seeds` of `scenario` and fails on the first violation. */
export function simProperty(name: string, o: SimPropertyOptions): void {
  test(name, async () => {
    await checkSimProperty(o);
  }, o.timeout ?? 120_000);
}

export interface ExploresOptions extends CheckOptions {
  /** Where to write the counterexample trace (default .halfmoon/failures/<model>.jsonl). */
  readonly traceDir?: string;
  /** Also fail when the search stopped on a limit before covering the bounds (default false). */
  readonly requireComplete?: boolean;
  readonly timeout?: number;
}

/** Explores the model; throws a PropertyFailure with the counterexample and its trace. */
export async function checkExplores(o: ExploresOptions): Promise<Report> {
  const dir = resolve(o.traceDir ?? '.halfmoon/failures');
  mkdirSync(dir, { recursive: true });
  const trace = o.trace ?? resolve(dir, `${o.model.replace(/[^A-Za-z0-9_.-]+/g, '_')}${o.variant ? `-${o.variant}` : ''}.jsonl`);
  const r = await check({ ...o, trace });
  const incomplete = o.requireComplete === true && r.verdict === 'unknown';
  if (r.exitCode === 0 && !incomplete) return r;
  const plugins = (o.plugins ?? []).map((p) => ` --plugin ${p}`).join('');
  const v = (r.violations as { property: string; message: string; steps: number; counterexample: string[] }[])[0];
  const replay = `halfmoon replay${plugins} ${trace}`;
  const lines = [
    incomplete ? `Exploration incomplete after ${r.uniqueStates} states: ${r.stopReason ?? 'limits'}` : `Property failed after ${r.uniqueStates} states`,
    `{ model: ${JSON.stringify(o.model)}${o.variant ? `, variant: ${JSON.stringify(o.variant)}` : ''}${o.seed !== undefined ? `, seed: ${o.seed}` : ''} }`,
    v ? `Counterexample (${v.steps} steps): ${v.property}: ${v.message.slice(0, 300)}` : `Counterexample: ${r.stopReason ?? 'none'}`,
    ...(v ? v.counterexample.slice(0, 40).map((l) => `  ${l}`) : []),
    v ? `Trace: ${trace} (halfmoon view${plugins} ${trace})` : 'Trace: none',
    `Replay: ${replay}`,
  ];
  throw new PropertyFailure(lines.join('\n'), o.seed ?? null, replay, v ? trace : null, r);
}

/** A vitest test that explores a model within bounds and fails on a counterexample. */
export function explores(name: string, o: ExploresOptions): void {
  test(name, async () => {
    await checkExplores(o);
  }, o.timeout ?? 120_000);
}
