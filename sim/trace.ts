/**
 * Trace files: JSON Lines, format "halfmoon-trace" version 2, optionally gzip-compressed (a name
 * ending in ".gz" writes gzip; readers detect it from the first bytes). docs/trace-format.md is the
 * reference, with a schema; in short:
 *
 *   {"type":"header", "format":"halfmoon-trace", "version":2, "source":"sim"|"explore"|"real",
 *    "level"?: "events"|"states"|"full", "snapshotEvery"?, "window"?, ...}
 *   {"type":"blob", "id", "v"}                            a payload written once, referenced as {"$ref": id}
 *   {"type":"boot", "t", "node", "s"|"state"}             a node's state at start or restart (a snapshot)
 *   {"type":"snap", "t", "node", "s"}                     a node's state where a windowed trace starts
 *   {"type":"step", "i", "t", "node", "input", "effects", "s"|"d"|"state"?, "msgId"?, "msgIds"?}
 *   {"type":"net", "t", "fate", "from", "to", "msgId"?}   drop, duplicate, reorder, delay, partitioned, stale, down
 *   {"type":"fault", "t", "kind", "nodes", "detail"}
 *   {"type":"history", ...HistoryEvent}
 *   {"type":"violation", ...Violation, "input"?}
 *   {"type":"end", "outcome", "events", "simulatedTimeUs", "traceHash", "violations", "faults", "report", "decisions"}
 *
 * A step's state is `s` (a full snapshot), `d` (the change since the node's previous state, see
 * `trace-codec.ts`) or, from writers that do not encode (hand-made traces, older tools), a plain
 * `state`. Readers never see the compact form: `readTraceRecords` yields every record expanded
 * (references resolved, `state` the node's full display state), one at a time, with memory
 * bounded by the longest line, the blobs and one state per node, whatever the file's size.
 *
 * Field notes (what the viewer and the Perfetto exporter rely on, `app/viewer/model.ts`):
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
import { closeSync, createReadStream, openSync, readSync, statSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, gzipSync } from 'node:zlib';
import { InputError } from '../src/core/assert.ts';
import { toDisplay } from '../src/core/json.ts';
import { type BlobTable, SNAPSHOT_EVERY_DEFAULT, TraceDecoder, TraceEncoder, TraceFormatError } from './trace-codec.ts';

export const TRACE_FORMAT = 'halfmoon-trace';
export const TRACE_VERSION = 2;
export const TRACE_LINE_BYTES_MAX = 64 * 1024 * 1024;

/** What a trace records of the nodes' states. */
export type TraceLevel = 'events' | 'states' | 'full';
export const TRACE_LEVELS: readonly TraceLevel[] = ['events', 'states', 'full'];

export interface TraceSink {
  write(record: Record<string, unknown>): void;
  close(): void;
}

export interface FileTraceOptions {
  /** A node's steps between two full snapshots of its state. */
  readonly snapshotEvery?: number;
  /** Keep only the last `window` steps (and what happened among them): a trace around the violation. */
  readonly window?: number | null;
}

/**
 * Writes the compact encoding to a file (gzip when the name ends in ".gz"), buffered. With a
 * window, records stay in memory until the run ends (at most `window` steps of them), and the
 * file then holds the header, the blobs they use, one snapshot per node where the window starts,
 * the window's records and the end record.
 */
