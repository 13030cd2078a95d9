/**
 * Trace files: JSON Lines, one record per line, written in the *display* encoding (bigints as
 * "0x<16 hex>") except the header's scenario and the footer's decision log, which must round-trip
 * and are plain JSON already.
 *
 *   {"type":"header", "format":"halfmoon-trace", "version":1, "source":"sim"|"explore"|"real", ...}
 *   {"type":"boot", "t", "node", "state"}                 a node's state at start or restart
 *   {"type":"step", "i", "t", "node", "input", "effects", "state"?, "msgIds"?}
 *   {"type":"net", "t", "fate", "from", "to", "msgId"?}   drop, duplicate, reorder, delay, partitioned, stale, down
 *   {"type":"fault", "t", "kind", "nodes", "detail"}
 *   {"type":"history", ...HistoryEvent}
 *   {"type":"violation", ...Violation}
 *   {"type":"end", "outcome", "events", "simulatedTimeUs", "traceHash", "violations", "faults", "report", "decisions"}
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { InputError } from '../src/core/assert.ts';
import { toDisplay } from '../src/core/json.ts';

export const TRACE_FORMAT = 'halfmoon-trace';
export const TRACE_VERSION = 1;
export const TRACE_LINE_BYTES_MAX = 64 * 1024 * 1024;

export interface TraceSink {
  write(record: Record<string, unknown>): void;
  close(): void;
}

/** Buffered JSONL file writer; values pass through the display encoding. */
export class FileTraceSink implements TraceSink {
  private fd: number;
  private buf: string[] = [];
  private bytes = 0;
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new InputError(`--trace ${path}: cannot open for writing (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  write(record: Record<string, unknown>): void {
    const line = JSON.stringify(toDisplay(record)) + '\n';
    this.buf.push(line);
    this.bytes += line.length;
    if (this.bytes > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.bytes = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Collects records in memory (tests, workers, the explorer's counterexamples). */
export class MemoryTraceSink implements TraceSink {
  readonly records: Record<string, unknown>[] = [];
  write(record: Record<string, unknown>): void {
    this.records.push(toDisplay(record) as Record<string, unknown>);
  }
  close(): void {}
}

export interface TraceFile {
  readonly header: Record<string, unknown>;
  readonly records: Record<string, unknown>[];
  readonly end: Record<string, unknown> | null;
}

/** Reads and validates a trace file; bad input gives one InputError line. */
export function readTrace(path: string): TraceFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read trace file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const lines = text.split('\n');
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (line.length > TRACE_LINE_BYTES_MAX) throw new InputError(`${path}:${i + 1}: line longer than ${TRACE_LINE_BYTES_MAX} bytes`);
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new InputError(`${path}:${i + 1}: not valid JSON`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec) || typeof (rec as { type?: unknown }).type !== 'string') {
      throw new InputError(`${path}:${i + 1}: a trace record must be an object with a string "type"`);
    }
    records.push(rec as Record<string, unknown>);
  }
  const header = records[0];
  if (!header || header.type !== 'header' || header.format !== TRACE_FORMAT) {
    throw new InputError(`${path}: not a halfmoon trace (the first line must be a header with format "${TRACE_FORMAT}")`);
  }
  if (header.version !== TRACE_VERSION) {
    throw new InputError(`${path}: trace version ${String(header.version)} is not supported (this build reads ${TRACE_VERSION})`);
  }
  const last = records[records.length - 1];
  return { header, records, end: last && last.type === 'end' ? last : null };
}
