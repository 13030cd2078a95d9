/**
 * Comparing bench runs: a saved `bench --json` object against this run's (`--compare`), and this
 * tree against a git ref built in a worktree beside it (`--base-ref`), measured in turn in one
 * invocation so both see the same machine. On a shared machine one run is noise: `--rounds n`
 * alternates base and this tree n times and keeps each figure's median.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/assert.ts';

/** `bench --json` output: run metadata at the top level beside one object of figures per bench. */
export type BenchJson = Record<string, unknown>;

export type Figures = Record<string, number | string>;

/** The benches of a bench JSON object (top-level values that are objects), by name. */
export function benchesOf(j: BenchJson): Map<string, Figures> {
  const out = new Map<string, Figures>();
  for (const [k, v] of Object.entries(j)) {
    if (k === 'compare' || v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    out.set(k, v as Figures);
  }
  return out;
}

/** Which way a figure improves, from its name; null when the name does not say. */
export function direction(figure: string): 'higher' | 'lower' | null {
  if (/(PerSec|PerSecond|ToWall|ToCpu|scaling|Scaling|Speedup)/.test(figure)) return 'higher';
  if (/(Us|Ms|Ns|MB|bytesPerState|PerAppend|OverRtt\w*)$/.test(figure)) return 'lower';
  return null;
}

export interface CompareRow {
  readonly bench: string;
  readonly figure: string;
  readonly base: number;
  readonly now: number;
  /** now / base (Infinity when base is 0 and now is not; 1 when both are 0). */
  readonly ratio: number;
  readonly better: 'higher' | 'lower' | null;
}

/** Every numeric figure present in both runs, in this run's order. */
export function compareRuns(base: BenchJson, now: BenchJson): CompareRow[] {
  const b = benchesOf(base);
  const rows: CompareRow[] = [];
  for (const [bench, figs] of benchesOf(now)) {
    const bf = b.get(bench);
    if (!bf) continue;
    for (const [figure, v] of Object.entries(figs)) {
      const w = bf[figure];
      if (typeof v !== 'number' || typeof w !== 'number') continue;
      const ratio = w === 0 ? (v === 0 ? 1 : Infinity) : v / w;
      rows.push({ bench, figure, base: w, now: v, ratio, better: direction(figure) });
    }
  }
  return rows;
}

/** `{bench: {figure: ratio}}`, ratios rounded to 3 digits (JSON has no Infinity: null). */
export function ratiosJson(rows: readonly CompareRow[]): Record<string, Record<string, number | null>> {
  const out: Record<string, Record<string, number | null>> = {};
  for (const r of rows) (out[r.bench] ??= {})[r.figure] = Number.isFinite(r.ratio) ? Math.round(r.ratio * 1000) / 1000 : null;
  return out;
}

/** Human lines: bench.figure, base, now, ratio, and whether it moved the good way. */
export function formatRows(rows: readonly CompareRow[], baseName: string): string[] {
  const lines = [`${'figure'.padEnd(44)} ${baseName.slice(0, 14).padStart(14)} ${'this tree'.padStart(14)}  ratio`];
  for (const r of rows) {
    const mark = r.better === null || r.ratio === 1 ? '' : (r.better === 'higher') === r.ratio > 1 ? '  better' : '  worse';
    const ratio = Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : 'inf';
    lines.push(`${`${r.bench}.${r.figure}`.padEnd(44)} ${String(r.base).padStart(14)} ${String(r.now).padStart(14)}  ${ratio}${mark}`);
  }
  return lines;
}

/** Reads a saved `bench --json` file (the last JSON line of it). */
export function readBenchFile(path: string): BenchJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`--compare: cannot read '${path}'`);
  }
  const line = text.trim().split('\n').pop() ?? '';
  let j: unknown;
  try {
    j = JSON.parse(line);
  } catch {
    throw new InputError(`--compare: '${path}' is not the JSON that 'halfmoon bench --json' prints`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j) || benchesOf(j as BenchJson).size === 0) {
    throw new InputError(`--compare: '${path}' holds no benchmark figures`);
  }
  return j as BenchJson;
}

/** Median of each numeric figure over runs (strings from the first run). */
export function medianRuns(runs: readonly BenchJson[]): BenchJson {
  if (runs.length === 1) return runs[0]!;
  const out: BenchJson = { ...runs[0]!, rounds: runs.length };
  for (const [bench, figs] of benchesOf(runs[0]!)) {
    const m: Figures = {};
    for (const [figure, v] of Object.entries(figs)) {
      if (typeof v !== 'number') {
        m[figure] = v;
        continue;
      }
      const xs = runs.map((r) => benchesOf(r).get(bench)?.[figure]).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
      m[figure] = xs.length % 2 === 1 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
    }
    out[bench] = m;
  }
  return out;
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function git(args: string[], cwd = REPO): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim().split('\n')[0] ?? '' };
}

/** Runs `bench --json` of the tree at `root` in a fresh process; its JSON, or an input error. */
function benchIn(root: string, args: readonly string[], label: string): BenchJson {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'halfmoon.mjs'), 'bench', '--json', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 3_600_000 });
  if (r.status !== 0) {
    const why = (r.stderr ?? '').trim().split('\n').pop() || `exit ${r.status ?? r.signal}`;
    throw new InputError(`--base-ref: the bench of ${label} failed: ${why}`);
  }
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as BenchJson;
  } catch {
    throw new InputError(`--base-ref: the bench of ${label} printed no JSON`);
  }
}

export interface BaseRefResult {
  readonly sha: string;
  readonly base: BenchJson;
  readonly now: BenchJson;
}

/**
 * Builds a detached worktree of `ref` (sharing this tree's node_modules), then runs the base's
 * bench and this tree's in turn, `rounds` times alternating, each in a fresh process; the
 * worktree is removed afterwards. `args` are the bench options both runs get (--only, --quick).
 */
export function benchAgainstRef(ref: string, args: readonly string[], rounds: number, progress: (line: string) => void): BaseRefResult {
  if (!/^[\w./@^~{}-]+$/.test(ref) || ref.startsWith('-')) throw new InputError(`--base-ref: '${ref}' is not a git ref`);
  const rev = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!rev.ok || rev.out === '') throw new InputError(`--base-ref: no commit '${ref}' in this repository`);
  const sha = rev.out;
  const dir = mkdtempSync(join(tmpdir(), 'halfmoon-bench-base-'));
  const wt = join(dir, 'tree');
  const add = git(['worktree', 'add', '--detach', '--quiet', wt, sha]);
  if (!add.ok) {
    rmSync(dir, { recursive: true, force: true });
    throw new InputError(`--base-ref: cannot build a worktree of ${sha.slice(0, 12)}: ${add.err}`);
  }
  try {
    if (!existsSync(join(wt, 'node_modules'))) symlinkSync(join(REPO, 'node_modules'), join(wt, 'node_modules'), 'dir');
    const bases: BenchJson[] = [];
    const nows: BenchJson[] = [];
    for (let i = 0; i < rounds; i++) {
      progress(`round ${i + 1}/${rounds}: base ${sha.slice(0, 12)}`);
      bases.push(benchIn(wt, args, `base ${sha.slice(0, 12)}`));
      progress(`round ${i + 1}/${rounds}: this tree`);
      nows.push(benchIn(REPO, args, 'this tree'));
    }
    return { sha, base: medianRuns(bases), now: medianRuns(nows) };
  } finally {
    git(['worktree', 'remove', '--force', wt]);
    rmSync(dir, { recursive: true, force: true });
  }
}
