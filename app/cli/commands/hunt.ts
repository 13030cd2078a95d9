import { writeFileSync } from 'node:fs';
import { InputError } from '../../../src/core/assert.ts';
import { cpuNowMs } from '../../../sim/wallclock.ts';
import { detectionMarkdown, hunt, huntMixed, huntStats } from '../../suite/hunt.ts';
import { readSuiteFile } from '../../suite/spec.ts';
import { SYSTEMS } from '../../../src/systems/index.ts';
import { parseCount } from './check.ts';
import type { Command } from './types.ts';

export const DEFAULT_SUITE = 'scenarios/suites/ci.yaml';

export const huntCommand: Command = {
  name: 'hunt',
  summary: 'measure seeds and seconds to detect every named variant with the default suite, plain and swarm',
  usage: `usage: halfmoon hunt [--suite <file>] [--max-seeds <n>] [--max-seconds <s>] [--variant <name>]...
                     [--out <file.md>] [--json]

For every named variant of every system, runs the suite entry that expects it caught (default
suite ${DEFAULT_SUITE}) seed after seed until a seed is caught, with the plain nemesis and with
--swarm, and reports seeds and CPU seconds to detection (bounds: --max-seeds, default 200;
--max-seconds of CPU per variant and mode, default 60). --out writes the table as Markdown
(docs/detection.md is generated this way). It then measures swarm against plain on the
register's all-faults mix (register-chaos), each variant at most --mixed-seeds seeds (default
40; 0 skips it).

Exit codes: 0 every measured variant was caught, 1 one was not, 2 bad input.`,
  options: {
    suite: { type: 'string' },
    'max-seeds': { type: 'string' },
    'max-seconds': { type: 'string' },
    'mixed-seeds': { type: 'string' },
    variant: { type: 'string', multiple: true },
    out: { type: 'string' },
    json: { type: 'boolean' },
  },
  run(values, _pos, io) {
    const file = typeof values.suite === 'string' ? values.suite : DEFAULT_SUITE;
    const maxSeeds = values['max-seeds'] === undefined ? 200 : parseCount(values['max-seeds'], '--max-seeds', 1, 1_000_000);
    const maxCpuS = values['max-seconds'] === undefined ? 60 : parseCount(values['max-seconds'], '--max-seconds', 1, 86_400);
    const only = (values.variant as string[] | undefined) ?? undefined;
    const known = new Set(Object.values(SYSTEMS).flatMap((s) => s.variants.map((v) => v.name)));
    for (const v of only ?? []) if (!known.has(v)) throw new InputError(`--variant: unknown variant '${v}'`);
    if (values.out !== undefined && (typeof values.out !== 'string' || values.out === '')) throw new InputError('--out: expected a file name');
    const suite = readSuiteFile(file);
    const bar = io.startProgress?.('hunt', 'variants', values.json === true) ?? null;
    const rows = hunt(suite, { maxSeeds, maxCpuS, cpuMs: cpuNowMs, ...(only ? { only } : {}), ...(bar ? { onProgress: (d: number, t: number, f: number, n: string) => bar.update(d, t, f, n) } : {}) });
    bar?.stop();
    const mixedSeeds = values['mixed-seeds'] === undefined ? 40 : parseCount(values['mixed-seeds'], '--mixed-seeds', 0, 1_000_000);
    const mixed = mixedSeeds > 0 ? huntMixed({ maxSeeds, maxCpuS, cpuMs: cpuNowMs, mixedSeeds, ...(only ? { only } : {}) }) : [];
    const stats = huntStats(rows);
    const command = ['halfmoon hunt', ...(file !== DEFAULT_SUITE ? [`--suite ${file}`] : []), ...(values['max-seeds'] !== undefined ? [`--max-seeds ${maxSeeds}`] : []), ...(values['max-seconds'] !== undefined ? [`--max-seconds ${maxCpuS}`] : []), ...(values['mixed-seeds'] !== undefined ? [`--mixed-seeds ${String(values['mixed-seeds'])}`] : []), ...(only ?? []).map((v) => `--variant ${v}`), ...(values.out !== undefined ? [`--out ${String(values.out)}`] : [])].join(' ');
    if (typeof values.out === 'string') {
      try {
        writeFileSync(values.out, detectionMarkdown(file, rows, { maxSeeds, maxCpuS, command }, mixed, mixedSeeds));
      } catch (e) {
        throw new InputError(`--out ${values.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (values.json) io.out(JSON.stringify({ suite: file, maxSeeds, maxCpuS, rows, stats, mixed }));
    else {
      const w = Math.max(...rows.map((r) => r.variant.length));
      const cell = (d: (typeof rows)[number]['plain']) => (d === null ? '-' : d.caught ? `${d.seeds} seeds ${d.cpuS.toFixed(2)} s (${d.invariant})` : `NOT caught in ${d.seeds} seeds ${d.cpuS.toFixed(2)} s`);
      for (const r of rows) io.out(`${r.system.padEnd(9)} ${r.variant.padEnd(w)}  ${r.plain === null ? `not caught in simulation: ${r.why}` : `plain ${cell(r.plain)}; swarm ${cell(r.swarm)}`}`);
      for (const r of mixed) io.out(`mixed     ${r.scenario} ${r.variant.padEnd(w)}  plain ${cell(r.plain)}; swarm ${cell(r.swarm)}`);
      io.out(`caught    plain ${stats.caughtPlain}/${stats.measured}, swarm ${stats.caughtSwarm}/${stats.measured}; median CPU s plain ${stats.medianCpuSPlain.toFixed(2)}, swarm ${stats.medianCpuSSwarm.toFixed(2)}; slowest plain ${stats.slowestPlain?.variant} ${stats.slowestPlain?.cpuS.toFixed(2)} s`);
    }
    return stats.caughtPlain < stats.measured ? 1 : 0;
  },
};
