import { InputError } from '../../../src/core/assert.ts';
import { SYSTEMS } from '../../../src/systems/index.ts';
import type { Command } from './types.ts';

export const variantsCommand: Command = {
  name: 'variants',
  summary: 'list the named variants (published behaviours and deliberate bugs) per system',
  usage: `usage: halfmoon variants [--system <name>] [--json]

Every variant is a flag, off by default, that reproduces a published behaviour or a deliberate bug
so the checkers can be shown to catch it. Run one with 'halfmoon run --variant <name>'.`,
  options: { system: { type: 'string' }, json: { type: 'boolean' } },
  run(values, _pos, io) {
    const only = values.system as string | undefined;
    if (only !== undefined && !SYSTEMS[only]) throw new InputError(`--system: unknown system '${only}' (known: ${Object.keys(SYSTEMS).join(', ')})`);
    const rows = Object.values(SYSTEMS)
      .filter((s) => only === undefined || s.name === only)
      .flatMap((s) => s.variants.map((v) => ({ system: s.name, ...v })));
    if (values.json) io.out(JSON.stringify(rows));
    else {
      const w = Math.max(...rows.map((r) => r.name.length), 4);
      let sys = '';
      for (const r of rows) {
        if (r.system !== sys) {
          sys = r.system;
          io.out(`${sys}:`);
        }
        io.out(`  ${r.name.padEnd(w)}  ${r.description}  [exposed by ${r.exposedBy}]`);
      }
    }
    return 0;
  },
};
