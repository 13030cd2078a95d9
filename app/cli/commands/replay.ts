import { replayFile } from '../../../sim/replay.ts';
import { FileTraceSink } from '../../../sim/trace.ts';
import { runJson, runLines } from './format.ts';
import type { Command } from './types.ts';

export const replayCommand: Command = {
  name: 'replay',
  summary: 're-run a trace file and verify that it reproduces the same trace hash',
  usage: `usage: halfmoon replay <trace-file> [--from-seed] [--trace <file>] [--json]

Re-runs the run recorded in a trace: the scenario from its header, every choice from its decision
log (or, with --from-seed, from its seed), and checks that the trace hash matches the recorded one.

Exit codes: 0 reproduced and every invariant held; 1 reproduced a violation, or the replay
diverged from the recording; 2 bad input.`,
  options: {
    'from-seed': { type: 'boolean' },
    trace: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: 1,
  async run(values, pos, io) {
    const file = pos[0];
    if (!file) {
      io.err('halfmoon replay: a trace file is required');
      return 2;
    }
    const out = values.trace as string | undefined;
    const r = await replayFile(file, { fromSeed: values['from-seed'] === true, traceSink: out ? new FileTraceSink(out) : null });
    if (values.json) {
      io.out(JSON.stringify({ ...runJson(r.result), replayOf: file, expectedHash: r.expectedHash, matches: r.matches, divergence: r.divergence }));
    } else {
      for (const l of runLines(r.result, out ?? null)) io.out(l);
      if (r.divergence) io.out(`replay    DIVERGED: ${r.divergence}`);
      else if (r.matches) io.out(`replay    reproduced: trace hash ${r.actualHash} matches the recording`);
      else io.out(`replay    MISMATCH: recorded hash ${r.expectedHash ?? '(none)'}, replayed ${r.actualHash}`);
    }
    if (!r.matches) return 1;
    return r.result.violations.length > 0 ? 1 : 0;
  },
};
