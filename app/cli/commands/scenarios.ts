import { basename } from 'node:path';
import { listScenarioFiles, readScenarioFile } from '../../../src/scenario/scenario.ts';
import type { Command } from './types.ts';

export const scenariosCommand: Command = {
  name: 'scenarios',
  summary: 'list the scenarios in scenarios/ with one-line descriptions',
  usage: `usage: halfmoon scenarios [--json]

Lists every scenario file in scenarios/ with its system and description. Any of them can be run
with 'halfmoon run --scenario <name>'; a YAML file path works too.`,
  options: { json: { type: 'boolean' } },
  run(values, _pos, io) {
    const all = listScenarioFiles().map((f) => {
      const s = readScenarioFile(f);
      return { name: basename(f, '.yaml'), system: s.system, description: s.description };
    });
    if (values.json) io.out(JSON.stringify(all));
    else {
      const w = Math.max(...all.map((s) => s.name.length), 4);
      const ws = Math.max(...all.map((s) => s.system.length), 6);
      for (const s of all) io.out(`${s.name.padEnd(w)}  ${s.system.padEnd(ws)}  ${s.description}`);
    }
    return 0;
  },
};
