/**
 * Figs. 13 and 14: the rw microbenchmark (10 operations per request, ⌊10·r⌋ reads then writes, on
 * 10,000 keys of 256 B) at 100 requests per second, open loop, on the published cluster. Per read
 * ratio 0.1..0.9: median latency of Boki, HM-R and HM-W, records per request, the crossover read
 * ratio, and the time-averaged log + data size under a 10 s (and 60 s) garbage-collection tick.
 *
 * Method notes (also in REPRODUCTION.md):
 * - The published workload sleeps 5 ms after each operation and subtracts the 50 ms from the
 *   latency. The simulator has no resource contention (latency does not depend on how many
 *   requests are in flight), so the sleep would change nothing but the instances' lifetimes; it is
 *   not modelled. It would lengthen each request's retention by 50 ms against ≈5 s of GC delay.
 * - HM-R runs start with a warm-up that writes every key once (the published runs had 120 s of
 *   warm-up at 100 QPS): HM-R reads resolve through key streams, and a key stream that holds a
 *   record costs a storage fetch where an empty one does not. Boki and HM-W never read another
 *   instance's records, so their runs need no warm-up.
 */
import { crossover, modelCrossover } from '../stats.ts';
import { fx, pct, pm, PROTOCOL_NAMES, ratio, STYLE } from '../format.ts';
import { latencyMeasures, logCallMeasures, logMeasures, measuredRequests, initialRowBytes, type NamedStorageVariant, storageMeasures } from '../analysis.ts';
import { HEADLINE, RW_LATENCY, RW_LATENCY_SOURCE, RW_STORAGE, RW_STORAGE_SOURCE, rwRecordTarget } from '../published.ts';
import { meanOf, summaryOf } from '../runner.ts';
import { renderFigure, type Series } from '../svg.ts';
import { TARGETS } from '../calibration.ts';
import type { Comparison, Experiment, ExperimentResult, PointResult, Rendered, RunSpec, Scale, Table } from '../types.ts';
import { initialRows, runSets, seeds, setValue } from './common.ts';

export const RW_PROTOCOLS = ['boki', 'hm-read', 'hm-write'] as const;
const FULL_RATIOS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const QUICK_RATIOS = [0.1, 0.9];
const RPS = 100;
const OPS = 10;
const DEFAULT_REQUESTS = 200;

export const STORAGE_VARIANTS: readonly NamedStorageVariant[] = [
  { name: 'spec10', rule: 'canonical', keepInit: true, gcTickUs: 10_000_000, ticks: 'mean' },
  { name: 'specGcInit10', rule: 'canonical', keepInit: false, gcTickUs: 10_000_000, ticks: 'mean' },
  { name: 'artifact10', rule: 'artifact', keepInit: false, gcTickUs: 10_000_000, ticks: 'mean' },
  { name: 'spec60', rule: 'canonical', keepInit: true, gcTickUs: 60_000_000, ticks: 'mean' },
  { name: 'artifact60', rule: 'artifact', keepInit: false, gcTickUs: 60_000_000, ticks: 'mean' },
];

function pointName(protocol: string, r: number): string {
  return `${protocol} r=${r.toFixed(1)}`;
}

