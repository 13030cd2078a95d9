import { writeFileSync } from 'node:fs';
import { InputError } from '../../../src/core/assert.ts';
import { loadTrace } from '../../viewer/load.ts';
import { toPerfetto } from '../../viewer/perfetto.ts';
import { validateTraceEvents } from '../../viewer/trace-event-format.ts';
import type { Command } from './types.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'convert a trace for other tools (Chrome/Perfetto trace-event JSON)',
  usage: `usage: halfmoon export --perfetto <trace-file> [--out <file.json>]

Writes the run in the Chrome/Perfetto JSON trace-event format, for ui.perfetto.dev and
chrome://tracing: one thread per node, a slice per step, flow arrows for messages and timers,
instants for faults, dropped messages and violations, async slices for client operations, and
counters for messages in flight, nodes down and operations pending. Without --out it prints to
stdout. The output is checked against the format before it is written.

Exit codes: 0 written, 2 bad input.`,
  options: {
    perfetto: { type: 'boolean' },
    out: { type: 'string' },
  },
  positionals: 1,
  async run(values, pos, io) {
    const file = pos[0];
    if (!file) throw new InputError('a trace file is required (halfmoon export --perfetto <trace-file>)');
    if (values.perfetto !== true) throw new InputError('choose an output format: --perfetto');
    const out = values.out as string | undefined;
    if (out !== undefined && out === '') throw new InputError('--out: expected a file name');
    const trace = await loadTrace(file);
    const doc = toPerfetto(trace.model);
    const json = JSON.stringify(doc);
    const problems = validateTraceEvents(JSON.parse(json));
    if (problems.length) throw new Error(`the Perfetto export of ${file} is malformed (a bug in the exporter): ${problems.slice(0, 3).join('; ')}`);
    if (out === undefined) {
      io.out(json);
      return 0;
    }
    try {
      writeFileSync(out, json + '\n');
    } catch (e) {
      throw new InputError(`--out ${out}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    io.err(`wrote ${out} (${doc.traceEvents.length} trace events): open it in ui.perfetto.dev or chrome://tracing`);
    return 0;
  },
};
