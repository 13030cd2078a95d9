/**
 * Loading a trace for the viewer and the exporter: one streaming pass over the file (gzip or
 * not) validates every line as the other readers do (bad input is one InputError line), feeds the
 * expanded records to the model builder one at a time, and keeps the compact lines in deflated
 * pages of PAGE_RECORDS records with an index of the nodes' snapshots, so any range of records
 * can be decoded again on demand (`records`). What stays in memory is the model, the pages and
 * the blobs: the limit is on that memory (TRACE_MEMORY_BYTES_MAX), not on the file's size.
 */
import { basename } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { InputError } from '../../src/core/assert.ts';
import { readTraceRecords } from '../../sim/trace.ts';
import type { BlobTable } from '../../sim/trace-codec.ts';
import { ModelBuilder, type ViewModel } from './model.ts';
import { decodeRange, PAGE_RECORDS, type RecordIndex, RecordIndexBuilder } from './record-pages.ts';
import { lensFor } from './systems/index.ts';

/** What the viewer may hold in memory for one trace (pages, blobs and the model's columns). */
export const TRACE_MEMORY_BYTES_MAX = 384 * 1024 * 1024;

export interface LoadedTrace {
  readonly path: string;
  readonly model: ViewModel;
  readonly index: RecordIndex;
  readonly blobs: BlobTable;
  /** The compact lines of the blobs, in id order (the self-contained page embeds them). */
  blobLines(): string[];
  /** The compact record lines [a, b) (the self-contained page embeds them). */
  compactLines(a: number, b: number): string[];
  /** The expanded records [a, b): states whole, references resolved. */
  records(a: number, b: number): Record<string, unknown>[];
  /** Bytes the loaded trace holds in memory (estimated). */
  readonly memoryBytes: number;
}

export interface LoadOptions {
  readonly memoryBytesMax?: number;
}

export async function loadTrace(path: string, opts: LoadOptions = {}): Promise<LoadedTrace> {
  const limit = opts.memoryBytesMax ?? TRACE_MEMORY_BYTES_MAX;
  let builder: ModelBuilder | null = null;
  const pages: Buffer[] = [];
  let page: string[] = [];
  const blobLines: string[] = [];
  const idx = new RecordIndexBuilder();
  let memory = 0;
  const over = () => {
    throw new InputError(`${path}: viewing this trace needs more than ${Math.round(limit / (1024 * 1024))} MB of memory (the viewer's limit); record it with --trace-window <steps> or --trace-level events`);
  };
  const seal = () => {
    const z = deflateRawSync(page.join('\n'), { level: 1 });
    pages.push(z);
    memory += z.length + 64;
    page = [];
    if (memory > limit) over();
  };
  let blobs: BlobTable | null = null;
  await readTraceRecords(path, (rec, i, _lineNo, line, raw, decoderBlobs) => {
    blobs ??= decoderBlobs;
    if (raw.type === 'blob') {
      blobLines.push(line);
      memory += line.length * 3;
      if (memory > limit) over();
      return;
    }
    if (i === 0) {
      const system = typeof rec.system === 'string' ? rec.system : null;
      builder = new ModelBuilder(rec, basename(path), lensFor(system));
    } else builder!.add(rec, i);
    idx.add(raw, i);
    page.push(line);
    memory += 48; // the model's columns, per record (roughly)
    if (page.length === PAGE_RECORDS) seal();
  });
  if (page.length) seal();
  const model = (builder as ModelBuilder | null)!.finish();
  const index = idx.finish();
  const table: BlobTable = blobs ?? new Map();
  let cache: { p: number; lines: string[] } | null = null;
  const pageLines = (p: number): string[] => {
    if (cache?.p === p) return cache.lines;
    const lines = inflateRawSync(pages[p]!).toString('utf8').split('\n');
    cache = { p, lines };
    return lines;
  };
  const compact = (i: number): string => pageLines(Math.floor(i / PAGE_RECORDS))[i % PAGE_RECORDS]!;
  return {
    path,
    model,
    index,
    blobs: table,
    memoryBytes: memory,
    blobLines: () => blobLines.slice(),
    compactLines(a, b) {
      const out: string[] = [];
      for (let i = Math.max(0, a); i < Math.min(b, index.records); i++) out.push(compact(i));
      return out;
    },
    records: (a, b) => decodeRange(index, table, (i) => JSON.parse(compact(i)) as Record<string, unknown>, a, b),
  };
}
