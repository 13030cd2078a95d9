import { runOnce } from '../../../sim/run.ts';
import { parseSeed, parseSets, scenarioArg, scenarioOptions, variantArg } from './args.ts';
import { runJson, runLines } from './format.ts';
import type { Command } from './types.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run one scenario with one seed and print its verdict',
  usage: `usage: halfmoon run [--scenario <name|file>] [--seed <n>] [--trace <file>] [--json]
                    [--set <key=value>]... [--variant <name>] [--protocol <name>] [--checks]

Runs one simulation. Same scenario, same seed: same run, same trace hash, on any machine.

  --scenario <name|file>  a scenario from 'halfmoon scenarios' or a YAML file (default: register-smoke)
  --seed <n>              the run's seed, 0 <= n < 2^53 (default 1)
  --trace <file>          write a JSONL trace (events, messages, faults, states, decision log)
  --json                  print one JSON object instead of the human summary
  --set <key=value>       override a system parameter (no dot) or any scenario field (dotted path)
  --variant <name>        run a named variant (see 'halfmoon variants')
  --protocol <name>       shorthand for --set protocol=<name>
  --checks                step every input twice on cloned states and compare (slower)

Exit codes: 0 all invariants held, 1 a violation was found, 2 bad input.`,
  options: {
    ...scenarioOptions,
    seed: { type: 'string' },
    trace: { type: 'string' },
    json: { type: 'boolean' },
    checks: { type: 'boolean' },
  },
  run(values, _pos, io) {
    const seed = values.seed === undefined ? 1 : parseSeed(values.seed);
    const tracePath = (values.trace as string | undefined) ?? null;
    const r = runOnce({
      scenario: scenarioArg(values),
      seed,
      sets: parseSets(values),
      variant: variantArg(values),
      tracePath,
      checks: values.checks === true,
    });
    if (values.json) io.out(JSON.stringify(runJson(r)));
    else for (const l of runLines(r, tracePath)) io.out(l);
    return r.violations.length > 0 ? 1 : 0;
  },
};
