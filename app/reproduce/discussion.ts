/**
 * The "where it differs and why" part of REPRODUCTION.md, written from the saved results: each gap
 * with its cause, classified as a model assumption, a parameter, or a real difference the
 * simulation reveals, with the numbers that support it. Experiments that were not run are skipped.
 */
import { TARGETS } from './calibration.ts';
import { fx, pct, ratio } from './format.ts';
import { RW_LATENCY, RW_STORAGE } from './published.ts';
import { meanOf } from './runner.ts';
import { modelCrossover } from './stats.ts';
import type { Experiment, ExperimentResult, PointResult, Rendered } from './types.ts';

type All = readonly { exp: Experiment; result: ExperimentResult; rendered: Rendered }[];

function resultOf(all: All, name: string): ExperimentResult | null {
  return all.find((x) => x.exp.name === name)?.result ?? null;
}

function point(r: ExperimentResult | null, labels: Record<string, string | number>): PointResult | undefined {
  return r?.points.find((p) => Object.entries(labels).every(([k, v]) => (typeof v === 'number' ? Math.abs(Number(p.labels[k]) - v) < 1e-9 : p.labels[k] === v)));
}

/** The mean of a measure over every point of a protocol (e.g. a log call's median over read ratios). */
function avgOver(r: ExperimentResult | null, protocol: string, measure: string): number | null {
  const xs = (r?.points ?? []).filter((p) => p.labels.protocol === protocol).map((p) => meanOf(p, measure)).filter((x): x is number => x !== null);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function rwSection(rw: ExperimentResult): string[] {
  const append = avgOver(rw, 'boki', 'call.append.p50Ms');
  const tCa = avgOver(rw, 'hm-write', 'call.condAppend.p50Ms');
  const tRp = avgOver(rw, 'hm-read', 'call.readPrevFound.p50Ms');
  const readNext = avgOver(rw, 'boki', 'call.readNext.p50Ms');
  const err = (proto: string, key: 'boki' | 'hmr' | 'hmw') => {
    const xs = RW_LATENCY.map((x) => {
      const v = meanOf(point(rw, { protocol: proto, r: x.r }), 'p50Ms');
      return v === null ? null : v - x[key];
    }).filter((x): x is number => x !== null);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  const red = (r: number) => {
    const b = meanOf(point(rw, { protocol: 'boki', r }), 'p50Ms');
    const h = Math.min(meanOf(point(rw, { protocol: 'hm-read', r }), 'p50Ms') ?? Infinity, meanOf(point(rw, { protocol: 'hm-write', r }), 'p50Ms') ?? Infinity);
    return b === null || !Number.isFinite(h) ? null : (h - b) / b;
  };
  const below = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].filter((r) => {
    const x = red(r);
    return x !== null && -x < 0.2;
  });
  const pubAt07 = RW_LATENCY.find((x) => x.r === 0.7)!;
  const storageErr = (variant: string, tick: '10s' | '60s') => {
    const errs: number[] = [];
    for (const [proto, key] of [
      ['boki', 'boki'],
      ['hm-read', 'hmr'],
      ['hm-write', 'hmw'],
    ] as const) {
      for (const p of RW_STORAGE[tick][key]) {
        const v = meanOf(point(rw, { protocol: proto, r: p.r }), `storage.${variant}.totalKB`);
        if (v !== null) errs.push((v - (p.logKB + p.dataKB)) / (p.logKB + p.dataKB));
      }
    }
    return errs.length ? { mean: errs.reduce((a, b) => a + Math.abs(b), 0) / errs.length, max: Math.max(...errs.map(Math.abs)) } : null;
  };
  const e10 = storageErr('artifact10', '10s');
  const e60 = storageErr('artifact60', '60s');
  const at = (proto: string, r: number, m: string) => meanOf(point(rw, { protocol: proto, r }), m);
  const keyState = at('hm-read', 0.9, 'storage.spec10.part.keyRecordsCurrentKB');
  const initKept = at('hm-read', 0.9, 'storage.spec10.part.initKeptKB');
  const pw = avgOver(rw, 'hm-read', 'record.PostWrite.bytes');
  const pr = avgOver(rw, 'hm-write', 'record.PostRead.bytes');
  const intent = avgOver(rw, 'hm-write', 'record.Intent.bytes');
  const lines = [
    '### rw latency (Fig. 13)',
    '',
    `- **Boki matches the early data** (mean error ${fx(err('boki', 'boki'))} ms over the five published ratios). Its appends come out at ${fx(append, 2)} ms as the functions see them, inside the ${TARGETS.appendMs.lo}-${TARGETS.appendMs.hi} ms anchor (parameter: the Boki log's own link and disk calibration, plus a 0.1 ms IPC hop per call). Its ≥2 catch-up reads per step cost only the hop (${fx(readNext, 2)} ms): the records are in the engine's cache.`,
    `- **Halfmoon is slower than the early data by ${fx(err('hm-read', 'hmr'))} ms (HM-R) and ${fx(err('hm-write', 'hmw'))} ms (HM-W) on average.** Cause, a model assumption: a conditional append completes only when the engine has applied the index that decides it (spec §2, "[inferred]"), ${fx(tCa, 2)} ms against the plain append's ${fx(append, 2)} ms, while the §8.1 fit of the real system puts it at ${TARGETS.condAppendMs.value} ms, no slower than an append. HM-R pays two per write and HM-W one per read, so the gap grows with the write count for HM-R and the read count for HM-W, as the table shows.`,
    `- **Index reads.** An HM-R read whose key stream holds a record costs ${fx(tRp, 2)} ms (the IPC hop plus a fetch of the record from a storage node, since the engine caches only what it appended); the fit says ${TARGETS.readPrevMs.value} ms. HM-R runs start with every key written once (the published runs had 120 s of warm-up): without it most reads would find an empty stream at 0.1 ms and HM-R would look ≈${fx(((tRp ?? 0.34) - 0.1) * 9, 1)} ms faster at r = 0.9.`,
    `- **The crossover** follows from the two: §8.1 gives r* = 2·t_ca/(3·t_ca − t_rp) = ${fx(tCa !== null && tRp !== null ? modelCrossover(tCa, tRp) : null, 2)} with the simulated values, ${fx(modelCrossover(0.89, 0.18), 2)} with the fit; the slower conditional append and the dearer index read move it in opposite directions and nearly cancel.`,
    below.length > 0
      ? `- **Reductions below 20% at r = ${below.map((r) => r.toFixed(1)).join(', ')}.** A real property of the protocols, not of the model: near the crossover neither Halfmoon protocol avoids much logging (HM-R still logs 2 records per write, HM-W 1 per read), and the early data show the same dip (${pct((Math.min(pubAt07.hmr, pubAt07.hmw) - pubAt07.boki) / pubAt07.boki, 0)} at r = 0.7). The abstract's 20-40% holds away from the crossover.`
      : '- The reduction stays within 20-40% at every ratio.',
    '',
    '### rw storage (Fig. 14)',
    '',
    `- **The artifact's model is reproduced**: with the same accounting as \`compute_logsize.py\` (a request's records live from its start to its end, a version until every request started before the next write of its key has finished, collection at the next GC tick) the simulated totals are within ${pct(e10?.mean, 0)} of the early data on average at a 10 s tick (worst ${pct(e10?.max, 0)}) and ${pct(e60?.mean, 0)} at 60 s (worst ${pct(e60?.max, 0)}). Record sizes differ a little (parameter: our JSON records; PostRead ${fx(pr, 0)} B, PostWrite ${fx(pw, 0)} B, Intent ${fx(intent, 0)} B, tags included).`,
    `- **The abstract's 1.5-4.0× is not what Fig. 14's setting gives, in the artifact's data or here.** At 256 B and a 10 s tick every protocol stores the same 2,500 KB of values (10,000 keys), which dilutes the difference in logs: the early data give ${ratio(Math.min(...RW_STORAGE['10s'].boki.map((p, i) => (p.logKB + p.dataKB) / Math.min(RW_STORAGE['10s'].hmr[i]!.logKB + RW_STORAGE['10s'].hmr[i]!.dataKB, RW_STORAGE['10s'].hmw[i]!.logKB + RW_STORAGE['10s'].hmw[i]!.dataKB))))}-${ratio(Math.max(...RW_STORAGE['10s'].boki.map((p, i) => (p.logKB + p.dataKB) / Math.min(RW_STORAGE['10s'].hmr[i]!.logKB + RW_STORAGE['10s'].hmr[i]!.dataKB, RW_STORAGE['10s'].hmw[i]!.logKB + RW_STORAGE['10s'].hmw[i]!.dataKB))))} and the simulation the table's values. The band appears with a 60 s tick, when logs pile up (see the 60 s columns): the claim depends on the GC interval (and, in the artifact's sweep, on larger values).`,
    `- **Under the spec's own GC rule (§3.5) HM-R loses its storage advantage**, a real difference the simulation reveals: HM-R readers find versions through key streams, so the latest PostWrite of every key must outlive its request (${fx(keyState, 0)} KB at r = 0.9, 10,000 keys), and "INIT is never deleted" keeps a second copy of every value (${fx(initKept, 0)} KB). The artifact's model frees both. With the spec rule HM-W is the storage-better protocol at every ratio and Boki ÷ best is the table's "spec §3.5" column; collecting INIT like any version helps only at high read ratios. Keeping HM-R compact would need a rule the spec does not have (for example, folding the latest version into the base row and trimming the key stream behind the minimum cursor).`,
    `- **Method.** The storage model is an analysis of the run's history (proofs/storage.ts): versions, cursors and completions are taken from the simulated run, and the steady-state average comes from Little's law over the measured requests plus a direct integral of what every key always holds (its current value, and under HM-R its latest key-stream record), with each collection delayed by the expected half tick (a uniformly random tick phase). That lets 2-second runs stand for the artifact's 600-second ones. The published workload's 5 ms sleep after each operation is not simulated: the simulator has no resource contention, so it would change latency not at all and each request's retention by 50 ms against ≈5 s of GC delay (≈1%).`,
  ];
  return lines;
}

function appsSection(all: All): string[] {
  const hotel = resultOf(all, 'hotel');
  const movie = resultOf(all, 'movie');
  if (!hotel && !movie) return [];
  const lines = ['### Applications (Figs. 11, 12)', ''];
  const flat = (r: ExperimentResult | null, proto: string) => {
    const xs = (r?.points ?? []).filter((p) => p.labels.protocol === proto).map((p) => meanOf(p, 'p50Ms')).filter((x): x is number => x !== null);
    return xs.length ? Math.max(...xs) - Math.min(...xs) : null;
  };
  lines.push(
    `- **Latency does not grow with load** (Boki's p50 moves by ${fx(flat(hotel, 'boki'), 1)} ms across the hotel sweep, ${fx(flat(movie, 'boki'), 1)} ms across movie). A model assumption: engines, functions and the store have no service queues, so the knee where the paper's curves rise is not reproduced; the simulated curves are the low-load end of the published ones.`,
    `- **p99 sits close to p50**: store service times are constant (no published distribution of DynamoDB's latency exists to draw from), so the tails carry only the log's own spread.`,
  );
  if (hotel) {
    const b = meanOf(point(hotel, { protocol: 'boki', rps: 100 }), 'p50Ms');
    lines.push(`- **Boki's hotel p50 is ${fx(b)} ms against BokiFlow's 19-20 ms** in the Boki paper's own evaluation. A parameter: the store costs here are the Halfmoon spec's assumed 2.0 / 3.8 ms (fitted to the Halfmoon rw data), not the Boki paper's deployment, and a hotel search chains an invocation, a store read and a log step per service.`);
  }
  if (movie) {
    const r = meanOf(point(movie, { protocol: 'hm-read', rps: 100 }), 'p50Ms');
    const w = meanOf(point(movie, { protocol: 'hm-write', rps: 100 }), 'p50Ms');
    const rr = meanOf(point(movie, { protocol: 'hm-read', rps: 100 }), 'appendsPerRequest');
    const wr = meanOf(point(movie, { protocol: 'hm-write', rps: 100 }), 'appendsPerRequest');
    lines.push(
      `- **On movie, HM-R has the lower latency (${fx(r)} vs ${fx(w)} ms) although movie is the write-heavy workload** the spec assigns to HM-W, while HM-W logs fewer records (${fx(wr, 0)} vs ${fx(rr, 0)} per request). A real difference the simulation reveals: the review's writes run in asynchronous composeReview callees, outside the request's latency, so the critical path is the frontend's invocations and reads, which HM-R serves without logging. Which protocol "wins" movie depends on whether latency or log volume is the objective.`,
    );
  }
  return lines;
}

function singleopSection(r: ExperimentResult): string[] {
  const inv = meanOf(point(r, { protocol: 'hm-write' }), 'op.invoke.p50Ms');
  return [
    '### Single operations (Fig. 10)',
    '',
    `- Reads and writes follow the spec's cost table within the gaps explained for rw (the conditional append). **Invocations are cheaper than the model** (HM-W ${fx(inv, 2)} ms against 2.89): a callee runs on its caller's node at no cost in the simulation, where the model charges 1 ms of invocation overhead, a model assumption that only the singleop and application workloads exercise.`,
  ];
}

function switchingSection(r: ExperimentResult, rw: ExperimentResult | null): string[] {
  const delays: number[] = [];
  const phaseUs = Number(r.points[0]?.labels.phaseUs ?? 5_000_000);
  for (const p of r.points) {
    for (let i = 0; i < 64; i++) {
      const s = meanOf(p, `transition.${i}.startS`);
      if (s === null) continue;
      delays.push(s - Math.floor(s / (phaseUs / 1e6)) * (phaseUs / 1e6));
    }
  }
  // Latency just before and after each switch to HM-R (both at read ratio 0.8).
  const before: number[] = [];
  const after: number[] = [];
  for (const p of r.points) {
    for (let i = 0; i < 64; i++) {
      if ((meanOf(p, `transition.${i}.toHMR`) ?? 0) < 0.5) continue;
      const b = meanOf(p, `transition.${i}.p50BeforeMs`);
      const a = meanOf(p, `transition.${i}.p50AfterMs`);
      if (b !== null && a !== null) {
        before.push(b);
        after.push(a);
      }
    }
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : null);
  // With the mirror an HM-R write costs 2·t_ca + put + update, an HM-R read t_rp + get; HM-W pays
  // get + t_ca per read and one update per write: HM-R wins above (2·t_ca + u)/(3·t_ca − t_rp + u).
  const tCa = avgOver(rw, 'hm-write', 'call.condAppend.p50Ms') ?? TARGETS.condAppendMs.value;
  const tRp = avgOver(rw, 'hm-read', 'call.readPrevFound.p50Ms') ?? TARGETS.readPrevMs.value;
  const u = TARGETS.storePutMs;
  const mirrored = (2 * tCa + u) / (3 * tCa - tRp + u);
  const plainHmr = meanOf(point(rw, { protocol: 'hm-read', r: 0.8 }), 'p50Ms');
  const plainHmw = meanOf(point(rw, { protocol: 'hm-write', r: 0.8 }), 'p50Ms');
  return [
    '### Switching (Fig. 15)',
    '',
    `- **Switching to HM-R at read ratio 0.8 makes requests slower, not faster**: median ${fx(mean(before))} ms under HM-W before the switch, ${fx(mean(after))} ms under HM-R after it${plainHmr !== null ? ` (rw without switching: HM-R ${fx(plainHmr)} ms, HM-W ${fx(plainHmw)} ms at r = 0.8)` : ''}. A real difference the simulation reveals: with switching enabled, every HM-R write mirrors its value into the base row (spec §8.3, so HM-W and transitional readers see HM-R-era writes), one more conditional store update per write. With the simulated log latencies that moves the latency crossover from ${fx(modelCrossover(tCa, tRp), 2)} to ${fx(mirrored, 2)} ((2·t_ca + u)/(3·t_ca − t_rp + u), u the update's 3.8 ms), while the adaptive controller still decides with the §8.1 model's r* ≈ 0.71 (\`tCaUs\`/\`tRpUs\`, spec §8.4). The switch still pays off in records: 6 per request under HM-R against 10 under HM-W at r = 0.8 (the phase table).`,
    `- No published number to compare: the figure's values were not available. The controller detects each phase change after ${delays.length ? `${fx(Math.min(...delays), 2)}-${fx(Math.max(...delays), 2)}` : '–'} s (its 500 ms EWMA window plus the 1 s minimum dwell, spec §8.4), and transitions to HM-R take longer than those to HM-W because they wait for the last HM-W instance and then reconcile the keys HM-W wrote (markers, §8.3). Requests never block: transitional requests log both sides and run slower while the transition lasts.`,
  ];
}

export function discussion(all: All): string {
  const parts: string[] = ['## Where the simulation differs, and why', ''];
  const singleop = resultOf(all, 'singleop');
  const rw = resultOf(all, 'rw');
  const sw = resultOf(all, 'switching');
  if (rw) parts.push(...rwSection(rw), '');
  if (singleop) parts.push(...singleopSection(singleop), '');
  parts.push(...appsSection(all), '');
  if (sw) parts.push(...switchingSection(sw, rw), '');
  return parts.join('\n');
}
