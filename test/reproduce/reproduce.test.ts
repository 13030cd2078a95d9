/**
 * `halfmoon reproduce` end to end at a tiny scale: the rw experiment (read ratios 0.1 and 0.9,
 * two seeds, 30 requests, 200 keys) on the reference log, then singleop into the same folder.
 * Checks the files written, the CSV's content against the spec's exact record counts (failure-free
 * runs must hit them), that no run violated a checker, that the SVG is well-formed, that
 * REPRODUCTION.md is composed from every result in the folder, that the same seeds give the same
 * measures, and that bad command-line input exits 2 with one line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';
import { experimentByName, reproduce } from '../../app/reproduce/index.ts';
import { rwRecordTarget } from '../../app/reproduce/published.ts';
import type { Scale } from '../../app/reproduce/types.ts';
import { wellFormed } from './xml.ts';

const dir = mkdtempSync(join(tmpdir(), 'halfmoon-reproduce-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scale: Scale = { seeds: 2, requests: 30, log: 'reference', quick: true, sets: [['keys', 200]] };

function csv(name: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(join(dir, name), 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i]!, v])));
}

describe('halfmoon reproduce, tiny rw on the reference log', () => {
  const ticks: [number, number][] = [];
  const first = reproduce({ experiments: [experimentByName('rw')], out: dir, scale, command: 'test', progress: (done, total) => ticks.push([done, total]) });

  it('reports progress before every run and once at the end', () => {
    expect(ticks).toHaveLength(13);
    expect(ticks.map(([d]) => d)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(ticks.every(([, t]) => t === 12)).toBe(true);
  });

  it('writes the result, the tables, the figures and REPRODUCTION.md', () => {
    for (const f of ['rw.json', 'rw-latency.csv', 'rw-latency.md', 'rw-latency.svg', 'rw-storage.csv', 'rw-storage.svg', 'rw-log-calls.csv', 'REPRODUCTION.md']) expect(first.files).toContain(f);
    for (const f of ['rw-latency.svg', 'rw-storage.svg']) expect(wellFormed(readFileSync(join(dir, f), 'utf8'))).toBeNull();
  });

  it('runs every point with every seed, and no run violates a checker', () => {
    const r = first.results[0]!.result;
    expect(r.runs).toHaveLength(2 * 2 * 3);
    expect(r.runs.flatMap((x) => x.violations)).toEqual([]);
    for (const p of r.points) expect(p.runs).toBe(2);
  });

  it('tabulates latency per read ratio with the exact record counts of spec §5.4', () => {
    const rows = csv('rw-latency.csv');
    expect(rows.map((x) => Number(x.read_ratio))).toEqual([0.1, 0.9]);
    for (const row of rows) {
      const r = Number(row.read_ratio);
      for (const p of ['boki', 'hm-read', 'hm-write']) {
        expect(Number(row[`${p}_records_per_req`])).toBe(rwRecordTarget(p, r));
        expect(Number(row[`${p}_p50_ms`])).toBeGreaterThan(10);
      }
      expect(['hm-read', 'hm-write']).toContain(row.better_hm);
    }
    // Write-heavy favours HM-W, read-heavy HM-R: the crossover lies between the two ratios.
    expect(rows[0]!.better_hm).toBe('hm-write');
    expect(rows[1]!.better_hm).toBe('hm-read');
    const md = readFileSync(join(dir, 'REPRODUCTION.md'), 'utf8');
    expect(md).toMatch(/Crossover read ratio[^|]*\| 0\.\d\d/);
  });

  it('accounts storage: Boki stores more than the better Halfmoon protocol at both ends', () => {
    for (const row of csv('rw-storage.csv')) {
      expect(Number(row.ratio_artifact10)).toBeGreaterThan(1);
      expect(Number(row['boki_spec10_total_kb'])).toBeGreaterThan(Number(row['boki_spec10_data_kb']));
    }
  });

  it('gives the same measures for the same seeds', () => {
    const again = reproduce({ experiments: [experimentByName('rw')], out: join(dir, 'again'), scale, command: 'test' });
    expect(again.results[0]!.result.points).toEqual(first.results[0]!.result.points);
  });

  it('composes REPRODUCTION.md from every experiment result in the folder', () => {
    const second = reproduce({ experiments: [experimentByName('singleop')], out: dir, scale: { ...scale, requests: 12 }, command: 'test' });
    const md = readFileSync(join(dir, 'REPRODUCTION.md'), 'utf8');
    expect(md).toContain('## Fig. 10');
    expect(md).toContain('## Figs. 13 and 14');
    expect(md).toContain('![Fig. 13 reproduced');
    expect(md.indexOf('## Fig. 10')).toBeLessThan(md.indexOf('## Figs. 13 and 14'));
    const ops = second.results[0]!.result.points;
    const boki = ops.find((p) => p.labels.protocol === 'boki')!;
    const hmw = ops.find((p) => p.labels.protocol === 'hm-write')!;
    // A Boki write logs two records around the store write; an HM-W write logs none.
    expect(boki.measures['op.write.p50Ms']!.mean).toBeGreaterThan(hmw.measures['op.write.p50Ms']!.mean + 1);
    expect(wellFormed(readFileSync(join(dir, 'singleop.svg'), 'utf8'))).toBeNull();
  });
});

describe('halfmoon reproduce, bad input', () => {
  const io = () => {
    const lines: { out: string[]; err: string[] } = { out: [], err: [] };
    return { lines, io: { out: (s: string) => lines.out.push(s), err: (s: string) => lines.err.push(s), progress: null } };
  };
  it.each([
    [['--experiment', 'nope'], /unknown experiment 'nope'/],
    [['--seeds', '0'], /--seeds: expected an integer/],
    [['--log', 'paper'], /--log: expected boki or reference/],
    [['--requests', 'x'], /--requests: expected an integer/],
  ])('%j exits 2 with one line', async (args, msg) => {
    const t = io();
    expect(await main(['reproduce', ...args], t.io)).toBe(2);
    expect(t.lines.err).toHaveLength(1);
    expect(t.lines.err[0]).toMatch(msg);
  });
});
