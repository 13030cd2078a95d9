/**
 * Benchmarks behind `halfmoon bench` / `npm run bench`. Each prints figures as plain numbers so a
 * run can be compared with the last one. Wall-clock reads are confined to `measure`.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Machine } from '../../src/core/contract.ts';
import { replayFile } from '../../sim/replay.ts';
import { loadTrace } from '../viewer/load.ts';
import { EventQueue } from '../../sim/queue.ts';
import { createRng } from '../../sim/rng.ts';
import { bokiAppendBench, realOpLatency, realWorkflowBench, syncedAppend, tcpRoundTrip } from '../../src/runtime/real/bench.ts';
import { LOOPBACK_CLUSTER_PARAMS, loopbackCalibrationSets } from '../reproduce/calibration-loopback.ts';
import { runOnce } from '../../sim/run.ts';
import { sweep } from '../../sim/sweep.ts';
import { buildInstance, resolveScenario } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { Simulator } from '../../sim/simulator.ts';
import { ModelBuilder, type ViewModel } from '../viewer/model.ts';
import { toPerfetto } from '../viewer/perfetto.ts';
import { syntheticTraceLines } from '../viewer/synthetic.ts';
import { cpuNowMs, wallNowMs } from '../../sim/wallclock.ts';
import { cloneState } from '../../sim/explore/clone.ts';
import { explore } from '../../sim/explore/index.ts';
import { exploreParallel } from '../../sim/explore/parallel.ts';
import { buildModel } from '../../sim/explore/registry.ts';

export interface BenchResult {
  readonly name: string;
  readonly figures: Readonly<Record<string, number | string>>;
}

export interface Bench {
  readonly name: string;
  readonly description: string;
  /** Simulator benches are synchronous; real-mode ones (sockets, disks) return a promise. */
  run(quick: boolean): BenchResult | Promise<BenchResult>;
}

/** Median of `rounds` timings of `f` (after one warm-up), in ms. */
export function measure(f: () => void, rounds = 5): number {
  f();
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = wallNowMs();
    f();
    t.push(wallNowMs() - a);
  }
  t.sort((x, y) => x - y);
  return t[Math.floor(t.length / 2)]!;
}

/** Like `measure`, with the median CPU time of the same rounds (steadier on a shared machine). */
export function measureBoth(f: () => void, rounds = 5): { wallMs: number; cpuMs: number } {
  f();
  const w: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = wallNowMs();
    const ca = cpuNowMs();
    f();
    c.push(cpuNowMs() - ca);
    w.push(wallNowMs() - a);
  }
  const med = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { wallMs: med(w), cpuMs: med(c) };
}

const eventQueueBench: Bench = {
  name: 'event-queue',
  description: 'push+pop through the (time, seq) heap holding 1,000 pending events',
  run(quick) {
    const n = quick ? 200_000 : 2_000_000;
    const rng = createRng(1);
    const ms = measure(() => {
      const q = new EventQueue<number>(2048);
      for (let i = 0; i < 1000; i++) q.push(rng.int(0, 1000), i);
      for (let i = 0; i < n; i++) {
        const x = q.pop()!;
        q.push(q.lastTime + 1 + (rng.nextU32() & 1023), x);
      }
    });
    return { name: this.name, figures: { operations: n, eventsPerSec: Math.round((n / ms) * 1000) } };
  },
};

/** A node that does nothing but re-arm one timer: the simulator's dispatch cost alone. */
const ticker: Machine<null, null> = {
  role: 'ticker',
  init: () => null,
  recover: () => null,
  step: (s, input) => (input.type === 'timer' || input.type === 'start' ? { state: s, effects: [{ type: 'setTimer', timer: 't', delayUs: 10 }] } : { state: s, effects: [] }),
};

const simBareBench: Bench = {
  name: 'sim-bare-loop',
  description: 'simulator event loop with 100 nodes that only re-arm a timer (dispatch, timers, hash)',
  run(quick) {
    const events = quick ? 200_000 : 2_000_000;
    const scenario = parseScenario(
      { name: 'bench-bare', description: 'bench', system: 'none', limits: { events, simulatedTimeUs: 1e12, wallMs: 600_000 } },
      'bench',
    );
    const nodes = Array.from({ length: 100 }, (_, i) => ({ id: `n${i}`, role: 'ticker', machine: ticker, config: null }));
    let ran = 0;
    const ms = measure(() => {
      const sim = new Simulator({ scenario, instance: { nodes, invariants: [], checkers: [] }, seed: 1 });
      ran = sim.run().events;
    }, 3);
    return { name: this.name, figures: { events: ran, eventsPerSec: Math.round((ran / ms) * 1000) } };
  },
};

