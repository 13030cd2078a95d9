/**
 * `halfmoon unseed` (FoundationDB's name): determinism at scale. Every seed of a range runs twice,
 * once in worker threads of this process (seeds in order) and once in worker threads of a child
 * process (seeds in reverse order, so no worker sees the same predecessors), and the two trace
 * hashes must agree. A mismatch is diagnosed by running the seed again on both sides with full
 * traces: the first event record that differs is printed, and the child's decision log is replayed
 * here through the replay machinery (sim/replay.ts), which names the first diverging choice.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../../src/core/assert.ts';
import { replayFile } from '../../../sim/replay.ts';
import { runOnce } from '../../../sim/run.ts';
import { sweep } from '../../../sim/sweep.ts';
import { readTraceRecords } from '../../../sim/trace.ts';
import { parseSeedRange, parseSets, parseWorkers, scenarioOptions, type SeedRange, variantArg } from './args.ts';
import type { Command } from './types.ts';

const BIN = fileURLToPath(new URL('../../../bin/halfmoon.mjs', import.meta.url));

/** The scenarios `unseed` covers without --scenario: one of each system, small and fault-heavy. */
export const UNSEED_DEFAULT_SCENARIOS = ['register-smoke', 'register-chaos', 'log-smoke', 'wf-singleop'] as const;

/** A scenario list can be long, the output of a side must stay bounded. */
const SCENARIOS_MAX = 64;

export interface UnseedRequest {
  readonly scenarios: readonly string[];
  readonly range: SeedRange;
  readonly workers: number;
  readonly sets: readonly (readonly [string, unknown])[];
  readonly variant: string | null;
  /**
   * Overrides given to the second side only. Tests use it to make the sides differ on purpose
   * and show that a mismatch is caught and diagnosed; the command never sets it.
   */
  readonly sideBSets?: readonly (readonly [string, unknown])[];
  readonly onProgress?: (line: string) => void;
}

export interface UnseedMismatch {
  readonly scenario: string;
  readonly seed: number;
  readonly hashA: string;
  readonly hashB: string;
  /** The first event record (after the header) where the two traces differ, or null. */
  readonly firstDivergingEvent: { readonly index: number; readonly a: unknown; readonly b: unknown } | null;
  /** The child's decision log replayed here: null when it reproduces, else the replay's report. */
  readonly replay: string | null;
}

export interface UnseedResult {
  readonly scenarios: readonly { readonly scenario: string; readonly seeds: number; readonly mismatches: number }[];
  readonly runs: number;
  readonly doubleRuns: number;
  readonly mismatches: readonly UnseedMismatch[];
  readonly wallMs: number;
}

interface SideOutput {
  readonly scenario: string;
  readonly hashes: readonly (readonly [number, string])[];
}

