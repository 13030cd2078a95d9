import { InputError } from '../../../src/core/assert.ts';
import { runOnce } from '../../../sim/run.ts';
import { calibrationSets } from '../../reproduce/calibration.ts';
import { loopbackCalibrationSets } from '../../reproduce/calibration-loopback.ts';
import { parseSeed, traceOptions, parseSets, scenarioArg, scenarioOptions, variantArg } from './args.ts';
import { runJson, runLines } from './format.ts';
import type { Command } from './types.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run one scenario with one seed and print its verdict',
  usage: `usage: halfmoon run [--scenario <name|file>] [--seed <n>] [--trace <file>] [--json]
                    [--trace-level events|states|full] [--trace-window <steps>]
                    [--set <key=value>]... [--variant <name>] [--protocol <name>] [--checks]
                    [--calibration aws|loopback]

Runs one simulation. Same scenario, same seed: same run, same trace hash, on any machine.

  --scenario <name|file>  a scenario from 'halfmoon scenarios' or a YAML file (default: register-smoke)
  --seed <n>              the run's seed, 0 <= n < 2^53 (default 1)
  --trace <file>          write a compact JSONL trace (events, messages, faults, states as changes,
                          decision log); a name ending in .gz writes it gzip-compressed
  --trace-level <l>       events: no states; states (default): what the viewer shows (each
                          machine's trace view); full: every node's whole state
  --trace-window <steps>  keep only the last <steps> steps (those leading to the violation)
  --json                  print one JSON object instead of the human summary
  --set <key=value>       override a system parameter (no dot) or any scenario field (dotted path)
  --variant <name>        run a named variant (see 'halfmoon variants')
  --protocol <name>       shorthand for --set protocol=<name>
  --checks                step every input twice on cloned states and compare (slower)
  --calibration <c>       a latency model applied before the --set overrides: aws, the paper's
                          cluster (app/reproduce/calibration.ts, as 'reproduce' runs it), or
                          loopback, the real cluster on this machine's loopback
                          (app/reproduce/calibration-loopback.ts), to compare with 'cluster run'

Exit codes: 0 all invariants held, 1 a violation was found, 2 bad input.`,
  options: {
    ...scenarioOptions,
    seed: { type: 'string' },
    trace: { type: 'string' },
    'trace-level': { type: 'string' },
    'trace-window': { type: 'string' },
    json: { type: 'boolean' },
    checks: { type: 'boolean' },
    calibration: { type: 'string' },
  },
  run(values, _pos, io) {
    const seed = values.seed === undefined ? 1 : parseSeed(values.seed);
    const tracePath = (values.trace as string | undefined) ?? null;
    const { level, window } = traceOptions(values, tracePath);
    const r = runOnce({
      scenario: scenarioArg(values),
      seed,
      sets: [...calibrationArg(values.calibration), ...parseSets(values)],
      variant: variantArg(values),
      tracePath,
      traceLevel: level,
      traceWindow: window,
      checks: values.checks === true,
    });
    if (values.json) io.out(JSON.stringify(runJson(r)));
    else for (const l of runLines(r, tracePath)) io.out(l);
    return r.violations.length > 0 ? 1 : 0;
  },
};

function calibrationArg(v: unknown): [string, unknown][] {
  if (v === undefined) return [];
  if (v === 'aws') return calibrationSets('boki');
  if (v === 'loopback') return loopbackCalibrationSets();
  throw new InputError(`--calibration: expected aws or loopback, got '${String(v)}'`);
}