const registerFaultsBench: Bench = {
  name: 'register-chaos',
  description: 'the example protocol under the random nemesis (every fault kind), checkers included',
  run(quick) {
    const seeds = quick ? 3 : 20;
    let events = 0;
    let simUs = 0;
    const ms = measure(() => {
      events = 0;
      simUs = 0;
      for (let s = 1; s <= seeds; s++) {
        const r = runOnce({ scenario: 'register-chaos', seed: s });
        events += r.events;
        simUs += r.simulatedTimeUs;
      }
    }, 3);
    return {
      name: this.name,
      figures: { seeds, events, eventsPerSec: Math.round((events / ms) * 1000), simulatedToWall: Math.round(simUs / 1000 / ms) },
    };
  },
};

/**
 * The viewer's server-side costs on a synthetic run: building the view model from the trace's
 * lines (what `halfmoon view` does before it serves), and exporting to Perfetto JSON.
 */
const viewerBench: Bench = {
  name: 'viewer-model',
  description: 'view model and Perfetto export of a synthetic 100,000-step trace (20,000 when quick)',
  run(quick) {
    const steps = quick ? 20_000 : 100_000;
    const lines = syntheticTraceLines({ steps });
    const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
    let model: ViewModel | null = null;
    const buildMs = measure(() => {
      const b = new ModelBuilder(JSON.parse(lines[0]!) as Record<string, unknown>, 'synthetic.jsonl', null);
      for (let i = 1; i < lines.length; i++) b.add(JSON.parse(lines[i]!) as Record<string, unknown>, i);
      model = b.finish();
    }, 3);
    const m = model as unknown as ViewModel;
    let events = 0;
    const exportMs = measure(() => {
      events = toPerfetto(m).traceEvents.length;
    }, 3);
    return {
      name: this.name,
      figures: {
        steps,
        traceMB: Math.round(bytes / 1e5) / 10,
        modelMs: Math.round(buildMs),
        modelJsonMB: Math.round(JSON.stringify(m).length / 1e5) / 10,
        perfettoMs: Math.round(exportMs),
        perfettoEvents: events,
      },
    };
  },
};

/**
 * Real mode, measured in one run so the figures compare: the platform's floor (a framed TCP round
 * trip between two processes, one synced append) and a register operation on the real runtime
 * (two quorum round trips and a synced put), whose ratio to the floor is the runtime's overhead.
 */
const realBench: Bench = {
  name: 'real-mode',
  description: 'loopback TCP round trip between two processes, synced append, register op on the real runtime (p50/p99 in us)',
  async run(quick) {
    const rtt = await tcpRoundTrip(quick ? 2000 : 20_000);
    const sync = await syncedAppend(quick ? 200 : 2000);
    const ops = quick ? 100 : 1000;
    const script = Array.from({ length: ops }, (_, i) => (i % 2 === 0 ? { client: i % 3, op: 'write', value: `v${i}` } : { client: i % 3, op: 'read' }));
    const scenario = parseScenario({ name: 'bench-real', description: 'bench', system: 'register', params: { script } }, 'bench');
    const reg = await realOpLatency(buildInstance(scenario), 'register');
    return {
      name: this.name,
      figures: {
        tcpRttP50Us: rtt.p50Us,
        tcpRttP99Us: rtt.p99Us,
        syncedAppendP50Us: sync.p50Us,
        syncedAppendP99Us: sync.p99Us,
        registerOps: reg.samples,
        registerOpP50Us: reg.p50Us,
        registerOpP99Us: reg.p99Us,
        registerOpP50OverRttP50: Math.round((reg.p50Us / Math.max(1, rtt.p50Us)) * 10) / 10,
      },
    };
  },
};

/**
 * Boki appends on a real cluster (one process per node, ZooKeeper when installed), beside the
 * raw round trip between two processes and one synced append measured in the same run: the
 * append's p50 over the round trip's p50 is the figure the real runtime is judged by.
 */
