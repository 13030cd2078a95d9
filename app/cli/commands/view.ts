import { writeFileSync } from 'node:fs';
import { InputError } from '../../../src/core/assert.ts';
import { loadTrace } from '../../viewer/load.ts';
import { renderPage } from '../../viewer/page.ts';
import { startViewerServer } from '../../viewer/server.ts';
import type { Command } from './types.ts';

export const viewCommand: Command = {
  name: 'view',
  summary: 'open a trace (simulated, explored or real) in the browser viewer',
  usage: `usage: halfmoon view <trace-file> [--port <n>] [--out <file.html>]

Shows a run as a Lamport diagram: one lane per node, an arrow per message, faults across the lanes,
the violated invariant first with the events that led to it, and for every step the node's state
before and after, its effects and the client operations around it.

  --port <n>         serve on 127.0.0.1:<n> (default: a free port); the address is printed
  --out <file.html>  write one self-contained HTML file that opens from disk, instead of serving

Reads traces written by 'halfmoon run --trace' (plain or .gz), explorer counterexamples and
real-runtime recordings alike, streaming: the server keeps the trace compressed in memory and
sends the browser the records it shows (the violation and its lead-up first). Stop the server
with Ctrl-C.

Exit codes: 0 done, 2 bad input.`,
  options: {
    port: { type: 'string' },
    out: { type: 'string' },
  },
  positionals: 1,
  async run(values, pos, io) {
    const file = pos[0];
    if (!file) throw new InputError('a trace file is required (halfmoon view <trace-file>)');
    let port = 0;
    if (values.port !== undefined) {
      const p = values.port;
      if (typeof p !== 'string' || !/^\d+$/.test(p) || Number(p) > 65535) throw new InputError(`--port: expected a port number 0..65535, got '${String(p)}'`);
      port = Number(p);
    }
    const out = values.out as string | undefined;
    if (out !== undefined && values.port !== undefined) throw new InputError('--out and --port exclude each other: --out writes a file, --port serves');
    if (out !== undefined && out === '') throw new InputError('--out: expected a file name');
    const trace = await loadTrace(file);
    if (out !== undefined) {
      const html = await renderPage(trace.model.meta.file, { model: trace.model, index: trace.index, blobs: trace.blobLines().join('\n'), text: trace.compactLines(0, trace.index.records).join('\n') });
      try {
        writeFileSync(out, html);
      } catch (e) {
        throw new InputError(`--out ${out}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      io.err(`wrote ${out} (${Math.round(html.length / 1024)} KB, ${trace.model.steps.rec.length} steps): open it in a browser`);
      return 0;
    }
    const server = await startViewerServer(trace, port);
    io.out(server.url);
    io.err(`halfmoon view: serving ${file} at ${server.url} (Ctrl-C to stop)`);
    const stop = () => void server.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await server.closed;
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    return 0;
  },
};
