import { availableParallelism, loadavg } from 'node:os';
import { InputError } from '../../../src/core/assert.ts';
import { BENCHES } from '../../bench/index.ts';
import { benchAgainstRef, type BenchJson, compareRuns, formatRows, ratiosJson, readBenchFile } from '../../bench/compare.ts';
import type { Command } from './types.ts';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure the simulator, machines and explorer; print figures (JSON with --json)',
  usage: `usage: halfmoon bench [--json] [--only <name>[,<name>...]] [--quick]
                      [--compare <base.json> | --base-ref <git ref> [--rounds <n>]]

Runs the benchmarks in this process on one core and prints their figures: events per second of
the bare event loop and of protocols under faults, simulated-to-wall (and, steadier on a shared
machine, simulated-to-CPU) ratios, sweep seeds per second and worker scaling, explorer states
per second, real-mode latencies. --json prints one object keyed by benchmark name, beside the
node version, the cores and the 1-minute load average, to compare run to run.

  --only <names>        run only these benchmarks (comma-separated)
  --quick               small sizes, for CI: the figures' shape, not their precision
  --compare <file>      print each figure beside the same figure of a saved 'bench --json' output,
                        with the ratio this run / saved (and whether it moved the good way)
  --base-ref <ref>      build a git worktree of <ref> (sharing this tree's node_modules), run its
                        bench and this tree's in turn, each in a fresh process, and compare them
  --rounds <n>          with --base-ref: alternate base and this tree n times and compare the
                        medians of each figure (default 1; use 3 or more on a busy machine)`,
  options: { json: { type: 'boolean' }, only: { type: 'string' }, quick: { type: 'boolean' }, compare: { type: 'string' }, 'base-ref': { type: 'string' }, rounds: { type: 'string' } },
  async run(values, _pos, io) {
    const only = typeof values.only === 'string' ? values.only.split(',') : null;
    if (only) for (const n of only) if (!BENCHES.some((b) => b.name === n)) throw new InputError(`--only: unknown benchmark '${n}' (known: ${BENCHES.map((b) => b.name).join(', ')})`);
    const compare = typeof values.compare === 'string' ? values.compare : null;
    const baseRef = typeof values['base-ref'] === 'string' ? values['base-ref'] : null;
    if (compare !== null && baseRef !== null) throw new InputError('--compare and --base-ref: give one baseline, not both');
    let rounds = 1;
    if (values.rounds !== undefined) {
      if (baseRef === null) throw new InputError('--rounds: only with --base-ref');
      rounds = Number(values.rounds);
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 99) throw new InputError(`--rounds: must be an integer in [1, 99], got '${String(values.rounds)}'`);
    }
    if (baseRef !== null) {
      const args = [...(only ? ['--only', only.join(',')] : []), ...(values.quick === true ? ['--quick'] : [])];
      const r = benchAgainstRef(baseRef, args, rounds, (line) => {
        if (!values.json) io.err(line);
      });
      const rows = compareRuns(r.base, r.now);
      if (values.json) io.out(JSON.stringify({ ...r.now, compare: { baseRef, baseSha: r.sha, rounds, base: r.base, ratios: ratiosJson(rows) } }));
      else for (const l of formatRows(rows, r.sha.slice(0, 12))) io.out(l);
      return 0;
    }
    const base: BenchJson | null = compare === null ? null : readBenchFile(compare);
    const out: BenchJson = { node: process.version, uv: process.versions.uv, cores: availableParallelism(), loadavg1: Math.round(loadavg()[0]! * 100) / 100 };
    for (const b of BENCHES) {
      if (only && !only.includes(b.name)) continue;
      if (!values.json) io.err(`running ${b.name}: ${b.description}`);
      const r = await b.run(values.quick === true);
      out[r.name] = r.figures;
      if (!values.json) io.out(`${r.name.padEnd(20)} ${Object.entries(r.figures).map(([k, v]) => `${k}=${v}`).join('  ')}`);
    }
    if (base !== null) {
      const rows = compareRuns(base, out);
      if (values.json) io.out(JSON.stringify({ ...out, compare: { file: compare, ratios: ratiosJson(rows) } }));
      else for (const l of ['', ...formatRows(rows, 'saved')]) io.out(l);
      return 0;
    }
    if (values.json) io.out(JSON.stringify(out));
    return 0;
  },
};