const realAppendBench: Bench = {
  name: 'real-append',
  description: 'Boki append latency (one in flight) and throughput (64 invocations) on a real loopback cluster, beside the raw TCP round trip (us)',
  async run(quick) {
    const rtt = await tcpRoundTrip(quick ? 2000 : 20_000);
    const sync = await syncedAppend(quick ? 200 : 1000);
    const a = await bokiAppendBench({ appends: quick ? 300 : 2000, concurrency: 64, throughputMs: quick ? 3000 : 10_000 });
    return {
      name: this.name,
      figures: {
        tcpRttP50Us: rtt.p50Us,
        tcpRttP99Us: rtt.p99Us,
        syncedAppendP50Us: sync.p50Us,
        syncedAppendP99Us: sync.p99Us,
        appends: a.latency.samples,
        appendP50Us: a.latency.p50Us,
        appendP99Us: a.latency.p99Us,
        appendP50OverRttP50: Math.round((a.latency.p50Us / Math.max(1, rtt.p50Us)) * 10) / 10,
        appendsPerSec: a.appendsPerSec,
        concurrency: a.concurrency,
        coordination: a.coordination,
        ...Object.fromEntries(Object.entries(a.cpuUsPerAppend).map(([id, us]) => [`cpuUsPerAppend_${id}`, us])),
      },
    };
  },
};

/**
 * The rw workflow (wf-rw, hm-read) on a real Halfmoon-on-Boki cluster, beside the same scenario
 * simulated with the loopback calibration (app/reproduce/calibration-loopback.ts: this machine's
 * measured hop and sync, the real cluster's topology and store): the ratio is what the real
 * runtime adds beyond the network and disk it runs on (goal: within 2x).
 */
const realWfBench: Bench = {
  name: 'real-wf',
  description: 'wf-rw hm-read request latency on a real Boki cluster and simulated with the loopback calibration (p50/p99 in us)',
  async run(quick) {
    const requests = quick ? 48 : 200;
    const sets: [string, unknown][] = [
      ['protocol', 'hm-read'],
      ['requests', requests],
    ];
    const sim = runOnce({ scenario: 'wf-rw', seed: 1, sets: [...loopbackCalibrationSets(), ...sets] });
    const simLat = ((sim.report as Record<string, unknown>).latencyUs ?? {}) as { p50?: number; p99?: number };
    const real = await realWorkflowBench({ scenario: 'wf-rw', params: LOOPBACK_CLUSTER_PARAMS, sets });
    const simP50 = simLat.p50 ?? 0;
    return {
      name: this.name,
      figures: {
        requests,
        wfRwRealP50Us: real.p50Us,
        wfRwRealP99Us: real.p99Us,
        wfRwRealViolations: real.violations,
        wfRwSimLoopbackP50Us: simP50,
        wfRwSimLoopbackP99Us: simLat.p99 ?? 0,
        wfRwRealOverSimP50: Math.round((real.p50Us / Math.max(1, simP50)) * 10) / 10,
        appendsPerRequestReal: real.appendsPerRequest,
      },
    };
  },
};

/**
 * The Boki shared log at the published size (3 sequencers + 2 spares, 8 engines indexing every
 * log, 3 storage nodes, 300 us cuts) under about 1,000 appends per second, fault-free: simulated
 * events per second of wall time and the simulated-to-wall ratio, with every checker and
 * invariant on (as sweeps run it) and, for comparison, with them off.
 */
