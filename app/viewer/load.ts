/**
 * Loading a trace for the viewer and the exporter: reads the file once, validates every line as
 * `readTrace` does (bad input is one InputError line), and feeds records to the model builder
 * one at a time, so only the text and the compact model stay in memory.
 */
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { InputError } from '../../src/core/assert.ts';
import { checkTraceHeader, parseTraceLine, readTraceText } from '../../sim/trace.ts';
import { ModelBuilder, type ViewModel } from './model.ts';
import { lensFor } from './systems/index.ts';

/** Larger files do not fit in one string in V8; the viewer refuses them with a clear line. */
export const TRACE_FILE_BYTES_MAX = 512 * 1024 * 1024 - 64;

export interface LoadedTrace {
  readonly path: string;
  /** The trace's non-blank lines joined by "\n": record i is line i. */
  readonly text: string;
  readonly model: ViewModel;
}

export function loadTrace(path: string): LoadedTrace {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new InputError(`${path}: not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read trace file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (size > TRACE_FILE_BYTES_MAX) throw new InputError(`${path}: ${size} bytes is larger than the viewer's limit of ${TRACE_FILE_BYTES_MAX} bytes`);
  const raw = readTraceText(path).split('\n');
  const lines: string[] = [];
  let builder: ModelBuilder | null = null;
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    if (line.trim() === '') continue;
    const rec = parseTraceLine(line, path, i + 1);
    if (builder === null) {
      const header = checkTraceHeader(rec, path);
      const system = typeof header.system === 'string' ? header.system : null;
      builder = new ModelBuilder(header, basename(path), lensFor(system));
    } else builder.add(rec, lines.length);
    lines.push(line);
  }
  if (builder === null) throw new InputError(`${path}: empty trace (the first line must be a header with format "halfmoon-trace")`);
  return { path, text: lines.join('\n'), model: builder.finish() };
}
