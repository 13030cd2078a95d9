import { sweep } from '../sweep.ts';
import { parseSeedRange, parseSets, parseShard, parseWorkers, scenarioArg, scenarioOptions, shardSeeds, variantArg } from './args.ts';
import { formatUs } from './format.ts';
import type { Command } from './types.ts';

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'run a scenario over a range of seeds (sharded, in worker threads) and list failures',
  usage: `usage: halfmoon sweep --scenario <name|file> --seeds <a>..<b> [--shard <k>/<n>] [--workers <n>]
                      [--json] [--fail-fast] [--set <key=value>]... [--variant <name>] [--protocol <name>]

Runs every seed of the range (both ends included). With --shard k/n only the seeds whose index in
the range is k-1 modulo n run, so n machines given 1/n .. n/n cover the range exactly once.
--workers n runs seeds in n worker threads; the results are identical to one worker.

Prints each failing seed with the command that replays it. Exit 1 if any seed failed.`,
  options: {
    ...scenarioOptions,
    seeds: { type: 'string' },
    shard: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
    'fail-fast': { type: 'boolean' },
  },
  async run(values, _pos, io) {
    const range = parseSeedRange(values.seeds);
    const shard = parseShard(values.shard);
    const workers = parseWorkers(values.workers);
    const seeds = shardSeeds(range, shard);
    const scenario = scenarioArg(values);
    const progress = io.progress;
    const r = await sweep({
      scenario,
      sets: parseSets(values),
      variant: variantArg(values),
      seeds,
      workers,
      failFast: values['fail-fast'] === true,
      onProgress: progress
        ? (done, total, failing) => {
            if (done === total || done % 10 === 0) {
              const w = 30;
              const f = Math.round((done / total) * w);
              progress(`[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total} seeds, ${failing} failing`);
            }
          }
        : undefined,
    });
    if (progress) io.err('');
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
      }
    }
    return r.failures.length > 0 ? 1 : 0;
  },
};
