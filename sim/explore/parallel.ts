/**
 * The parallel explorer: breadth-first search over worker threads (`--workers n`), the visited
 * set partitioned by fingerprint among them (see `parallel-search.ts` for the protocol). The
 * results are the sequential `bfs`'s: the same unique states, transitions, depth, verdict and
 * violated properties, with counterexamples and witnesses of the same (shortest) length, each a
 * real path of the model (it is rebuilt here by re-executing the model through the fingerprints
 * the workers recorded, exactly as the sequential search rebuilds its paths).
 *
 * Workers rebuild the model from its registry name, settings and variant, so only registry
 * models (and `system:<name>`, plugins included) run in parallel. A search cut by
 * `--max-states` stops once the shared state budget is spent; the workers may hold a few unspent
 * claims then, so such a partial count can fall slightly short of the limit.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { AssertionFailure, InputError } from '../../src/core/assert.ts';
import { loadedPlugins } from '../../src/scenario/plugins.ts';
import { wallNowMs } from '../wallclock.ts';
import { bundleWorker } from '../worker-bundle.ts';
import { type Counters, finish, Judge, StateKey, vacuityMessage } from './judge.ts';
import type { ExploreOptions, ExploreResult, Model, Path } from './model.ts';
import { DEFAULT_OPTIONS } from './model.ts';
import {
  C_MAIL,
  C_STOP,
  type Found,
  type ModelSpec,
  type NodeAnswer,
  type Progress,
  STOP_LIMIT,
  STOP_MEMORY,
  STOP_VIOLATION,
  type WorkerDone,
  type WorkerFailed,
  type WorkerInit,
} from './parallel-search.ts';
import { pathThrough } from './path.ts';
import { buildModel } from './registry.ts';

export type { ModelSpec } from './parallel-search.ts';

export const WORKERS_MAX = 64;

/**
 * Node flags for the workers: this process's, without the TypeScript loader's (tsx's --require
 * and --import hooks would run the bundle through the transpiler, which takes seconds; the
 * fallback worker registers tsx itself).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^(--require|-r|--import|--loader|--experimental-loader)$/.test(a) && i + 1 < argv.length) {
      if (!argv[i + 1]!.includes('tsx')) out.push(a, argv[i + 1]!);
      i++;
      continue;
    }
    if (/^--(require|import|loader|experimental-loader)=/.test(a) && a.includes('tsx')) continue;
    out.push(a);
  }
  return out;
}

type FromWorker = WorkerDone | WorkerFailed | Progress | NodeAnswer;

/** Breadth-first search of a registry model over `workers` threads (2 or more). */
export async function exploreParallel(spec: ModelSpec, options: Partial<ExploreOptions>, workers: number): Promise<ExploreResult<unknown, unknown>> {
  const opts: ExploreOptions = { ...DEFAULT_OPTIONS, ...options };
  if (opts.strategy !== 'bfs') throw new InputError(`--workers: the parallel explorer runs breadth-first search (--strategy bfs), not ${opts.strategy}`);
  if (opts.por) throw new InputError('--workers: partial-order reduction runs with --strategy dfs, in one thread');
  if (!Number.isInteger(workers) || workers < 2 || workers > WORKERS_MAX) throw new InputError(`--workers: expected 2..${WORKERS_MAX} for a parallel search, got ${workers}`);
  if (opts.statesMax > 0x7fff_ffff) throw new InputError(`--max-states: at most ${0x7fff_ffff} with --workers`);
  const t0 = wallNowMs();
  // Built here first: bad settings fail before any worker starts, and paths are rebuilt here.
  const model = buildModel(spec.model, spec.sets, spec.variant) as Model<unknown, unknown>;
  const n = workers;
  const ctrlBuf = new SharedArrayBuffer(4 * (C_MAIL + n));
  const ctrl = new Int32Array(ctrlBuf);
  // One channel per pair of workers.
  const peers: (MessagePort | null)[][] = Array.from({ length: n }, () => new Array<MessagePort | null>(n).fill(null));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ch = new MessageChannel();
      peers[i]![j] = ch.port1;
      peers[j]![i] = ch.port2;
    }
  }
  const plugins = loadedPlugins();
  const boot = (plugins.length === 0 ? await bundleWorker(new URL('./parallel-entry.ts', import.meta.url), 'explore-worker') : null) ?? new URL('./parallel-worker.mjs', import.meta.url);
  const threads: Worker[] = [];
  const progress = Array.from({ length: n }, () => ({ uniqueStates: 0, statesGenerated: 0, depth: 0 }));
  /** Answers to node queries, per worker, in order. */
  const waiting: ((a: NodeAnswer) => void)[][] = Array.from({ length: n }, () => []);
  try {
    const dones = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        return new Promise<WorkerDone>((resolve, reject) => {
          const init: WorkerInit = {
            spec: { model: spec.model, sets: spec.sets.map(([k, v]) => [k, v] as const), variant: spec.variant },
            plugins,
            opts: { depthMax: opts.depthMax, statesMax: opts.statesMax, memoryBytesMax: opts.memoryBytesMax, symmetry: opts.symmetry, violationsMax: Math.max(1, opts.violationsMax) },
            index: i,
            n,
            ctrl: ctrlBuf,
            peers: peers[i]!,
          };
          const own = peers[i]!.filter((p): p is MessagePort => p !== null);
          const w = new Worker(boot, { workerData: init, transferList: own, execArgv: workerExecArgv() });
          threads.push(w);
          w.on('message', (m: FromWorker) => {
            if (m.type === 'done') resolve(m);
            else if (m.type === 'error') reject(new AssertionFailure(`explorer worker ${i}: ${m.error}`));
            else if (m.type === 'progress') {
              progress[i] = m;
              if (opts.onProgress) {
                let u = 0;
                let g = 0;
                let d = 0;
                for (const p of progress) {
                  u += p.uniqueStates;
                  g += p.statesGenerated;
                  d = Math.max(d, p.depth);
                }
                opts.onProgress({ uniqueStates: u, statesGenerated: g, depth: d });
              }
            } else waiting[i]!.shift()?.(m);
          });
          w.on('error', (e) => {
            Atomics.store(ctrl, C_STOP, 4);
            reject(e);
          });
          w.on('exit', (code) => reject(new AssertionFailure(`explorer worker ${i} exited (code ${code}) before its report`)));
        });
      }),
    );
    const ask = (gid: number): Promise<NodeAnswer> =>
      new Promise((resolve) => {
        const w = gid % n;
        waiting[w]!.push(resolve);
        threads[w]!.postMessage({ type: 'node', id: Math.floor(gid / n) });
      });
    const key = new StateKey(model, opts.symmetry);
    const pathTo = async (gid: number): Promise<Path<unknown, unknown>> => {
      const lanes: number[] = [];
      for (let g = gid, k = 0; g >= 0; k++) {
        if (k > 100_000_000) throw new AssertionFailure('parallel explorer: a parent chain longer than any search');
        const a = await ask(g);
        if (a.parent === -2) throw new AssertionFailure(`parallel explorer: worker ${g % n} has no state ${Math.floor(g / n)}`);
        lanes.push(a.b, a.a);
        g = a.parent;
      }
      return pathThrough(model, key, Int32Array.from(lanes.reverse()));
    };
    const judge = new Judge(model, key, opts.violationsMax);
    const c: Counters = { statesGenerated: 0, uniqueStates: 0, maxDepth: 0, depthLimitHit: false, bytes: 0 };
    const found: Found[] = [];
    for (const d of dones) {
      c.statesGenerated += d.statesGenerated;
      c.uniqueStates += d.uniqueStates;
      c.maxDepth = Math.max(c.maxDepth, d.maxDepth);
      c.depthLimitHit ||= d.depthLimitHit;
      c.bytes += d.bytes;
      found.push(...d.violations);
    }
    // The shallowest violations first (the sequential search's order), then by id for a stable pick.
    found.sort((x, y) => x.depth - y.depth || x.gid - y.gid);
    for (const f of found.slice(0, Math.max(1, opts.violationsMax))) judge.record(f.property, f.kind, f.message, await pathTo(f.gid));
    for (const p of model.properties) {
      if (p.kind !== 'sometimes') continue;
      let best: { gid: number; depth: number } | null = null;
      for (const d of dones) {
        const w = d.witnesses[p.name];
        if (w && (best === null || w.depth < best.depth || (w.depth === best.depth && w.gid < best.gid))) best = w;
      }
      if (best === null) continue;
      const path = await pathTo(best.gid);
      judge.witnessed({ property: p.name, kind: 'sometimes', message: `reached after ${path.steps.length} steps`, path });
    }
    const why = Atomics.load(ctrl, C_STOP);
    const memory = dones.find((d) => d.memoryFull !== null)?.memoryFull ?? null;
    const stopReason =
      why === 0 ? null : why === STOP_VIOLATION ? 'stopped at the first violation' : why === STOP_LIMIT ? `reached the limit of ${opts.statesMax} states` : why === STOP_MEMORY ? memory : 'a worker stopped';
    const r = finish(model, opts, judge, c, wallNowMs() - t0, stopReason, { exhaustive: true });
    if (r.verdict === 'fail' && r.violations.length === 0) return { ...r, stopReason: vacuityMessage(judge.unwitnessed(), r.uniqueStates) };
    return r;
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
