import { InputError } from '../../../src/core/assert.ts';
import { BENCHES } from '../../bench/index.ts';
import type { Command } from './types.ts';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure the simulator, machines and explorer; print figures (JSON with --json)',
  usage: `usage: halfmoon bench [--json] [--only <name>[,<name>...]] [--quick]

Runs the benchmarks in this process on one core and prints their figures: events per second of
the bare event loop and of protocols under faults, simulated-to-wall ratios, explorer states per
second. --json prints one object keyed by benchmark name, to compare run to run.`,
  options: { json: { type: 'boolean' }, only: { type: 'string' }, quick: { type: 'boolean' } },
  async run(values, _pos, io) {
    const only = typeof values.only === 'string' ? values.only.split(',') : null;
    if (only) for (const n of only) if (!BENCHES.some((b) => b.name === n)) throw new InputError(`--only: unknown benchmark '${n}' (known: ${BENCHES.map((b) => b.name).join(', ')})`);
    const out: Record<string, unknown> = { node: process.version, uv: process.versions.uv };
    for (const b of BENCHES) {
      if (only && !only.includes(b.name)) continue;
      if (!values.json) io.err(`running ${b.name}: ${b.description}`);
      const r = await b.run(values.quick === true);
      out[r.name] = r.figures;
      if (!values.json) io.out(`${r.name.padEnd(20)} ${Object.entries(r.figures).map(([k, v]) => `${k}=${v}`).join('  ')}`);
    }
    if (values.json) io.out(JSON.stringify(out));
    return 0;
  },
};
