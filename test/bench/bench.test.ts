/**
 * `halfmoon bench` as CI runs it: `--quick --json` prints one object with the run's metadata and
 * one object of figures per benchmark, every figure a finite number or a string (the shape, never
 * the speed: no timed assertions). The comparison helpers are checked on fixed objects, `--compare`
 * against a saved file, `--base-ref` against this tree's own HEAD, and bad input exits 2 with one
 * line. The real-mode benches (processes, sockets, ZooKeeper) are left to `npm run bench`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';
import { BENCHES } from '../../app/bench/index.ts';
import { compareRuns, direction, formatRows, medianRuns, ratiosJson } from '../../app/bench/compare.ts';

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), progress: null });
  return { code, out, err };
}

const SIM = BENCHES.map((b) => b.name).filter((n) => !n.startsWith('real-'));
const tmp = mkdtempSync(join(tmpdir(), 'hm-bench-'));

/** `meta`: the run metadata this tree prints (a base ref built from an older commit may not). */
function expectShape(j: Record<string, unknown>, names: readonly string[], meta = true): void {
  expect(typeof j.node).toBe('string');
  if (meta) expect(typeof j.cores).toBe('number');
  if (meta) expect(typeof j.loadavg1).toBe('number');
  for (const n of names) {
    const figs = j[n] as Record<string, unknown>;
    expect(figs, n).toBeTypeOf('object');
    expect(Object.keys(figs).length, n).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(figs)) {
      expect(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)), `${n}.${k} = ${String(v)}`).toBe(true);
    }
  }
}

describe('bench --quick --json', () => {
  it('prints every simulator benchmark with finite figures', async () => {
    const r = await cli('bench', '--quick', '--json', '--only', SIM.join(','));
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const j = JSON.parse(r.out[0]!) as Record<string, unknown>;
    expectShape(j, SIM);
    const log = j['boki-log'] as Record<string, number>;
    for (const k of ['eventsPerAppend', 'simulatedToWall', 'simulatedToCpu', 'simulatedToCpuNoCheckers']) expect(log[k], k).toBeGreaterThan(0);
    const sw = j.sweep as Record<string, number>;
    for (const k of ['seedsPerSec1Worker', 'seedsPerSec2Workers', 'workerScaling']) expect(sw[k], k).toBeGreaterThan(0);
    // --compare against the run just saved: the same figures, each with a ratio.
    const saved = join(tmp, 'base.json');
    writeFileSync(saved, r.out[0]! + '\n');
    const c = await cli('bench', '--quick', '--json', '--only', 'event-queue', '--compare', saved);
    expect(c.code).toBe(0);
    const cj = JSON.parse(c.out[0]!) as { compare: { file: string; ratios: Record<string, Record<string, number>> } };
    expect(cj.compare.file).toBe(saved);
    expect(cj.compare.ratios['event-queue']!.operations).toBe(1);
    expect(cj.compare.ratios['event-queue']!.eventsPerSec).toBeGreaterThan(0);
  }, 600_000);

  it('--base-ref builds the ref in a worktree and compares it with this tree', async () => {
    const r = await cli('bench', '--quick', '--json', '--only', 'event-queue', '--base-ref', 'HEAD');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!) as Record<string, unknown> & { compare: { baseSha: string; rounds: number; base: Record<string, unknown>; ratios: Record<string, Record<string, number>> } };
    expectShape(j, ['event-queue']);
    expectShape(j.compare.base, ['event-queue'], false);
    expect(j.compare.baseSha).toMatch(/^[0-9a-f]{40}$/);
    expect(j.compare.rounds).toBe(1);
    expect(j.compare.ratios['event-queue']!.operations).toBe(1);
  }, 600_000);
});

describe('bench comparison helpers', () => {
  const base = { node: 'v20', a: { eventsPerSec: 100, appendP50Us: 1000, label: 'x', operations: 5 }, gone: { x: 1 } };
  const now = { node: 'v20', a: { eventsPerSec: 250, appendP50Us: 2000, label: 'y', operations: 5 }, fresh: { x: 1 } };
  it('pairs numeric figures present in both runs and says which way they moved', () => {
    const rows = compareRuns(base, now);
    expect(rows.map((r) => [r.figure, r.ratio])).toEqual([
      ['eventsPerSec', 2.5],
      ['appendP50Us', 2],
      ['operations', 1],
    ]);
    expect(ratiosJson(rows)).toEqual({ a: { eventsPerSec: 2.5, appendP50Us: 2, operations: 1 } });
    const text = formatRows(rows, 'saved').join('\n');
    expect(text).toMatch(/a\.eventsPerSec .* 2\.50x {2}better/);
    expect(text).toMatch(/a\.appendP50Us .* 2\.00x {2}worse/);
    expect(direction('simulatedToCpu')).toBe('higher');
    expect(direction('bytesPerState')).toBe('lower');
    expect(direction('operations')).toBeNull();
  });
  it('takes the median of each figure over rounds', () => {
    const m = medianRuns([{ a: { x: 3, s: 'p' } }, { a: { x: 1, s: 'q' } }, { a: { x: 2, s: 'r' } }]);
    expect(m.a).toEqual({ x: 2, s: 'p' });
    expect(m.rounds).toBe(3);
  });
});

describe('bench bad input exits 2 with one line', () => {
  const notJson = join(tmp, 'not.json');
  writeFileSync(notJson, 'hello\n');
  const noFigures = join(tmp, 'empty.json');
  writeFileSync(noFigures, '{"node":"v20"}\n');
  const cases: [string, string[], RegExp][] = [
    ['unknown benchmark', ['bench', '--only', 'nope'], /--only: unknown benchmark 'nope'/],
    ['missing file', ['bench', '--compare', join(tmp, 'missing.json')], /--compare: cannot read/],
    ['not JSON', ['bench', '--compare', notJson], /is not the JSON/],
    ['no figures', ['bench', '--compare', noFigures], /holds no benchmark figures/],
    ['unknown ref', ['bench', '--base-ref', 'no-such-ref-xyz'], /--base-ref: no commit 'no-such-ref-xyz'/],
    ['option-like ref', ['bench', '--base-ref=--exec=x'], /is not a git ref/],
    ['both baselines', ['bench', '--compare', notJson, '--base-ref', 'HEAD'], /give one baseline/],
    ['rounds without ref', ['bench', '--rounds', '3'], /--rounds: only with --base-ref/],
    ['bad rounds', ['bench', '--base-ref', 'HEAD', '--rounds', '0'], /--rounds: must be an integer/],
  ];
  for (const [name, args, re] of cases) {
    it(name, async () => {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(re);
    });
  }
});