const bokiLogBench: Bench = {
  name: 'boki-log',
  description: 'Boki shared log, published topology, ~1,000 appends/s, checkers on and off, and checkers on with the compact index feed',
  run(quick) {
    const durationMs = quick ? 500 : 3000;
    const seeds = quick ? 1 : 3;
    const published = resolveScenario({ scenario: 'log-smoke', sets: [['durationMs', durationMs]] });
    // The project's compact index feed (params.publishedIndexFeed false, docs/boki.md), measured beside the default.
    const compact = resolveScenario({ scenario: 'log-smoke', sets: [['durationMs', durationMs], ['publishedIndexFeed', false]] });
    const once = (bare: boolean, scenario = published) => {
      let events = 0;
      let simUs = 0;
      let appends = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const inst = buildInstance(scenario);
        const instance = bare ? { ...inst, checkers: [], invariants: [] } : inst;
        const r = new Simulator({ scenario, instance, seed }).run();
        events += r.events;
        simUs += r.simulatedTimeUs;
        appends += ((r.report.log as { appends?: number } | undefined)?.appends ?? 0);
      }
      return { events, simUs, appends };
    };
    let full = { events: 0, simUs: 0, appends: 0 };
    const tFull = measureBoth(() => {
      full = once(false);
    }, 3);
    const msFull = tFull.wallMs;
    let bare = { events: 0, simUs: 0, appends: 0 };
    const tBare = measureBoth(() => {
      bare = once(true);
    }, 3);
    const msBare = tBare.wallMs;
    let comp = { events: 0, simUs: 0, appends: 0 };
    const tComp = measureBoth(() => {
      comp = once(false, compact);
    }, 3);
    return {
      name: this.name,
      figures: {
        seeds,
        durationMs,
        events: full.events,
        simulatedMs: Math.round(full.simUs / 1000),
        eventsPerAppend: Math.round((full.events / Math.max(1, full.appends)) * 10) / 10,
        eventsPerSec: Math.round((full.events / msFull) * 1000),
        simulatedToWall: Math.round((full.simUs / 1000 / msFull) * 100) / 100,
        simulatedToCpu: Math.round((full.simUs / 1000 / Math.max(tFull.cpuMs, 0.001)) * 100) / 100,
        eventsPerSecNoCheckers: Math.round((bare.events / msBare) * 1000),
        simulatedToWallNoCheckers: Math.round((bare.simUs / 1000 / msBare) * 100) / 100,
        simulatedToCpuNoCheckers: Math.round((bare.simUs / 1000 / Math.max(tBare.cpuMs, 0.001)) * 100) / 100,
        compactFeedEventsPerAppend: Math.round((comp.events / Math.max(1, comp.appends)) * 10) / 10,
        compactFeedEventsPerSec: Math.round((comp.events / tComp.wallMs) * 1000),
        compactFeedSimulatedToWall: Math.round((comp.simUs / 1000 / tComp.wallMs) * 100) / 100,
        compactFeedSimulatedToCpu: Math.round((comp.simUs / 1000 / Math.max(tComp.cpuMs, 0.001)) * 100) / 100,
      },
    };
  },
};

/**
 * Sweeps as users run them: seeds of the Boki log per second of wall time in this thread (one
 * worker) and over two worker threads, and the scaling between them (goal: 2 workers >= 1.8x
 * one on two idle cores). Worker start-up (each loads the sources) is part of the figure, as it
 * is of every sweep. The combined hash must not depend on the number of workers; a mismatch throws.
 */
const sweepBench: Bench = {
  name: 'sweep',
  description: 'sweep of log-smoke (16 seeds of 1 simulated s; 4 of 0.2 s with --quick) with 1 and 2 workers: seeds/s and scaling',
  async run(quick) {
    const n = quick ? 4 : 16;
    const sets: [string, unknown][] = [['durationMs', quick ? 200 : 1000]];
    const seeds = Array.from({ length: n }, (_, i) => i + 1);
    const timed = async (workers: number) => {
      const w0 = wallNowMs();
      const r = await sweep({ scenario: 'log-smoke', sets, variant: null, seeds, workers });
      return { ms: wallNowMs() - w0, hash: r.traceHash, simUs: r.simulatedTimeUs };
    };
    await timed(1); // warm-up: the scenario and the code are loaded once in this thread (workers load their own)
    const one = await timed(1);
    const two = await timed(2);
    if (one.hash !== two.hash) throw new Error(`sweep: 1 and 2 workers gave different combined hashes (${one.hash}, ${two.hash})`);
    const sps = (ms: number) => Math.round((n / ms) * 1000 * 100) / 100;
    return {
      name: this.name,
      figures: {
        scenario: 'log-smoke',
        seeds: n,
        seedsPerSec1Worker: sps(one.ms),
        seedsPerSec2Workers: sps(two.ms),
        workerScaling: Math.round((one.ms / two.ms) * 100) / 100,
        simulatedToWall1Worker: Math.round((one.simUs / 1000 / one.ms) * 100) / 100,
      },
    };
  },
};

/**
 * The explorer on two-phase commit with 8 resource managers: 1,745,408 unique states, the
 * benchmark Stateright and TLC are compared on. A C model checker does about 1.1 million unique
 * states per second on this machine; the target is at least 300,000 on one core.
 */