function plan(scale: Scale): RunSpec[] {
  const ratios = scale.quick ? QUICK_RATIOS : FULL_RATIOS;
  const n = scale.requests ?? DEFAULT_REQUESTS;
  const keys = setValue(scale.sets, 'keys', 10_000);
  const valueBytes = setValue(scale.sets, 'valueBytes', 256);
  const rows = initialRowBytes(initialRows('rw', { keys, valueBytes }));
  const out: RunSpec[] = [];
  for (const seed of seeds(scale)) {
    for (const r of ratios) {
      for (const protocol of RW_PROTOCOLS) {
        const warm = protocol === 'hm-read' ? Math.ceil(keys / OPS) : 0;
        const hmr = protocol === 'hm-read';
        out.push({
          point: pointName(protocol, r),
          labels: { protocol, r },
          scenario: 'wf-rw',
          seed,
          sets: runSets(scale, [
            ['protocol', protocol],
            ['readRatio', r],
            ['concurrency', 0],
            ['rps', RPS],
            ['keys', keys],
            ['valueBytes', valueBytes],
            ['opsPerRequest', OPS],
            ['warmupRequests', warm],
            ['requests', warm + n],
            ['exactCounts', true],
          ]),
          analyze: (run) => {
            const req = measuredRequests(run.history, warm);
            return {
              ...latencyMeasures(req),
              ...logMeasures(run.history, req),
              ...logCallMeasures(run.history, req),
              ...storageMeasures(run.history, req, { initialRows: rows, layout: { versioned: hmr, base: !hmr }, tagBytes: 8, ratePerSec: RPS }, STORAGE_VARIANTS),
            };
          },
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

interface Row {
  readonly r: number;
  readonly p: Readonly<Record<string, PointResult | undefined>>;
}

function rowsOf(result: ExperimentResult): Row[] {
  const ratios = [...new Set(result.points.map((p) => Number(p.labels.r)))].sort((a, b) => a - b);
  return ratios.map((r) => {
    const p: Record<string, PointResult | undefined> = {};
    for (const proto of RW_PROTOCOLS) p[proto] = result.points.find((x) => x.labels.protocol === proto && Number(x.labels.r) === r);
    return { r, p };
  });
}

function published(r: number) {
  return RW_LATENCY.find((x) => Math.abs(x.r - r) < 1e-9) ?? null;
}

/** The better Halfmoon protocol at a ratio (lower mean p50) and its reduction against Boki. */
function best(row: Row, measure = 'p50Ms'): { proto: string; value: number; reduction: number } | null {
  const b = meanOf(row.p.boki, measure);
  const r = meanOf(row.p['hm-read'], measure);
  const w = meanOf(row.p['hm-write'], measure);
  if (b === null || r === null || w === null) return null;
  const proto = r <= w ? 'hm-read' : 'hm-write';
  const value = Math.min(r, w);
  return { proto, value, reduction: (value - b) / b };
}

function latencyTable(rows: readonly Row[]): Table {
  const columns = ['read_ratio'];
  for (const p of RW_PROTOCOLS) columns.push(`${p}_p50_ms`, `${p}_p50_ci95`, `${p}_p99_ms`);
  columns.push('better_hm', 'reduction_vs_boki', 'published_boki_ms', 'published_hmr_ms', 'published_hmw_ms', 'published_reduction');
  for (const p of RW_PROTOCOLS) columns.push(`${p}_records_per_req`, `${p}_records_target`, `${p}_log_reads_per_req`);
  const csv = rows.map((row) => {
    const b = best(row);
    const pub = published(row.r);
    const pubBest = pub ? Math.min(pub.hmr, pub.hmw) : null;
    const cells: (string | number | null)[] = [row.r];
    for (const p of RW_PROTOCOLS) cells.push(meanOf(row.p[p], 'p50Ms'), summaryOf(row.p[p], 'p50Ms')?.ci95 ?? null, meanOf(row.p[p], 'p99Ms'));
    cells.push(b?.proto ?? null, b?.reduction ?? null, pub?.boki ?? null, pub?.hmr ?? null, pub?.hmw ?? null, pub && pubBest !== null ? (pubBest - pub.boki) / pub.boki : null);
    for (const p of RW_PROTOCOLS) cells.push(meanOf(row.p[p], 'appendsPerRequest'), rwRecordTarget(p, row.r), meanOf(row.p[p], 'logReadsPerRequest'));
    return cells;
  });
  const md = rows.map((row) => {
    const b = best(row);
    const pub = published(row.r);
    const pubBest = pub ? Math.min(pub.hmr, pub.hmw) : null;
    const rec = (p: string) => `${fx(meanOf(row.p[p], 'appendsPerRequest'), 0)} (${rwRecordTarget(p, row.r)})`;
    return [
      row.r.toFixed(1),
      pm(summaryOf(row.p.boki, 'p50Ms')),
      pm(summaryOf(row.p['hm-read'], 'p50Ms')),
      pm(summaryOf(row.p['hm-write'], 'p50Ms')),
      b ? `${PROTOCOL_NAMES[b.proto]} ${pct(b.reduction)}` : '–',
      pub ? `${fx(pub.boki)} / ${fx(pub.hmr)} / ${fx(pub.hmw)}` : '',
      pub && pubBest !== null ? pct((pubBest - pub.boki) / pub.boki) : '',
      `${rec('boki')} / ${rec('hm-read')} / ${rec('hm-write')}`,
    ];
  });
  return {
    name: 'rw-latency',
    title: 'Fig. 13: rw median latency (ms) against read ratio, 100 rps',
    columns,
    rows: csv,
    md: {
      columns: ['r', 'Boki p50', 'HM-R p50', 'HM-W p50', 'better HM vs Boki', 'published Boki / HM-R / HM-W', 'published reduction', 'records/req Boki / HM-R / HM-W (target)'],
      rows: md,
    },
    notes: [`Simulated values are means over seeds ± 95% confidence half-widths; published values: ${RW_LATENCY_SOURCE}.`],
  };
}

function storageRatio(row: Row, variant: string): { ratio: number; best: string } | null {
  const m = (p: string) => meanOf(row.p[p], `storage.${variant}.totalKB`);
  const b = m('boki');
  const r = m('hm-read');
  const w = m('hm-write');
  if (b === null || r === null || w === null) return null;
  return { ratio: b / Math.min(r, w), best: r <= w ? 'hm-read' : 'hm-write' };
}

function publishedStorage(tick: '10s' | '60s', r: number): { boki: number; hmr: number; hmw: number; ratio: number } | null {
  const t = RW_STORAGE[tick];
  const f = (l: readonly { r: number; logKB: number; dataKB: number }[]) => {
    const x = l.find((p) => Math.abs(p.r - r) < 1e-9);
    return x ? x.logKB + x.dataKB : null;
  };
  const boki = f(t.boki);
  const hmr = f(t.hmr);
  const hmw = f(t.hmw);
  if (boki === null || hmr === null || hmw === null) return null;
  return { boki, hmr, hmw, ratio: boki / Math.min(hmr, hmw) };
}

function storageTable(rows: readonly Row[]): Table {
  const variants = STORAGE_VARIANTS.map((v) => v.name);
  const columns = ['read_ratio'];
  for (const v of variants) {
    for (const p of RW_PROTOCOLS) columns.push(`${p}_${v}_log_kb`, `${p}_${v}_data_kb`, `${p}_${v}_total_kb`);
    columns.push(`ratio_${v}`);
  }
  columns.push('published10_boki_kb', 'published10_hmr_kb', 'published10_hmw_kb', 'published10_ratio', 'published60_ratio');
  const csv = rows.map((row) => {
    const cells: (string | number | null)[] = [row.r];
    for (const v of variants) {
      for (const p of RW_PROTOCOLS) cells.push(meanOf(row.p[p], `storage.${v}.logKB`), meanOf(row.p[p], `storage.${v}.dataKB`), meanOf(row.p[p], `storage.${v}.totalKB`));
      cells.push(storageRatio(row, v)?.ratio ?? null);
    }
    const p10 = publishedStorage('10s', row.r);
    cells.push(p10?.boki ?? null, p10?.hmr ?? null, p10?.hmw ?? null, p10?.ratio ?? null, publishedStorage('60s', row.r)?.ratio ?? null);
    return cells;
  });
  const tot = (row: Row, v: string) => RW_PROTOCOLS.map((p) => fx(meanOf(row.p[p], `storage.${v}.totalKB`), 0)).join(' / ');
  const md = rows.map((row) => {
    const p10 = publishedStorage('10s', row.r);
    const p60 = publishedStorage('60s', row.r);
    return [
      row.r.toFixed(1),
      tot(row, 'spec10'),
      ratio(storageRatio(row, 'spec10')?.ratio),
      ratio(storageRatio(row, 'specGcInit10')?.ratio),
      tot(row, 'artifact10'),
      ratio(storageRatio(row, 'artifact10')?.ratio),
      p10 ? `${fx(p10.boki, 0)} / ${fx(p10.hmr, 0)} / ${fx(p10.hmw, 0)}` : '',
      p10 ? ratio(p10.ratio) : '',
      ratio(storageRatio(row, 'artifact60')?.ratio),
      p60 ? ratio(p60.ratio) : '',
    ];
  });
  return {
    name: 'rw-storage',
    title: 'Fig. 14: time-averaged log + data size (KB) against read ratio, 256 B values, 100 rps',
    columns,
    rows: csv,
    md: {
      columns: [
        'r',
        'spec §3.5 GC 10 s: Boki / HM-R / HM-W',
        'Boki ÷ best',
        'Boki ÷ best, INIT collected',
        'artifact model 10 s: Boki / HM-R / HM-W',
        'Boki ÷ best',
        'published 10 s: Boki / HM-R / HM-W',
        'published ÷',
        'artifact model 60 s: Boki ÷ best',
        'published 60 s ÷',
      ],
      rows: md,
    },
    notes: [`Published: ${RW_STORAGE_SOURCE}. "Boki ÷ best" is the logging-overhead ratio: Boki's storage over the better Halfmoon protocol's.`],
  };
}

function callTable(rows: readonly Row[]): Table {
  const kinds = ['append', 'condAppend', 'readPrevFound', 'readPrevEmpty', 'readNext'];
  const columns = ['protocol', ...kinds.map((k) => `${k}_p50_ms`), 'readprev_found_fraction'];
  const csv: (string | number | null)[][] = [];
  const md: string[][] = [];
  for (const p of RW_PROTOCOLS) {
    // Medians pooled over ratios: the mean of per-point means, weighted equally.
    const vals = kinds.map((k) => {
      const xs = rows.map((row) => meanOf(row.p[p], `call.${k}.p50Ms`)).filter((x): x is number => x !== null);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    });
    const fr = rows.map((row) => meanOf(row.p[p], 'call.readPrevFoundFraction')).filter((x): x is number => x !== null);
    const frac = fr.length ? fr.reduce((a, b) => a + b, 0) / fr.length : null;
    csv.push([p, ...vals, frac]);
    md.push([PROTOCOL_NAMES[p]!, ...vals.map((v) => fx(v, 2)), frac === null ? '–' : pct(frac, 0)]);
  }
  return {
    name: 'rw-log-calls',
    title: 'Log calls as the functions see them (median ms, incl. the 0.1 ms IPC hop), averaged over read ratios',
    columns,
    rows: csv,
    md: { columns: ['protocol', 'append', 'cond. append', 'readPrev (record found)', 'readPrev (empty stream)', 'readNext', 'readPrev found'], rows: md },
    notes: [
      `Targets: append ${TARGETS.appendMs.lo}-${TARGETS.appendMs.hi} ms (${TARGETS.appendMs.source}); conditional append ≈${TARGETS.condAppendMs.value} ms and readPrev ≈${TARGETS.readPrevMs.value} ms (${TARGETS.condAppendMs.source}).`,
    ],
  };
}

function latencyFigure(rows: readonly Row[]): string {
  const series: Series[] = [];
  for (const p of RW_PROTOCOLS) {
    const st = STYLE[p]!;
    series.push({
      name: `${PROTOCOL_NAMES[p]} (simulated)`,
      color: st.color,
      marker: st.marker,
      dash: st.dash,
      points: rows.map((row) => ({ x: row.r, y: meanOf(row.p[p], 'p50Ms') ?? NaN, err: summaryOf(row.p[p], 'p50Ms')?.ci95 ?? 0 })),
    });
  }
  for (const p of RW_PROTOCOLS) {
    const st = STYLE[p]!;
    const key = p === 'boki' ? 'boki' : p === 'hm-read' ? 'hmr' : 'hmw';
    series.push({
      name: `${PROTOCOL_NAMES[p]} (published)`,
      color: st.color,
      marker: st.marker,
      hollow: true,
      dash: 'dashed',
      lineWidth: 1,
      points: RW_LATENCY.map((x) => ({ x: x.r, y: x[key] })),
    });
  }
  return renderFigure({
    title: 'rw: median latency vs read ratio (Fig. 13)',
    panels: [{ xLabel: 'Read ratio', yLabel: 'Median latency (ms)', x: { min: 0.05, max: 0.95, ticks: FULL_RATIOS }, y: { min: 0 }, series }],
    panelWidth: 560,
    panelHeight: 340,
    caption: 'Filled: simulated (mean over seeds, 95% CI bars). Hollow, dashed: early artifact data (spec §9.4).',
  });
}

function storageFigure(rows: readonly Row[]): string {
  const panel = (variant: string, tick: '10s' | '60s' | null, title: string) => {
    const series: Series[] = RW_PROTOCOLS.map((p) => ({
      name: `${PROTOCOL_NAMES[p]} (simulated)`,
      color: STYLE[p]!.color,
      marker: STYLE[p]!.marker,
      dash: STYLE[p]!.dash,
      points: rows.map((row) => {
        const s = summaryOf(row.p[p], `storage.${variant}.totalKB`);
        return { x: row.r, y: s ? s.mean / 1024 : NaN, err: s ? s.ci95 / 1024 : 0 };
      }),
    }));
    if (tick) {
      const t = RW_STORAGE[tick];
      for (const p of RW_PROTOCOLS) {
        const l = p === 'boki' ? t.boki : p === 'hm-read' ? t.hmr : t.hmw;
        series.push({
          name: `${PROTOCOL_NAMES[p]} (published)`,
          color: STYLE[p]!.color,
          marker: STYLE[p]!.marker,
          hollow: true,
          dash: 'dashed',
          lineWidth: 1,
          points: l.map((x) => ({ x: x.r, y: (x.logKB + x.dataKB) / 1024 })),
        });
      }
    }
    return { title, xLabel: 'Read ratio', yLabel: 'Storage (MB)', x: { min: 0.05, max: 0.95, ticks: [0.1, 0.3, 0.5, 0.7, 0.9] }, y: { min: 0 }, series };
  };
  return renderFigure({
    title: 'rw: time-averaged log + data size vs read ratio (Fig. 14)',
    panels: [panel('spec10', '10s', 'GC 10 s, spec §3.5 rule'), panel('artifact10', '10s', 'GC 10 s, artifact model'), panel('artifact60', '60s', 'GC 60 s, artifact model')],
    columns: 3,
    panelWidth: 380,
    panelHeight: 300,
    caption: 'Filled: simulated (mean over seeds, 95% CI). Hollow, dashed: early artifact data (compute_logsize.py, 600 s runs).',
  });
}

// ---------------------------------------------------------------------------------------------
// The comparison with the published claims

function render(result: ExperimentResult): Rendered {
  const rows = rowsOf(result);
  const tables = [latencyTable(rows), storageTable(rows), callTable(rows)];
  const rs = rows.map((r) => r.r);
  const hmr = rows.map((r) => meanOf(r.p['hm-read'], 'p50Ms') ?? NaN);
  const hmw = rows.map((r) => meanOf(r.p['hm-write'], 'p50Ms') ?? NaN);
  const simCross = crossover(rs, hmr, hmw);
  const pubCross = crossover(
    RW_LATENCY.map((x) => x.r),
    RW_LATENCY.map((x) => x.hmr),
    RW_LATENCY.map((x) => x.hmw),
  );
  const avg = (proto: string, m: string) => {
    const xs = rows.map((r) => meanOf(r.p[proto], m)).filter((x): x is number => x !== null);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  const tCa = avg('hm-write', 'call.condAppend.p50Ms');
  const tRp = avg('hm-read', 'call.readPrevFound.p50Ms') ?? avg('hm-read', 'call.readPrevEmpty.p50Ms');
  const simModelCross = tCa !== null && tRp !== null ? modelCrossover(tCa, tRp) : null;
  const reductions = rows.map((r) => ({ r: r.r, b: best(r) })).filter((x) => x.b !== null);
  const inBand = reductions.filter((x) => -x.b!.reduction >= HEADLINE.latencyReduction.lo - 1e-9 && -x.b!.reduction <= HEADLINE.latencyReduction.hi + 1e-9);
  const outBand = reductions.filter((x) => !inBand.includes(x));
  const storageRange = (v: string) => {
    const xs = rows.map((r) => storageRatio(r, v)?.ratio).filter((x): x is number => x !== undefined);
    return xs.length ? { lo: Math.min(...xs), hi: Math.max(...xs), n: xs.length, inBand: xs.filter((x) => x >= HEADLINE.loggingOverhead.lo && x <= HEADLINE.loggingOverhead.hi).length } : null;
  };
  const pubRange = (tick: '10s' | '60s') => {
    const xs = RW_STORAGE[tick].boki.map((p) => publishedStorage(tick, p.r)!.ratio);
    return { lo: Math.min(...xs), hi: Math.max(...xs) };
  };
  const spec10 = storageRange('spec10');
  const art10 = storageRange('artifact10');
  const art60 = storageRange('artifact60');
  const gcInit10 = storageRange('specGcInit10');
  const p10 = pubRange('10s');
  const p60 = pubRange('60s');
  const absErr = (proto: 'boki' | 'hm-read' | 'hm-write') => {
    const key = proto === 'boki' ? 'boki' : proto === 'hm-read' ? 'hmr' : 'hmw';
    const errs = RW_LATENCY.map((x) => {
      const row = rows.find((r) => Math.abs(r.r - x.r) < 1e-9);
      const v = row ? meanOf(row.p[proto], 'p50Ms') : null;
      return v === null ? null : (v - x[key]) / x[key];
    }).filter((x): x is number => x !== null);
    return errs.length ? { mean: errs.reduce((a, b) => a + b, 0) / errs.length, lo: Math.min(...errs), hi: Math.max(...errs) } : null;
  };
  const comparisons: Comparison[] = [];
  comparisons.push({
    what: 'Latency reduction of the better Halfmoon protocol vs Boki (rw, per read ratio)',
    simulated: reductions.map((x) => `${x.r.toFixed(1)}: ${pct(x.b!.reduction, 0)}`).join(', '),
    published: `${pct(-HEADLINE.latencyReduction.lo, 0)} to ${pct(-HEADLINE.latencyReduction.hi, 0)} (abstract); early data ${RW_LATENCY.map((x) => `${x.r.toFixed(1)}: ${pct((Math.min(x.hmr, x.hmw) - x.boki) / x.boki, 0)}`).join(', ')}`,
    verdict: reductions.length > 0 && inBand.length * 2 > reductions.length ? (outBand.length === 0 ? 'reproduced' : 'partly') : 'not reproduced',
    cause: outBand.length === 0 ? 'within the band at every ratio' : `${inBand.length} of ${reductions.length} ratios in the band; below it at r = ${outBand.map((x) => x.r.toFixed(1)).join(', ')}, near the crossover, as the early data at 0.7`,
  });
  comparisons.push({
    what: 'Crossover read ratio (HM-R becomes faster than HM-W)',
    simulated: `${fx(simCross, 2)} (cost model with the simulated t_ca = ${fx(tCa, 2)} ms, t_rp = ${fx(tRp, 2)} ms: ${fx(simModelCross, 2)})`,
    published: `≈${HEADLINE.crossover.value} (early data: ${fx(pubCross, 2)}; §8.1 fit r* = ${fx(modelCrossover(0.89, 0.18), 2)})`,
    verdict: simCross !== null && Math.abs(simCross - HEADLINE.crossover.value) <= 0.1 ? 'reproduced' : 'not reproduced',
    cause: 'the crossover is set by the ratio of a conditional append to an index read (spec §8.1); see the log-call table',
  });
  comparisons.push({
    what: 'Logging overhead (Boki storage ÷ better Halfmoon), 256 B, GC 10 s, spec §3.5 collection rule',
    simulated: `${ratio(spec10?.lo)}–${ratio(spec10?.hi)} (${spec10?.inBand ?? 0}/${spec10?.n ?? 0} ratios in band; INIT collected too: ${ratio(gcInit10?.lo)}–${ratio(gcInit10?.hi)})`,
    published: `${HEADLINE.loggingOverhead.lo}–${HEADLINE.loggingOverhead.hi}× (abstract)`,
    verdict: spec10 && spec10.inBand * 2 > spec10.n ? 'reproduced' : 'not reproduced',
    cause: 'HM-R must keep the latest key-stream record of every key and, by the spec, every INIT row; every protocol stores the same 2.5 MB of values. See "rw storage"',
  });
  comparisons.push({
    what: 'Logging overhead, 256 B, GC 10 s, the artifact\'s accounting (compute_logsize.py)',
    simulated: `${ratio(art10?.lo)}–${ratio(art10?.hi)} (${art10?.inBand ?? 0}/${art10?.n ?? 0} ratios in 1.5–4.0×)`,
    published: `early data ${ratio(p10.lo)}–${ratio(p10.hi)}; abstract ${HEADLINE.loggingOverhead.lo}–${HEADLINE.loggingOverhead.hi}×`,
    verdict: art10 && Math.abs(art10.lo - p10.lo) / p10.lo < 0.15 && Math.abs(art10.hi - p10.hi) / p10.hi < 0.15 ? 'partly' : 'not reproduced',
    cause: 'matches the artifact\'s own 10 s data, which are themselves below the abstract\'s band: the claim needs a longer GC interval (next row)',
  });
  comparisons.push({
    what: 'Logging overhead, 256 B, GC 60 s, the artifact\'s accounting',
    simulated: `${ratio(art60?.lo)}–${ratio(art60?.hi)} (${art60?.inBand ?? 0}/${art60?.n ?? 0} ratios in 1.5–4.0×)`,
    published: `early data ${ratio(p60.lo)}–${ratio(p60.hi)}; abstract ${HEADLINE.loggingOverhead.lo}–${HEADLINE.loggingOverhead.hi}×`,
    verdict: art60 && art60.inBand * 2 > art60.n ? 'reproduced' : 'partly',
    cause: 'a longer tick lets logs pile up, which favours the protocol that logs less; low near r = 0.5, where both Halfmoon protocols log about half of the operations',
  });
  const storageErr = (['10s', '60s'] as const).map((tick) => {
    const variant = tick === '10s' ? 'artifact10' : 'artifact60';
    const errs = RW_PROTOCOLS.flatMap((p) => {
      const l = p === 'boki' ? RW_STORAGE[tick].boki : p === 'hm-read' ? RW_STORAGE[tick].hmr : RW_STORAGE[tick].hmw;
      return l.map((x) => {
        const row = rows.find((r) => Math.abs(r.r - x.r) < 1e-9);
        const v = row ? meanOf(row.p[p], `storage.${variant}.totalKB`) : null;
        return v === null ? null : Math.abs(v - (x.logKB + x.dataKB)) / (x.logKB + x.dataKB);
      });
    }).filter((x): x is number => x !== null);
    return errs.length ? { mean: errs.reduce((a, b) => a + b, 0) / errs.length, max: Math.max(...errs) } : null;
  });
  comparisons.push({
    what: 'Storage totals (log + data, KB) against the early data, the artifact\'s accounting',
    simulated: `mean |error| ${pct(storageErr[0]?.mean, 0)} at 10 s (worst ${pct(storageErr[0]?.max, 0)}), ${pct(storageErr[1]?.mean, 0)} at 60 s (worst ${pct(storageErr[1]?.max, 0)})`,
    published: 'Boki, HM-R, HM-W at r = 0.1, 0.3, 0.5, 0.7, 0.9',
    verdict: storageErr[0] && storageErr[0].mean <= 0.05 ? 'reproduced' : 'partly',
    cause: 'record sizes differ slightly (our JSON records, 8 B per tag counted)',
  });
  for (const proto of RW_PROTOCOLS) {
    const e = absErr(proto);
    comparisons.push({
      what: `Absolute ${PROTOCOL_NAMES[proto]} median latency vs early data (r = 0.1, 0.3, 0.5, 0.7, 0.9)`,
      simulated: e ? `mean error ${pct(e.mean, 0)} (range ${pct(e.lo, 0)} to ${pct(e.hi, 0)})` : '–',
      published: RW_LATENCY.map((x) => fx(proto === 'boki' ? x.boki : proto === 'hm-read' ? x.hmr : x.hmw)).join(' / ') + ' ms',
      verdict: e && Math.abs(e.mean) <= 0.05 ? 'reproduced' : e && Math.abs(e.mean) <= 0.12 ? 'partly' : 'not reproduced',
      cause:
        proto === 'boki'
          ? `appends emerge at ${fx(avg('boki', 'call.append.p50Ms'), 2)} ms, inside the 0.88–1.10 ms anchor; catch-up reads hit the engine cache`
          : `conditional appends complete after indexing in the model (${fx(tCa, 2)} ms) while the §8.1 fit puts them at 0.89 ms; ${proto === 'hm-read' ? 'two per write' : 'one per read'}`,
    });
  }
  return { tables, figures: [{ name: 'rw-latency', svg: latencyFigure(rows), caption: 'Fig. 13 reproduced: rw median latency vs read ratio' }, { name: 'rw-storage', svg: storageFigure(rows), caption: 'Fig. 14 reproduced: time-averaged log + data size vs read ratio' }], section: section(result, rows, { simCross, pubCross, tCa, tRp, simModelCross, spec10, art10, art60, gcInit10, p10, p60 }), comparisons };
}

interface Derived {
  simCross: number | null;
  pubCross: number | null;
  tCa: number | null;
  tRp: number | null;
  simModelCross: number | null;
  spec10: { lo: number; hi: number } | null;
  art10: { lo: number; hi: number } | null;
  art60: { lo: number; hi: number } | null;
  gcInit10: { lo: number; hi: number } | null;
  p10: { lo: number; hi: number };
  p60: { lo: number; hi: number };
}

function section(result: ExperimentResult, rows: readonly Row[], d: Derived): string {
  const r5 = rows.find((r) => Math.abs(r.r - 0.5) < 1e-9) ?? rows[Math.floor(rows.length / 2)];
  const part = (proto: string, p: string) => meanOf(r5?.p[proto], `storage.spec10.part.${p}KB`);
  const hmrKeyState = part('hm-read', 'keyRecordsCurrent');
  const hmrInit = part('hm-read', 'initKept');
  const lines = [
    `Runs: ${result.runs.length} (${result.scale.seeds} seeds per point, ${result.scale.requests ?? DEFAULT_REQUESTS} measured requests per run at ${RPS} rps, the first sixth dropped as warm-up, as in the artifact's compute_latency.py; HM-R runs first write every key once). CPU ${fx(result.cpuMs / 1000, 0)} s, wall ${fx(result.wallMs / 1000, 0)} s.`,
    '',
    `Crossover: simulated ${fx(d.simCross, 2)}, published ${fx(d.pubCross, 2)}. The §8.1 cost model with the simulated conditional append (${fx(d.tCa, 2)} ms) and index read (${fx(d.tRp, 2)} ms) predicts ${fx(d.simModelCross, 2)}.`,
    '',
    `Storage at r = ${r5?.r.toFixed(1) ?? '?'} under the spec rule: HM-R keeps the latest key-stream record of every key (${fx(hmrKeyState, 0)} KB) and, because INIT is never deleted, a second copy of every value (${fx(hmrInit, 0)} KB); the artifact model counts neither.`,
  ];
  return lines.join('\n');
}

export const rwExperiment: Experiment = {
  name: 'rw',
  title: 'rw microbenchmark: latency and storage against read ratio',
  figure: 'Figs. 13 and 14',
  description: 'median latency, records per request, crossover and time-averaged storage of Boki, HM-R and HM-W over read ratios 0.1..0.9 at 100 rps',
  plan,
  render,
};
