import { resolve } from 'node:path';
import { InputError } from '../../../src/core/assert.ts';
import { EXPERIMENTS, experimentByName, rerender, reproduce } from '../../reproduce/index.ts';
import { DEFAULT_SCALE, type Scale } from '../../reproduce/types.ts';
import { parseSets } from './args.ts';
import type { Command } from './types.ts';
import { cpuNowMs, wallNowMs } from '../../../sim/wallclock.ts';

function positiveInt(text: unknown, flag: string, max: number): number {
  if (typeof text !== 'string' || !/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new InputError(`${flag}: expected an integer in [1, ${max}], got '${String(text)}'`);
  return Number(text);
}

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export const reproduceCommand: Command = {
  name: 'reproduce',
  summary: 'run the published Halfmoon/Boki experiments in simulation: tables, SVG plots, REPRODUCTION.md',
  usage: `usage: halfmoon reproduce [--experiment <name>[,<name>...]] [--out <dir>] [--seeds <n>]
                          [--requests <n>] [--log boki|reference] [--quick] [--set <key=value>]... [--json]
       halfmoon reproduce --render-only [--out <dir>] [--experiment <names>]

Runs the experiments of the Halfmoon evaluation (spec §9) on the published cluster (the full Boki
log: 3 sequencers, 3 storage nodes, 8 engines, 300 µs cuts) with the calibrated latency model
(sim/reproduce/calibration.ts), several seeds per point, and writes to the output folder, per
experiment, <name>.json (results), CSV and Markdown tables and SVG figures, then REPRODUCTION.md,
which sets every simulated figure beside the published one and explains the gaps.

  --experiment <names>  comma-separated, from: ${EXPERIMENTS.map((e) => e.name).join(', ')} (default: all)
  --out <dir>           output folder (default: reproduction)
  --seeds <n>           seeds per point (default ${DEFAULT_SCALE.seeds})
  --requests <n>        measured requests per run, overriding each experiment's default
  --log <kind>          boki (default, the published cluster) or reference (the one-node log, fast)
  --quick               fewer points and smaller runs: a smoke test, not a reproduction
  --set <key=value>     extra override for every run (after the calibration)
  --json                print a JSON summary on stdout
  --render-only         run nothing: rebuild tables, figures and REPRODUCTION.md from the results
                        already saved in --out

A progress bar goes to stderr when it is a terminal. Exit 0 when every run held every checker,
1 when some run reported a violation (the files are written either way), 2 on bad input.`,
  options: {
    experiment: { type: 'string' },
    out: { type: 'string' },
    seeds: { type: 'string' },
    requests: { type: 'string' },
    log: { type: 'string' },
    quick: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    'render-only': { type: 'boolean' },
  },
  run(values, _pos, io) {
    const names = values.experiment === undefined ? EXPERIMENTS.map((e) => e.name) : String(values.experiment).split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (names.length === 0) throw new InputError('--experiment: expected one or more experiment names');
    const experiments = names.map(experimentByName);
    const log = (values.log as string | undefined) ?? 'boki';
    if (log !== 'boki' && log !== 'reference') throw new InputError(`--log: expected boki or reference, got '${log}'`);
    const scale: Scale = {
      seeds: values.seeds === undefined ? DEFAULT_SCALE.seeds : positiveInt(values.seeds, '--seeds', 100),
      requests: values.requests === undefined ? null : positiveInt(values.requests, '--requests', 1_000_000),
      log,
      quick: values.quick === true,
      sets: parseSets(values),
    };
    const out = resolve((values.out as string | undefined) ?? 'reproduction');
    const argv = ['halfmoon reproduce', ...(values.experiment !== undefined ? [`--experiment ${names.join(',')}`] : []), ...(values.seeds !== undefined ? [`--seeds ${scale.seeds}`] : []), ...(scale.requests !== null ? [`--requests ${scale.requests}`] : []), ...(log !== 'boki' ? [`--log ${log}`] : []), ...(scale.quick ? ['--quick'] : [])];
    const wall0 = wallNowMs();
    const cpu0 = cpuNowMs();
    const bar = io.startProgress?.('reproduce', 'runs', values.json === true) ?? null;
    const r = values['render-only'] === true ? rerender(out, experiments) : reproduce({
      experiments,
      out,
      scale,
      command: argv.join(' '),
      progress: bar ? (done, total, what) => bar.update(done, total, null, what) : undefined,
    });
    bar?.stop();
    const violations = r.results.flatMap((x) => x.result.runs.filter((run) => run.violations.length > 0).map((run) => ({ experiment: x.exp.name, point: run.point, seed: run.seed, violation: run.violations[0]!, replay: run.replay })));
    const cpuMs = Math.round(cpuNowMs() - cpu0);
    const wallMs = Math.round(wallNowMs() - wall0);
    if (values.json) {
      io.out(
        JSON.stringify({
          out,
          experiments: r.results.map((x) => ({ name: x.exp.name, runs: x.result.runs.length, cpuMs: x.result.cpuMs, wallMs: x.result.wallMs, comparisons: x.rendered.comparisons })),
          files: r.files,
          violations,
          cpuMs,
          wallMs,
        }),
      );
    } else {
      for (const x of r.results) {
        io.out(`${x.exp.name.padEnd(10)} ${String(x.result.runs.length).padStart(4)} runs  cpu ${clock(x.result.cpuMs)}  wall ${clock(x.result.wallMs)}`);
        for (const c of x.rendered.comparisons) io.out(`  ${c.verdict.padEnd(18)} ${c.what}: ${c.simulated}`);
      }
      io.out(`wrote ${r.files.length} files to ${out} (REPRODUCTION.md, tables, figures); cpu ${clock(cpuMs)}, wall ${clock(wallMs)}`);
      for (const v of violations.slice(0, 20)) io.out(`VIOLATION ${v.experiment} ${v.point} seed ${v.seed}: ${v.violation}\n  replay: ${v.replay}`);
    }
    return violations.length > 0 ? 1 : 0;
  },
};