const explore2pcBench: Bench = {
  name: 'explore-2pc',
  description: 'exhaustive bfs of 2pc (TLA+ TwoPhase) with 8 resource managers (6 with --quick), in one thread and over 2 worker threads (--workers 2)',
  async run(quick) {
    const rms = quick ? 6 : 8;
    const model = buildModel('2pc', [['rms', rms]], null);
    let r = explore(model, { strategy: 'bfs' });
    const ms = measure(() => {
      r = explore(model, { strategy: 'bfs' });
    }, quick ? 3 : 1);
    // Two workers, start-up included (each loads the explorer and builds the model), as a user
    // running `check --workers 2` sees it; the first run also builds the workers' bundle.
    const spec = { model: '2pc', sets: [['rms', rms]] as [string, unknown][], variant: null };
    await exploreParallel(spec, { strategy: 'bfs' }, 2);
    const w0 = wallNowMs();
    const two = await exploreParallel(spec, { strategy: 'bfs' }, 2);
    const ms2 = wallNowMs() - w0;
    if (two.uniqueStates !== r.uniqueStates || two.statesGenerated !== r.statesGenerated) {
      throw new Error(`explore-2pc: 2 workers found ${two.uniqueStates} states (${two.statesGenerated} generated), one thread ${r.uniqueStates} (${r.statesGenerated})`);
    }
    return {
      name: this.name,
      figures: {
        rms,
        uniqueStates: r.uniqueStates,
        statesGenerated: r.statesGenerated,
        statesPerSecond: Math.round((r.uniqueStates / ms) * 1000),
        bytesPerState: r.bytesPerState,
        wallMs: Math.round(ms),
        statesPerSecond1Worker: Math.round((r.uniqueStates / ms) * 1000),
        statesPerSecond2Workers: Math.round((two.uniqueStates / ms2) * 1000),
        wallMs2Workers: Math.round(ms2),
        workerScaling: Math.round((ms / ms2) * 100) / 100,
      },
    };
  },
};

/** The adapter on the register system: machine steps, copies, hashing and checkers per state. */
const exploreRegisterBench: Bench = {
  name: 'explore-register',
  description: 'bfs of the ABD register through the SystemInstance adapter (first 100,000 states; 20,000 with --quick), with and without symmetry',
  run(quick) {
    const statesMax = quick ? 20_000 : 100_000;
    const model = buildModel('register', [], null);
    const plain = explore(model, { strategy: 'bfs', statesMax });
    const sym = explore(model, { strategy: 'bfs', statesMax, symmetry: true });
    return {
      name: this.name,
      figures: {
        uniqueStates: plain.uniqueStates,
        statesPerSecond: plain.statesPerSecond,
        generatedPerSecond: Math.round((plain.statesGenerated / Math.max(plain.wallMs, 1)) * 1000),
        bytesPerState: plain.bytesPerState,
        symmetryStatesPerSecond: sym.statesPerSecond,
      },
    };
  },
};

/** The adapter on the workflow and log models, the real models users check (bfs, first states). */
function exploreModelBench(name: string, model: string, description: string): Bench {
  return {
    name,
    description,
    run(quick) {
      const statesMax = quick ? 5_000 : 30_000;
      const m = buildModel(model, [], null);
      const r = explore(m, { strategy: 'bfs', statesMax });
      return {
        name: this.name,
        figures: {
          uniqueStates: r.uniqueStates,
          statesGenerated: r.statesGenerated,
          statesPerSecond: r.statesPerSecond,
          generatedPerSecond: Math.round((r.statesGenerated / Math.max(r.wallMs, 1)) * 1000),
          wallMs: Math.round(r.wallMs),
        },
      };
    },
  };
}

const exploreWfTinyBench = exploreModelBench('explore-wf-tiny', 'wf-tiny', 'bfs of wf-tiny (Halfmoon workflows through the adapter; first 30,000 states, 5,000 with --quick)');
const exploreLogTinyBench = exploreModelBench('explore-log-tiny', 'log-tiny', 'bfs of log-tiny (the Boki shared log through the adapter; first 30,000 states, 5,000 with --quick)');

