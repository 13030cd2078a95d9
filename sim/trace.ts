/**
 * Trace files: JSON Lines, one record per line, written in the *display* encoding (bigints as
 * "0x<16 hex>") except the header's scenario and the footer's decision log, which must round-trip
 * and are plain JSON already.
 *
 *   {"type":"header", "format":"halfmoon-trace", "version":1, "source":"sim"|"explore"|"real", ...}
 *   {"type":"boot", "t", "node", "state"}                 a node's state at start or restart
 *   {"type":"step", "i", "t", "node", "input", "effects", "state"?, "msgId"?, "msgIds"?}
 *   {"type":"net", "t", "fate", "from", "to", "msgId"?}   drop, duplicate, reorder, delay, partitioned, stale, down
 *   {"type":"fault", "t", "kind", "nodes", "detail"}
 *   {"type":"history", ...HistoryEvent}
 *   {"type":"violation", ...Violation, "input"?}
 *   {"type":"end", "outcome", "events", "simulatedTimeUs", "traceHash", "violations", "faults", "report", "decisions"}
 *
 * Field notes (what the viewer and the Perfetto exporter rely on, `sim/viewer/model.ts`):
 * - `step.msgId` is the id of the message, request or response the step delivered; `step.msgIds`
 *   lists, in effect order, the ids of the messages it sent: one per `send`, `request` and
 *   (delivered) `reply` effect. A message id names one send; a duplicated message is delivered
 *   twice under the same id.
 * - `net.msgId` names the message whose fate it reports. Fates decided at send time (drop,
 *   duplicate, reorder, delay, partitioned) are written *before* the sending step's record, fates
 *   decided at delivery time (partitioned, stale, down) at the delivery time.
 * - `violation.input` is present when a machine threw: the input it was handling (that step has
 *   no step record, since it never completed).
 * - `history` records of kind call and record belong to the step record that follows them; a `ret`
 *   belongs to the driver's response step that follows it.
 *
 * Other sources write the same records with fewer fields, and readers must cope:
 * - `source: "explore"` (counterexamples): time is the step index unless `t` is given; `state` may
 *   be missing; there may be no `net` records; messages may lack ids (the viewer then pairs a
 *   delivery with the oldest matching send of the same content on the same link).
 * - `source: "real"` (recorded runs): `t` is wall-clock microseconds (any epoch); states and net
 *   records may be missing.
 * - Optional header fields: `nodes` (else the nodes named by records, in order of appearance),
 *   `timeUnit: "us" | "step"` (default "step" for explore, "us" otherwise), `clock: "virtual" |
 *   "wall"` (default "wall" for real, "virtual" otherwise), `replay` (the command that reproduces the
 *   run), `system`, `variant`, `seed`.
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

/** Parses one line of a trace; `lineNo` is 1-based, for the error message. */
export function parseTraceLine(line: string, path: string, lineNo: number): Record<string, unknown> {
  if (line.length > TRACE_LINE_BYTES_MAX) throw new InputError(`${path}:${lineNo}: line longer than ${TRACE_LINE_BYTES_MAX} bytes`);
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    throw new InputError(`${path}:${lineNo}: not valid JSON`);
  }
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec) || typeof (rec as { type?: unknown }).type !== 'string') {
    throw new InputError(`${path}:${lineNo}: a trace record must be an object with a string "type"`);
  }
  return rec as Record<string, unknown>;
}

/** Checks that the first record is a header this build reads. */
export function checkTraceHeader(header: Record<string, unknown> | undefined, path: string): Record<string, unknown> {
  if (!header || header.type !== 'header' || header.format !== TRACE_FORMAT) {
    throw new InputError(`${path}: not a halfmoon trace (the first line must be a header with format "${TRACE_FORMAT}")`);
  }
  if (header.version !== TRACE_VERSION) {
    throw new InputError(`${path}: trace version ${String(header.version)} is not supported (this build reads ${TRACE_VERSION})`);
  }
  return header;
}

/** Reads a trace file's text; bad input gives one InputError line. */
export function readTraceText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_STRING_TOO_LONG') throw new InputError(`${path}: trace file too large to read at once`);
    throw new InputError(`${path}: cannot read trace file (${code ?? 'error'})`);
  }
}

/** Reads and validates a trace file; bad input gives one InputError line. */
export function readTrace(path: string): TraceFile {
  const lines = readTraceText(path).split('\n');
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    records.push(parseTraceLine(line, path, i + 1));
  }
  const header = checkTraceHeader(records[0], path);
  const last = records[records.length - 1];
  return { header, records, end: last && last.type === 'end' ? last : null };
}
