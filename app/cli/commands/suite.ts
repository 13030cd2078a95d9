import { writeFileSync } from 'node:fs';
import { InputError } from '../../../src/core/assert.ts';
import { writeArtifacts } from '../../suite/artifacts.ts';
import { githubLines, humanLines, junitXml } from '../../suite/report.ts';
import { type EntryRun, type EntrySummary, runSuite, summarizeEntry, summarizeSuite, type SuiteSummary } from '../../suite/run.ts';
import { readSuiteFile, type SuiteEntry } from '../../suite/spec.ts';
import { parseCount } from './check.ts';
import { parseShard, parseWorkers } from './args.ts';
import type { Command, Io } from './types.ts';

export const SUITE_JSON_FORMAT = 'halfmoon-suite-result';
export const REPORTERS = ['human', 'junit', 'github', 'json'] as const;
type Reporter = (typeof REPORTERS)[number];

/** What `suite --json` prints and `merge` reads: the summary plus every seed that ran. */
export interface SuiteJson {
  readonly format: typeof SUITE_JSON_FORMAT;
  readonly version: 1;
  readonly file: string;
  readonly shard: string;
  readonly summary: SuiteSummary;
  readonly runs: readonly { readonly entry: SuiteEntry; readonly planned: readonly number[]; readonly rows: EntryRun['rows']; readonly wallMs: number }[];
  readonly wallMs: number;
  readonly stoppedByBudget: boolean;
}

export function parseTimeBudget(text: unknown): number | null {
  if (text === undefined) return null;
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0 || Number(text) > 86_400 * 7) throw new InputError(`--time-budget: expected seconds (a positive number up to 604800), got '${String(text)}'`);
  return Number(text);
}

function parseReporters(v: unknown): Reporter[] {
  const raw = (v as string[] | undefined) ?? [];
  for (const r of raw) if (!(REPORTERS as readonly string[]).includes(r)) throw new InputError(`--reporter: expected one of ${REPORTERS.join(', ')}, got '${r}'`);
  return [...new Set(raw as Reporter[])];
}

