import { InputError } from '../../../src/core/assert.ts';
import { describePath, explore } from '../../../sim/explore/index.ts';
import { type ExploreResult, STRATEGIES, type Strategy } from '../../../sim/explore/model.ts';
import { exploreParallel } from '../../../sim/explore/parallel.ts';
import { buildModel, MODELS } from '../../../sim/explore/registry.ts';
import { writeDiscovery } from '../../../sim/explore/trace.ts';
import { FileTraceSink } from '../../../sim/trace.ts';
import { parseSeed, parseSets, parseWorkers, variantArg } from './args.ts';
import type { Command } from './types.ts';

export function parseCount(text: unknown, flag: string, lo: number, hi: number): number {
  if (typeof text !== 'string' || !/^\d+$/.test(text.replace(/_/g, ''))) throw new InputError(`${flag}: expected an integer, got '${String(text)}'`);
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new InputError(`${flag}: expected an integer in [${lo}, ${hi}], got ${text}`);
  return n;
}

export function parseStrategy(text: unknown): Strategy {
  if (text === undefined) return 'bfs';
  if (typeof text !== 'string' || !(STRATEGIES as readonly string[]).includes(text)) throw new InputError(`--strategy: expected one of ${STRATEGIES.join(', ')}, got '${String(text)}'`);
  return text as Strategy;
}

/** The JSON `check --json` prints. */
export function checkJson(r: ExploreResult<unknown, unknown>, describe: (p: ExploreResult<unknown, unknown>['violations'][number]['path']) => string[]): Record<string, unknown> {
  return {
    model: r.model,
    strategy: r.strategy,
    symmetry: r.symmetry,
    por: r.por,
    verdict: r.verdict,
    complete: r.complete,
    depthLimitHit: r.depthLimitHit,
    stopReason: r.stopReason,
    statesGenerated: r.statesGenerated,
    uniqueStates: r.uniqueStates,
    statesPerSecond: r.statesPerSecond,
    bytesPerState: r.bytesPerState,
    maxDepth: r.maxDepth,
    wallMs: r.wallMs,
    ...(r.walks !== undefined ? { walks: r.walks } : {}),
    violations: r.violations.map((v) => ({ property: v.property, kind: v.kind, message: v.message, steps: v.path.steps.length, counterexample: describe(v.path) })),
    witnesses: Object.fromEntries(Object.entries(r.witnesses).map(([k, v]) => [k, v === null ? null : v.path.steps.length])),
  };
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'model-check a model exhaustively (bfs, dfs) or by guided walks (random, pct, coverage)',
  usage: `usage: halfmoon check --model <name> [--strategy bfs|dfs|random|pct|coverage] [--depth <d>]
                      [--max-states <n>] [--set <key=value>]... [--variant <name>] [--protocol <name>]
                      [--symmetry] [--por] [--seed <n>] [--walks <n>] [--memory-mb <n>]
                      [--workers <n>] [--trace <file>] [--json]

Explores every state of a model reachable within the bounds (bfs: level by level, shortest
counterexamples; dfs: depth first) or walks it (random; pct: priority schedules; coverage: walks
that restart from states where new ones were found), checking every property. Prints states
generated, unique states, states per second, memory per state, the verdict and, when a property
fails, the counterexample, which --trace writes as a file 'halfmoon replay' accepts.

Models: ${MODELS.map((m) => `${m.name} (${m.description})`).join('; ')}; system:<name> for any system.

  --set <key=value>   model settings: 2pc takes rms and symmetry=full|sort; system models take the
                      fault budget (crashes, restarts, drops, duplicates, maybes, earlyTimers), the
                      semantics (inFlight=set|multiset, timers=unordered|duration|quiescent,
                      timeStepUs, unsyncedLoss=prefixes|all, checkers=terminal|every,
                      fifo=["<node>",...] for in-order links, stopAtDone=true to end runs at done)
                      and any system parameter (replicas, clients, opsPerClient, protocol, ...)
  --symmetry          reduce by permutations of interchangeable nodes (the model declares them)
  --por               sleep-set partial-order reduction (dfs; fewer states generated)
  --depth <d>         path length bound (guided: steps per walk, default 1000)
  --max-states <n>    stop after n unique states (guided: after n steps)
  --memory-mb <n>     stop before the fingerprint set and frontier exceed n MiB (default 4096)
  --seed, --walks     guided strategies: the walk generator's seed, how many walks
  --workers <n>       bfs over n worker threads, the visited set partitioned by fingerprint: the
                      same states, verdict and shortest counterexample length as one thread

Exit codes: 0 no violation found (the verdict says whether the search was complete), 1 a property
failed, 2 bad input.`,
  options: {
    model: { type: 'string' },
    strategy: { type: 'string' },
    depth: { type: 'string' },
    'max-states': { type: 'string' },
    'memory-mb': { type: 'string' },
    set: { type: 'string', multiple: true },
    variant: { type: 'string' },
    protocol: { type: 'string' },
    symmetry: { type: 'boolean' },
    por: { type: 'boolean' },
    seed: { type: 'string' },
    walks: { type: 'string' },
    trace: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _pos, io) {
    if (typeof values.model !== 'string' || values.model === '') throw new InputError(`--model: required (one of ${MODELS.map((m) => m.name).join(', ')}, system:<name>)`);
    const strategy = parseStrategy(values.strategy);
    const sets = parseSets(values);
    const variant = variantArg(values);
    const model = buildModel(values.model, sets, variant);
    if (values.por === true && strategy !== 'dfs') throw new InputError('--por: partial-order reduction runs with --strategy dfs');
    const statesMax = values['max-states'] === undefined ? 50_000_000 : parseCount(values['max-states'], '--max-states', 1, 2_000_000_000);
    const workers = parseWorkers(values.workers);
    if (workers > 1 && strategy !== 'bfs') throw new InputError(`--workers: the parallel explorer runs --strategy bfs, not ${strategy}`);
    const bar = io.startProgress?.('check', 'states', values.json === true) ?? null;
    const options = {
      strategy,
      depthMax: values.depth === undefined ? 1_000_000 : parseCount(values.depth, '--depth', 0, 1_000_000),
      statesMax,
      memoryBytesMax: (values['memory-mb'] === undefined ? 4096 : parseCount(values['memory-mb'], '--memory-mb', 1, 1_000_000)) * 1024 * 1024,
      symmetry: values.symmetry === true,
      por: values.por === true,
      seed: values.seed === undefined ? 1 : parseSeed(values.seed),
      walks: values.walks === undefined ? 0 : parseCount(values.walks, '--walks', 1, 1_000_000_000),
      onProgress: bar ? (p: { uniqueStates: number; statesGenerated: number; depth: number }) => bar.update(p.uniqueStates, statesMax, null, `${p.statesGenerated} generated, depth ${p.depth}`) : null,
    };
    const r = workers > 1 ? await exploreParallel({ model: values.model, sets, variant }, options, workers) : explore(model, options);
    bar?.stop();
    const tracePath = (values.trace as string | undefined) ?? null;
    const first = r.violations[0] ?? null;
    if (tracePath !== null && first !== null) writeDiscovery(model, first, { model: values.model, sets, variant, strategy }, new FileTraceSink(tracePath));
    const describe = (p: Parameters<typeof describePath>[1]) => describePath(model, p);
    if (values.json) {
      io.out(JSON.stringify({ ...checkJson(r as ExploreResult<unknown, unknown>, describe), ...(tracePath !== null && first !== null ? { trace: tracePath } : {}) }));
    } else {
      for (const l of checkLines(r as ExploreResult<unknown, unknown>, describe)) io.out(l);
      if (tracePath !== null && first !== null) io.out(`trace     ${tracePath} (halfmoon replay ${tracePath})`);
    }
    return r.verdict === 'fail' ? 1 : 0;
  },
};