export class FileTraceSink implements TraceSink {
  private fd: number;
  private buf: string[] = [];
  private bytes = 0;
  private readonly gzip: boolean;
  private readonly encoder: TraceEncoder;
  private readonly window: Windower | null;
  /** Bytes written (after compression). */
  written = 0;
  constructor(
    readonly path: string,
    opts: FileTraceOptions = {},
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new InputError(`--trace ${path}: cannot open for writing (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    this.gzip = path.endsWith('.gz');
    const every = opts.snapshotEvery ?? SNAPSHOT_EVERY_DEFAULT;
    this.window = opts.window ? new Windower(opts.window, every, (line) => this.line(line)) : null;
    this.encoder = new TraceEncoder(this.window ? (r) => this.window!.add(r) : (r) => this.line(JSON.stringify(r)), every);
  }
  write(record: Record<string, unknown>): void {
    if (record.type === 'header' && this.window) record = { ...record, window: this.window.steps };
    this.encoder.encode(record);
  }
  private line(line: string): void {
    this.buf.push(line, '\n');
    this.bytes += line.length + 1;
    if (this.bytes > 4 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    const text = this.buf.join('');
    // Each flush is one gzip member; a gzip file may hold several, and every reader joins them.
    const data = this.gzip ? gzipSync(text, { level: 6 }) : Buffer.from(text);
    writeSync(this.fd, data);
    this.written += data.length;
    this.buf = [];
    this.bytes = 0;
  }
  close(): void {
    this.window?.finish();
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * The last `steps` steps of a trace, kept as encoded records. Records that fall out of the window
 * are decoded (to know each node's state where the window starts) and forgotten.
 */
class Windower {
  private header: Record<string, unknown> | null = null;
  private readonly queue: Record<string, unknown>[] = [];
  private head = 0;
  private stepsIn = 0;
  private readonly blobs = new Map<number, Record<string, unknown>>();
  private readonly front = new TraceDecoder();
  private lastT = 0;
  constructor(
    readonly steps: number,
    private readonly every: number,
    private readonly out: (line: string) => void,
  ) {}
  add(r: Record<string, unknown>): void {
    if (r.type === 'header') return void (this.header = r);
    if (r.type === 'blob') {
      this.blobs.set(r.id as number, r);
      this.front.feed(r);
      return;
    }
    if (r.type === 'end') return void this.queue.push(r);
    this.queue.push(r);
    if (r.type === 'step' && ++this.stepsIn > this.steps) {
      // Drop everything up to and including the oldest step.
      for (;;) {
        const x = this.queue[this.head++]!;
        this.front.feed(x);
        if (typeof x.t === 'number') this.lastT = x.t;
        if (x.type === 'step') break;
      }
      this.stepsIn--;
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
    }
  }
  finish(): void {
    if (this.header) this.out(JSON.stringify({ ...this.header, windowFrom: this.head > 0 ? 'cut' : 'start' }));
    const kept = this.queue.slice(this.head);
    // Snapshots of the states where the window starts, in the display form, then the blobs the
    // window refers to, in id order (a blob may refer to an earlier one).
    const used = new Set<number>();
    const scan = (v: unknown): void => {
      if (typeof v !== 'object' || v === null) return;
      if (Array.isArray(v)) return v.forEach(scan);
      const o = v as Record<string, unknown>;
      if (typeof o.$ref === 'number' && Object.keys(o).length === 1) {
        if (!used.has(o.$ref)) {
          used.add(o.$ref);
          scan(this.blobs.get(o.$ref)?.v);
        }
        return;
      }
      for (const k of Object.keys(o)) scan(o[k]);
    };
    for (const r of kept) scan(r);
    for (const id of [...used].sort((a, b) => a - b)) this.out(JSON.stringify(this.blobs.get(id)));
    if (this.head > 0) {
      for (const [node, state] of this.front.states) this.out(JSON.stringify({ type: 'snap', t: this.lastT, node, state: toDisplay(state) }));
    }
    for (const r of kept) this.out(JSON.stringify(r));
    void this.every;
  }
}

/** Collects records in memory, expanded (tests, workers, the explorer's counterexamples). */
export class MemoryTraceSink implements TraceSink {
  readonly records: Record<string, unknown>[] = [];
  write(record: Record<string, unknown>): void {
    this.records.push(toDisplay(record) as Record<string, unknown>);
  }
  close(): void {}
}

export interface TraceFile {
  readonly header: Record<string, unknown>;
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
    const again = typeof header.replay === 'string' && header.source === 'sim' ? `; record it again with: ${header.replay} --trace <file>` : '';
    throw new InputError(`${path}: trace version ${String(header.version)} is not supported (this build reads version ${TRACE_VERSION})${again}`);
  }
  return header;
}

/** Whether the file starts with the gzip magic bytes. */
function isGzip(path: string): boolean {
  let fd: number;
  try {
    if (!statSync(path).isFile()) throw new InputError(`${path}: not a regular file`);
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read trace file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const b = Buffer.alloc(2);
    const n = readSync(fd, b, 0, 2, 0);
    return n === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } catch (e) {
    throw new InputError(`${path}: cannot read trace file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines of a trace file (gzip or not), one at a time, with their 1-based numbers; blank
 * lines skipped. Memory: one chunk and the longest line.
 */
export async function* traceLines(path: string): AsyncGenerator<{ line: string; lineNo: number }> {
  const gz = isGzip(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gz ? file.pipe(createGunzip()) : file;
  if (gz) file.on('error', (e) => stream.destroy(e));
  const dec = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 0;
  try {
    for await (const chunk of stream) {
      const text = carry + dec.write(chunk as Buffer);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        lineNo++;
        const line = text.slice(start, nl);
        start = nl + 1;
        if (line.trim() !== '') yield { line, lineNo };
      }
      carry = text.slice(start);
      if (carry.length > TRACE_LINE_BYTES_MAX) throw new InputError(`${path}:${lineNo + 1}: line longer than ${TRACE_LINE_BYTES_MAX} bytes`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (gz && /^Z_|ERR_/.test(code)) throw new InputError(`${path}: not a valid gzip file (${code})`);
    throw new InputError(`${path}: cannot read trace file (${code || (e as Error).message})`);
  } finally {
    file.destroy();
  }
  const rest = carry + dec.end();
  if (rest.trim() !== '') yield { line: rest, lineNo: lineNo + 1 };
}

export type OnRecord = (rec: Record<string, unknown>, index: number, lineNo: number, line: string, raw: Record<string, unknown>, blobs: BlobTable) => void;

/**
 * Streams a trace's records, expanded, to `onRecord(record, index, ...)`: index 0 is the header;
 * blob records are not counted (index -1: they are resolved into the records that use them).
 * `line` and `raw` are the record as written. Bad input is one InputError line naming the file
 * and line.
 */
export async function readTraceRecords(path: string, onRecord: OnRecord): Promise<Record<string, unknown>> {
  let header: Record<string, unknown> | null = null;
  const decoder = new TraceDecoder();
  let index = 0;
  for await (const { line, lineNo } of traceLines(path)) {
    const rec = parseTraceLine(line, path, lineNo);
    if (header === null) {
      header = checkTraceHeader(rec, path);
      onRecord(header, index++, lineNo, line, rec, decoder.blobs);
      continue;
    }
    let out: Record<string, unknown> | null;
    try {
      out = decoder.feed(rec);
    } catch (e) {
      if (e instanceof TraceFormatError) throw new InputError(`${path}:${lineNo}: ${e.message}`);
      throw e;
    }
    if (out !== null) onRecord(out, index++, lineNo, line, rec, decoder.blobs);
    else onRecord(rec, -1, lineNo, line, rec, decoder.blobs);
  }
  if (header === null) throw new InputError(`${path}: empty trace (the first line must be a header with format "${TRACE_FORMAT}")`);
  return header;
}

/** The header and the end record of a trace, read in one streaming pass. */
export async function readTrace(path: string): Promise<TraceFile> {
  let end: Record<string, unknown> | null = null;
  const header = await readTraceRecords(path, (r) => {
    if (r.type === 'end') end = r;
  });
  return { header, end };
}