/** Copying a machine state before a step: the explorer's hand-written copy against structuredClone. */
const exploreCloneBench: Bench = {
  name: 'explore-clone',
  description: 'copying a register client state mid-operation: cloneState vs structuredClone',
  run(quick) {
    const n = quick ? 20_000 : 200_000;
    const state = {
      cfg: { replicas: ['r0', 'r1', 'r2'], retransmitUs: 5000, giveUpUs: 30000, variant: null },
      op: { reqId: 'c0#3', req: { op: 'write', value: 'c0.3' }, phase: 'update', opId: 'c0:8', acked: ['r0', 'r2'], best: { ts: { n: 3, w: 'c1' }, value: 'c1.2' }, put: { ts: { n: 4, w: 'c0' }, value: 'c0.3' } },
      queue: [],
      done: new Map([['c0#0', { ok: true, value: 'c0.0' }], ['c0#1', { ok: true, value: null }], ['c0#2', { ok: true, value: 'c1.1' }]]),
      seq: 8,
    };
    let sink = 0;
    const ours = measure(() => {
      for (let i = 0; i < n; i++) sink += (cloneState(state) as { seq: number }).seq;
    });
    const native = measure(() => {
      for (let i = 0; i < n; i++) sink += (structuredClone(state) as { seq: number }).seq;
    });
    return { name: this.name, figures: { cloneStateNs: Math.round((ours * 1e6) / n), structuredCloneNs: Math.round((native * 1e6) / n), checksum: sink % 7 } };
  },
};


/**
 * Flat memory: a long sweep in this thread (register-smoke, five operations per client) with the
 * resident set size sampled after the first tenth of the seeds and at the end. A leak per seed
 * (a trace, a history or a cache kept across runs) shows as growth between the two samples.
 */
const sweepRssBench: Bench = {
  name: 'sweep-rss',
  description: 'resident memory of a 10,000-seed sweep in one thread (1,000 when quick): RSS after a tenth and after all seeds',
  async run(quick) {
    const total = quick ? 1000 : 10_000;
    const mark = total / 10;
    // A full collection before each sample, so the figures show what is retained, not garbage
    // the collector has not reached yet.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const round = (b: number) => Math.round((b / (1024 * 1024)) * 10) / 10;
    const mb = () => {
      gc();
      return round(process.memoryUsage.rss());
    };
    const heap = () => round(process.memoryUsage().heapUsed);
    const rssBefore = mb();
    let rssAtMark = 0;
    let heapAtMark = 0;
    const t0 = wallNowMs();
    const r = await sweep({
      scenario: 'register-smoke',
      sets: [['opsPerClient', 5]],
      variant: null,
      seeds: Array.from({ length: total }, (_, i) => i + 1),
      workers: 1,
      onProgress: (done) => {
        if (done === mark) {
          rssAtMark = mb();
          heapAtMark = heap();
        }
      },
    });
    const rssEnd = mb();
    const heapEnd = heap();
    return {
      name: this.name,
      figures: {
        seeds: r.seeds,
        rssMbBefore: rssBefore,
        [`rssMbAfter${mark}Seeds`]: rssAtMark,
        [`rssMbAfter${total}Seeds`]: rssEnd,
        [`heapMbAfter${mark}Seeds`]: heapAtMark,
        [`heapMbAfter${total}Seeds`]: heapEnd,
        growthMbPer1000Seeds: Math.round(((rssEnd - rssAtMark) / ((total - mark) / 1000)) * 100) / 100,
        seedsPerSec: Math.round((total / (wallNowMs() - t0)) * 1000),
      },
    };
  },
};

/**
 * Traces of the flagship failing seed (issue 17): wf-crash-storm, protocol unsafe, seed 1. The
 * run without a trace, with a compact trace (plain and gzip, level states), with level events and
 * full; the files' sizes; replaying the trace (the hash must match); loading it for the viewer
 * (time and the memory it holds). Run time is the median of `rounds` runs after one warm-up run
 * of each (CPU time of this process, which a loaded machine distorts less than wall time, and
 * wall time); `tracedExtraCpuPct` is the default trace's (level states, plain) extra CPU over the
 * run without a trace, the goal of issue 17 being at most 30.
 */