export function checkLines(r: ExploreResult<unknown, unknown>, describe: (p: ExploreResult<unknown, unknown>['violations'][number]['path']) => string[]): string[] {
  const lines = [
    `model     ${r.model}  strategy ${r.strategy}  symmetry ${r.symmetry ? 'on' : 'off'}  por ${r.por ? 'on' : 'off'}`,
    `explored  ${r.uniqueStates} unique states, ${r.statesGenerated} generated, depth ${r.maxDepth}${r.walks !== undefined ? `, ${r.walks} walks` : ''}`,
    `speed     ${r.statesPerSecond} states/s, ${r.wallMs} ms, ${r.bytesPerState} bytes/state`,
  ];
  for (const [k, v] of Object.entries(r.witnesses)) lines.push(`sometimes '${k}': ${v === null ? 'never reached' : `reached in ${v.path.steps.length} steps`}`);
  const bound = r.depthLimitHit ? ' (a bounded proof: some paths were cut at the depth bound)' : '';
  if (r.verdict === 'pass') lines.push(`verdict   PASS: every property held in every reachable state${bound}`);
  else if (r.verdict === 'unknown') lines.push(`verdict   UNKNOWN: no violation found, but the search was not complete (${r.stopReason ?? 'limits'})`);
  else if (r.violations.length === 0) lines.push(`verdict   FAIL: ${r.stopReason ?? 'a sometimes property was never reached'}`);
  for (const v of r.violations) {
    lines.push(`verdict   FAIL: ${v.property} (${v.kind}): ${v.message}`);
    lines.push(`counterexample, ${v.path.steps.length} steps:`);
    lines.push(...describe(v.path));
  }
  return lines;
}