function setArgs(sets: readonly (readonly [string, unknown])[]): string[] {
  return sets.flatMap(([k, v]) => ['--set', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`]);
}

/** Runs the child side: `unseed --side b` prints one JSON line per scenario. */
function childSide(req: UnseedRequest, scenarios: readonly string[], range: SeedRange, traceDir: string | null): Promise<SideOutput[]> {
  const args = [BIN, 'unseed', '--side', 'b', '--seeds', `${range.from}..${range.to}`, '--workers', String(req.workers), ...scenarios.flatMap((s) => ['--scenario', s]), ...setArgs(req.sideBSets ?? req.sets)];
  if (req.variant !== null) args.push('--variant', req.variant);
  if (traceDir !== null) args.push('--trace-dir', traceDir);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) {
        const msg = Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? '';
        reject(code === 2 ? new InputError(msg.replace(/^halfmoon unseed: /, '')) : new Error(`unseed: the second process exited with ${code}: ${msg}`));
        return;
      }
      resolve(
        Buffer.concat(out)
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as SideOutput),
      );
    });
  });
}

async function sideA(req: UnseedRequest, scenario: string, seeds: readonly number[]): Promise<Map<number, string>> {
  const r = await sweep({ scenario, sets: req.sets, variant: req.variant, seeds, workers: Math.max(2, req.workers) });
  return new Map(r.perSeed.map((s) => [s.seed, s.traceHash]));
}

/** A trace's records, expanded (the header first; blob records resolved into their users). */
async function recordsOf(file: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  await readTraceRecords(file, (r, i) => {
    if (i >= 0) out.push(r);
  });
  return out;
}

/** Both sides of one seed again, with traces: where they part. */
async function diagnose(req: UnseedRequest, scenario: string, seed: number, hashA: string, hashB: string): Promise<UnseedMismatch> {
  const dir = mkdtempSync(join(tmpdir(), 'hm-unseed-'));
  try {
    const fileA = join(dir, `a-${seed}.jsonl`);
    runOnce({ scenario, seed, sets: req.sets, variant: req.variant, tracePath: fileA, traceStates: false, recordDecisions: true });
    await childSide(req, [scenario], { from: seed, to: seed }, dir);
    const file = join(dir, `${seed}.jsonl`);
    const a = await recordsOf(fileA);
    const b = await recordsOf(file);
    let first: UnseedMismatch['firstDivergingEvent'] = null;
    for (let i = 1; i < Math.max(a.length, b.length); i++) {
      if (JSON.stringify(a[i] ?? null) !== JSON.stringify(b[i] ?? null)) {
        first = { index: i, a: a[i] ?? null, b: b[i] ?? null };
        break;
      }
    }
    const rep = await replayFile(file);
    const replay = rep.divergence ?? (rep.actualHash !== hashA ? `the second process's decision log replays here to ${rep.actualHash}, not ${hashA}` : null);
    return { scenario, seed, hashA, hashB, firstDivergingEvent: first, replay };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function unseed(req: UnseedRequest): Promise<UnseedResult> {
  const t0 = performance.now();
  const seeds: number[] = [];
  for (let s = req.range.from; s <= req.range.to; s++) seeds.push(s);
  const [bSides, ...aSides] = await Promise.all([childSide(req, req.scenarios, req.range, null), ...req.scenarios.map((s) => sideA(req, s, seeds))]);
  const mismatches: UnseedMismatch[] = [];
  const per: { scenario: string; seeds: number; mismatches: number }[] = [];
  for (let i = 0; i < req.scenarios.length; i++) {
    const scenario = req.scenarios[i]!;
    const a = aSides[i]!;
    const b = new Map(bSides!.find((s) => s.scenario === scenario)?.hashes ?? []);
    let n = 0;
    for (const seed of seeds) {
      const ha = a.get(seed) ?? '(missing)';
      const hb = b.get(seed) ?? '(missing)';
      if (ha === hb) continue;
      n++;
      if (mismatches.length < 5) {
        req.onProgress?.(`${scenario} seed ${seed}: ${ha} here, ${hb} in the second process; diagnosing`);
        mismatches.push(await diagnose(req, scenario, seed, ha, hb));
      } else mismatches.push({ scenario, seed, hashA: ha, hashB: hb, firstDivergingEvent: null, replay: null });
    }
    per.push({ scenario, seeds: seeds.length, mismatches: n });
  }
  return { scenarios: per, runs: 2 * seeds.length * req.scenarios.length, doubleRuns: seeds.length * req.scenarios.length, mismatches, wallMs: Math.round(performance.now() - t0) };
}

/** The child side: every seed in reverse order, in worker threads; traces on request. */
async function runSideB(values: Record<string, unknown>, scenarios: readonly string[], range: SeedRange, io: { out(s: string): void }): Promise<number> {
  const sets = parseSets(values);
  const variant = variantArg(values);
  const workers = parseWorkers(values.workers);
  const seeds: number[] = [];
  for (let s = range.to; s >= range.from; s--) seeds.push(s);
  const traceDir = typeof values['trace-dir'] === 'string' ? values['trace-dir'] : null;
  for (const scenario of scenarios) {
    if (traceDir !== null) {
      const hashes = seeds.map((seed) => [seed, runOnce({ scenario, seed, sets, variant, tracePath: join(traceDir, `${seed}.jsonl`), traceStates: false, recordDecisions: true }).traceHash] as const);
      io.out(JSON.stringify({ scenario, hashes }));
      continue;
    }
    const r = await sweep({ scenario, sets, variant, seeds, workers: Math.max(2, workers) });
    io.out(JSON.stringify({ scenario, hashes: r.perSeed.map((s) => [s.seed, s.traceHash]) }));
  }
  return 0;
}

export const unseedCommand: Command = {
  name: 'unseed',
  summary: 'run every seed twice in different processes and worker threads and compare trace hashes',
  usage: `usage: halfmoon unseed [--scenario <name|file>]... --seeds <a>..<b> [--workers <n>] [--json]
                      [--set <key=value>]... [--variant <name>] [--protocol <name>]

Determinism at scale (FoundationDB's "unseed" check). Each seed runs once in worker threads of
this process and once in worker threads of a second process (seeds in reverse order there), and
the trace hashes must be equal. A mismatch is run again on both sides with traces: the first
event that differs is printed, and the second process's decision log is replayed here, which
names the first random choice where the runs part.

--scenario is repeatable (a name from scenarios/ or a YAML path); without it: ${UNSEED_DEFAULT_SCENARIOS.join(', ')}.
--workers is the worker threads of each side (at least 2).
Exit 0 when every pair agrees, 1 on a mismatch, 2 on bad input.`,
  options: {
    ...scenarioOptions,
    scenario: { type: 'string', multiple: true },
    seeds: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
    side: { type: 'string' },
    'trace-dir': { type: 'string' },
  },
  async run(values, _pos, io) {
    const range = parseSeedRange(values.seeds);
    const workers = parseWorkers(values.workers);
    const given = (values.scenario as string[] | undefined) ?? [];
    if (given.some((s) => s === '')) throw new InputError('--scenario: expected a scenario name or file');
    const scenarios = given.length > 0 ? [...new Set(given)] : [...UNSEED_DEFAULT_SCENARIOS];
    if (scenarios.length > SCENARIOS_MAX) throw new InputError(`--scenario: at most ${SCENARIOS_MAX} scenarios`);
    if (values.side !== undefined) {
      if (values.side !== 'b') throw new InputError(`--side: internal; only 'b'`);
      return runSideB(values, scenarios, range, io);
    }
    if (values['trace-dir'] !== undefined) throw new InputError('--trace-dir: only with --side b (internal)');
    const r = await unseed({ scenarios, range, workers, sets: parseSets(values), variant: variantArg(values), onProgress: (l) => io.err(l) });
    if (values.json) io.out(JSON.stringify({ seedRange: `${range.from}..${range.to}`, workers, ...r }));
    else {
      for (const s of r.scenarios) io.out(`${s.scenario}: ${s.seeds} seeds run twice, ${s.mismatches} mismatches`);
      for (const m of r.mismatches) {
        io.out(`MISMATCH ${m.scenario} seed ${m.seed}: ${m.hashA} (this process) vs ${m.hashB} (second process)`);
        if (m.firstDivergingEvent) io.out(`  first diverging event, trace record ${m.firstDivergingEvent.index}:\n    here:   ${JSON.stringify(m.firstDivergingEvent.a)}\n    second: ${JSON.stringify(m.firstDivergingEvent.b)}`);
        if (m.replay) io.out(`  replay: ${m.replay}`);
      }
      io.out(`${r.doubleRuns} double runs (${r.runs} runs), ${r.mismatches.length} mismatches, ${r.wallMs} ms`);
    }
    return r.mismatches.length > 0 ? 1 : 0;
  },
};