/** Writes the chosen reports of a summary; shared by `suite` and `merge`. */
export function report(summary: SuiteSummary, file: string, json: SuiteJson | null, values: Record<string, unknown>, wallMs: ReadonlyMap<string, number>, io: Io): void {
  const reporters = parseReporters(values.reporter);
  const wantJson = values.json === true || reporters.includes('json');
  const out = typeof values.out === 'string' ? values.out : null;
  if (values.out !== undefined && (out === null || out === '')) throw new InputError('--out: expected a file name');
  const write = (path: string, text: string) => {
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw new InputError(`--out ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const jsonText = JSON.stringify(json ?? { summary });
  let stdoutTaken = false;
  if (reporters.includes('junit')) {
    const xml = junitXml(summary, wallMs);
    if (out !== null) write(out, xml);
    else {
      io.out(xml.trimEnd());
      stdoutTaken = true;
    }
  }
  if (wantJson) {
    if (out !== null && !reporters.includes('junit')) write(out, jsonText + '\n');
    else {
      if (stdoutTaken) throw new InputError('--reporter junit without --out and --json both write stdout; give --out');
      io.out(jsonText);
      stdoutTaken = true;
    }
  }
  if (reporters.includes('github')) {
    if (stdoutTaken) throw new InputError('--reporter github writes stdout, which --json (or junit without --out) takes');
    for (const l of githubLines(summary, file)) io.out(l);
    stdoutTaken = true;
  }
  const human = reporters.includes('human') || !stdoutTaken;
  const lines = humanLines(summary, wallMs);
  for (const l of lines) (human && !stdoutTaken ? io.out : io.err)(l);
}

export const suiteCommand: Command = {
  name: 'suite',
  summary: 'run a failure-injection suite (entries of scenario x protocol/variant x seeds with expectations) for CI',
  usage: `usage: halfmoon suite <suite.yaml> [--reporter human|junit|github|json]... [--out <file>] [--json]
                      [--shard <k>/<n>] [--workers <n>] [--time-budget <s>] [--swarm]
                      [--artifacts <dir>] [--shrink-runs <n>] [--entry <name>]...

Runs every entry of a suite file: a scenario (with a protocol or variant, --set overrides and
optionally the swarm nemesis) over a seed range, expecting every seed to pass (expect: pass) or
one to be caught (expect: violation; the entry stops at its first failing seed). The shipped
suites are scenarios/suites/ci.yaml (every system, fault kind, protocol and artifact variant) and
scenarios/suites/fast.yaml (a subset for npm test).

  --reporter junit     JUnit XML, one testcase per entry (to --out, else stdout); a failure names
                       the seeds, the invariant, the replay command and the trace path
  --reporter github    GitHub Actions annotations (::error with the replay command) on stdout
  --json               the summary and every seed that ran, on stdout: the input of 'halfmoon merge'
  --shard k/n          run only the seeds whose index in each entry's range is k-1 modulo n
  --workers n          seeds in n worker threads (results identical to one)
  --time-budget s      stop handing out seeds after s seconds; entries not finished are reported
                       as incomplete (JUnit: skipped) with the seeds that ran
  --swarm              every entry with the swarm nemesis (per-seed fault kinds and rates)
  --artifacts dir      for each failing seed of an unmet entry (at most 5 per entry): its shrunk
                       trace and a one-page HTML view (--shrink-runs simulator runs, default 100)
  --entry name         only the named entries (repeatable)

Progress goes to stderr (a bar on a terminal, a line every ~10 s otherwise).
Exit codes: 0 every entry that ran met its expectation, 1 one did not, 2 bad input.`,
  options: {
    reporter: { type: 'string', multiple: true },
    out: { type: 'string' },
    json: { type: 'boolean' },
    shard: { type: 'string' },
    workers: { type: 'string' },
    'time-budget': { type: 'string' },
    swarm: { type: 'boolean' },
    artifacts: { type: 'string' },
    'shrink-runs': { type: 'string' },
    entry: { type: 'string', multiple: true },
  },
  positionals: 1,
  async run(values, pos, io) {
    const file = pos[0];
    if (!file) throw new InputError('a suite file is required (halfmoon suite <suite.yaml>)');
    parseReporters(values.reporter);
    const shard = parseShard(values.shard);
    const workers = parseWorkers(values.workers);
    const timeBudgetS = parseTimeBudget(values['time-budget']);
    const artifacts = values.artifacts === undefined ? null : String(values.artifacts);
    if (artifacts === '') throw new InputError('--artifacts: expected a directory');
    const shrinkRuns = values['shrink-runs'] === undefined ? 100 : parseCount(values['shrink-runs'], '--shrink-runs', 1, 100_000);
    const suite = readSuiteFile(file);
    const only = (values.entry as string[] | undefined) ?? null;
    if (only) for (const n of only) if (!suite.entries.some((e) => e.name === n)) throw new InputError(`--entry: no entry '${n}' in ${file}`);
    const json = values.json === true || parseReporters(values.reporter).includes('json');
    const bar = io.startProgress?.(`suite ${suite.name}`, 'seeds', json) ?? null;
    const t0 = Date.now();
    const elapsedMs = () => Date.now() - t0;
    const runs = await runSuite(suite, {
      shard,
      workers,
      swarm: values.swarm === true,
      elapsedMs,
      timeBudgetS,
      ...(only ? { only: (n: string) => only.includes(n) } : {}),
      ...(bar ? { onProgress: (done: number, total: number, failing: number, entry: string) => bar.update(done, total, failing, entry) } : {}),
    });
    bar?.stop();
    const entries: EntrySummary[] = [];
    for (const r of runs) {
      let s = summarizeEntry(r.entry, r.planned, r.rows, artifacts);
      if (artifacts !== null && s.status === 'unmet' && s.failures.length > 0) {
        const failures = [];
        for (const f of s.failures) {
          if (failures.length >= 5) {
            failures.push(f);
            continue;
          }
          io.err(`artifacts: shrinking ${s.name} seed ${f.seed} ...`);
          const a = await writeArtifacts(artifacts, r.entry, f.seed, f.invariant, shrinkRuns);
          failures.push({ ...f, trace: a.trace, html: a.html });
        }
        s = { ...s, failures };
      }
      entries.push(s);
    }
    const summary = summarizeSuite(suite.name, entries);
    const wallMs = new Map(runs.map((r) => [r.entry.name, r.wallMs]));
    const stoppedByBudget = runs.some((r) => r.stoppedByBudget);
    const out: SuiteJson = {
      format: SUITE_JSON_FORMAT,
      version: 1,
      file,
      shard: `${shard.k}/${shard.n}`,
      summary,
      runs: runs.map((r) => ({ entry: r.entry, planned: r.planned, rows: r.rows, wallMs: Math.round(r.wallMs) })),
      wallMs: elapsedMs(),
      stoppedByBudget,
    };
    report(summary, file, out, values, wallMs, io);
    if (stoppedByBudget) io.err(`suite: the time budget stopped the run after ${(elapsedMs() / 1000).toFixed(1)} s; ${summary.incomplete} entries incomplete`);
    return summary.unmet > 0 ? 1 : 0;
  },
};
