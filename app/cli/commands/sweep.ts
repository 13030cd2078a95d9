import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveScenario } from '../../../src/scenario/instance.ts';
import { shrinkToTrace, type ShrinkResult } from '../../../sim/shrink.ts';
import { sweep } from '../../../sim/sweep.ts';
import { FileTraceSink } from '../../../sim/trace.ts';
import { parseCount } from './check.ts';
import { parseSeedRange, parseSets, parseShard, parseWorkers, scenarioArg, scenarioOptions, shardSeeds, variantArg } from './args.ts';
import { formatUs } from './format.ts';
import type { Command } from './types.ts';

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'run a scenario over a range of seeds (sharded, in worker threads) and list failures',
  usage: `usage: halfmoon sweep --scenario <name|file> --seeds <a>..<b> [--shard <k>/<n>] [--workers <n>]
                      [--json] [--fail-fast] [--set <key=value>]... [--variant <name>] [--protocol <name>]
                      [--shrink [--shrink-dir <dir>] [--shrink-max <n>] [--shrink-runs <n>]]

Runs every seed of the range (both ends included). With --shard k/n only the seeds whose index in
the range is k-1 modulo n run, so n machines given 1/n .. n/n cover the range exactly once.
--workers n runs seeds in n worker threads; the results are identical to one worker.

Prints each failing seed with the command that replays it. Exit 1 if any seed failed.

--shrink minimises the first failing seeds (at most --shrink-max, default 5) as 'halfmoon shrink'
does and writes each as <dir>/shrunk-seed-<seed>.jsonl (--shrink-dir, default the current
directory; --shrink-runs simulator runs each, default 300).`,
  options: {
    ...scenarioOptions,
    seeds: { type: 'string' },
    shard: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
    'fail-fast': { type: 'boolean' },
    shrink: { type: 'boolean' },
    'shrink-dir': { type: 'string' },
    'shrink-max': { type: 'string' },
    'shrink-runs': { type: 'string' },
  },
  async run(values, _pos, io) {
    const range = parseSeedRange(values.seeds);
    const shard = parseShard(values.shard);
    const workers = parseWorkers(values.workers);
    const seeds = shardSeeds(range, shard);
    const scenario = scenarioArg(values);
    const progress = io.progress;
    const bar = io.startProgress?.('sweep', 'seeds', values.json === true) ?? null;
    const r = await sweep({
      scenario,
      sets: parseSets(values),
      variant: variantArg(values),
      seeds,
      workers,
      failFast: values['fail-fast'] === true,
      onProgress: bar ? (done, total, failing) => bar.update(done, total, failing) : undefined,
    });
    bar?.stop();
    const shrunk: { seed: number; trace: string; result: ShrinkResult }[] = [];
    if (values.shrink === true && r.failures.length > 0) {
      const dir = typeof values['shrink-dir'] === 'string' ? values['shrink-dir'] : '.';
      const max = values['shrink-max'] === undefined ? 5 : parseCount(values['shrink-max'], '--shrink-max', 1, 1_000_000);
      const runs = values['shrink-runs'] === undefined ? 300 : parseCount(values['shrink-runs'], '--shrink-runs', 1, 1_000_000);
      mkdirSync(dir, { recursive: true });
      const resolved = resolveScenario({ scenario, sets: parseSets(values), variant: variantArg(values) });
      for (const f of r.failures.slice(0, max)) {
        const trace = join(dir, `shrunk-seed-${f.seed}.jsonl`);
        progress?.(`shrinking seed ${f.seed} ...`);
        shrunk.push({ seed: f.seed, trace, result: shrinkToTrace(resolved, f.seed, null, f.violations[0]!.invariant, runs, new FileTraceSink(trace), trace) });
      }
      if (progress) io.err('');
    }
    if (values.json) {
      io.out(
        JSON.stringify({
          scenario: r.scenario,
          seed: seeds[0] ?? null,
          seedRange: `${range.from}..${range.to}`,
          shard: `${shard.k}/${shard.n}`,
          seeds: r.seeds,
          passed: r.passed,
          failingSeeds: r.failingSeeds,
          events: r.events,
          simulatedTimeUs: r.simulatedTimeUs,
          wallMs: r.wallMs,
          traceHash: r.traceHash,
          violations: r.failures.flatMap((f) => f.violations.map((v) => ({ seed: f.seed, ...v }))),
          faults: r.faults,
          outcomes: r.outcomes,
          replays: r.failures.map((f) => f.replay),
          ...(values.shrink === true ? { shrunk: shrunk.map((x) => ({ seed: x.seed, trace: x.trace, original: x.result.original, shrunk: x.result.shrunk })) } : {}),
        }),
      );
    } else {
      io.out(`scenario  ${r.scenario}  seeds ${range.from}..${range.to}  shard ${shard.k}/${shard.n}  workers ${workers}`);
      io.out(`ran       ${r.seeds} seeds, ${r.events} events, ${formatUs(r.simulatedTimeUs)} simulated, ${r.wallMs} ms wall`);
      io.out(`outcomes  ${Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      io.out(`hash      ${r.traceHash}`);
      if (r.failures.length === 0) io.out(`verdict   PASS: all ${r.seeds} seeds held every invariant`);
      else {
        io.out(`verdict   FAIL: ${r.failures.length} of ${r.seeds} seeds violated an invariant`);
        for (const f of r.failures.slice(0, 50)) {
          const v = f.violations[0]!;
          io.out(`  seed ${f.seed}: ${v.invariant}: ${v.message.slice(0, 160)}`);
          io.out(`    replay: ${f.replay} --trace seed-${f.seed}.jsonl`);
        }
        if (r.failures.length > 50) io.out(`  ... and ${r.failures.length - 50} more`);
        for (const x of shrunk) {
          const a = x.result.original;
          const b = x.result.shrunk;
          io.out(`  shrunk seed ${x.seed}: ${a.faults} -> ${b.faults} faults, ${a.events} -> ${b.events} events: halfmoon replay ${x.trace}`);
        }
      }
    }
    return r.failures.length > 0 ? 1 : 0;
  },
};