const traceBench: Bench = {
  name: 'trace-wf-crash-storm',
  description: 'record, replay and load the wf-crash-storm unsafe seed 1 trace (plain, gzip, levels)',
  async run(quick) {
    const dir = mkdtempSync(join(tmpdir(), 'hm-bench-trace-'));
    const req = { scenario: 'wf-crash-storm', seed: 1, sets: [['protocol', 'unsafe']] as [string, string][] };
    const rounds = quick ? 1 : 3;
    const plain = join(dir, 't.jsonl');
    const gz = join(dir, 't.jsonl.gz');
    const ev = join(dir, 'events.jsonl.gz');
    const full = join(dir, 'full.jsonl.gz');
    let hash = '';
    let events = 0;
    const evPlain = join(dir, 'events.jsonl');
    const runs: Record<'bare' | 'plain' | 'gz' | 'events', () => void> = {
      bare: () => {
        const r = runOnce(req);
        hash = r.traceHash;
        events = r.events;
      },
      plain: () => void runOnce({ ...req, tracePath: plain }),
      gz: () => void runOnce({ ...req, tracePath: gz }),
      events: () => void runOnce({ ...req, tracePath: evPlain, traceLevel: 'events' }),
    };
    // One untimed run of each first (the JIT warms up on the first run: timing the bare run
    // cold and the traced ones warm would flatter the trace), then the three in turn, round
    // after round, so a drift of the machine's speed falls on all of them.
    const kinds = ['bare', 'plain', 'gz', 'events'] as const;
    const cpu: Record<string, number[]> = { bare: [], plain: [], gz: [], events: [] };
    const wall: Record<string, number[]> = { bare: [], plain: [], gz: [], events: [] };
    for (const k of kinds) runs[k]();
    for (let i = 0; i < rounds; i++) {
      for (const k of kinds) {
        const c = process.cpuUsage();
        const w = wallNowMs();
        runs[k]();
        wall[k]!.push(wallNowMs() - w);
        const d = process.cpuUsage(c);
        cpu[k]!.push((d.user + d.system) / 1000);
      }
    }
    const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
    const bare = { cpu: median(cpu.bare!), wall: median(wall.bare!) };
    const tPlain = { cpu: median(cpu.plain!), wall: median(wall.plain!) };
    const tGz = { cpu: median(cpu.gz!), wall: median(wall.gz!) };
    const tEv = median(cpu.events!);
    runOnce({ ...req, tracePath: ev, traceLevel: 'events' });
    runOnce({ ...req, tracePath: full, traceLevel: 'full' });
    const rep = await replayFile(gz);
    const rss0 = process.memoryUsage().rss;
    const l0 = wallNowMs();
    const loaded = await loadTrace(gz);
    const loadMs = wallNowMs() - l0;
    const rss1 = process.memoryUsage().rss;
    const mb = (f: string) => Math.round(statSync(f).size / 1e4) / 100;
    const pct = (a: number, b: number) => Math.round(((a - b) / b) * 1000) / 10;
    const figures = {
      events,
      traceHash: hash,
      runCpuMs: bare.cpu,
      runWallMs: bare.wall,
      tracedCpuMs: tPlain.cpu,
      tracedWallMs: tPlain.wall,
      tracedExtraCpuPct: pct(tPlain.cpu, bare.cpu),
      tracedGzCpuMs: tGz.cpu,
      tracedGzExtraCpuPct: pct(tGz.cpu, bare.cpu),
      tracedEventsCpuMs: tEv,
      tracedEventsExtraCpuPct: pct(tEv, bare.cpu),
      traceMB: mb(plain),
      traceGzMB: mb(gz),
      traceEventsGzMB: mb(ev),
      traceFullGzMB: mb(full),
      smallerThanV1x: Math.round(637 / mb(plain)),
      replayMatches: rep.matches ? 'yes' : 'NO',
      viewerLoadMs: Math.round(loadMs),
      viewerHeldMB: Math.round(loaded.memoryBytes / 1e5) / 10,
      viewerRssGrowthMB: Math.round((rss1 - rss0) / 1e5) / 10,
      viewerSteps: loaded.model.steps.rec.length,
    };
    rmSync(dir, { recursive: true, force: true });
    return { name: this.name, figures };
  },
};

export const BENCHES: Bench[] = [eventQueueBench, simBareBench, registerFaultsBench, bokiLogBench, sweepBench, viewerBench, traceBench, realBench, realAppendBench, realWfBench, explore2pcBench, exploreRegisterBench, exploreWfTinyBench, exploreLogTinyBench, exploreCloneBench, sweepRssBench];
