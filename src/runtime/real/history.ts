/**
 * Where a real run's history goes: the same `HistoryEvent`s the simulator records (call/ret from
 * drivers and clients, record and fatal from machines), so the system's checkers judge real runs
 * unchanged. In memory for in-process runs and tests, and as JSONL (one wire-encoded event per
 * line, so bigints, Maps and Sets read back exactly) for separate processes, merged by time.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { InputError } from '../../core/assert.ts';
import { parseWire, stringifyWire } from '../../core/json.ts';
import type { HistoryEvent } from '../../core/system.ts';

export interface HistorySink {
  append(ev: HistoryEvent): void;
  /** Flushes and closes (a no-op for memory). */
  close(): Promise<void>;
}

export class MemoryHistory implements HistorySink {
  readonly events: HistoryEvent[] = [];
  constructor(readonly eventsMax = 10_000_000) {}
  append(ev: HistoryEvent): void {
    if (this.events.length >= this.eventsMax) throw new Error(`history over its limit of ${this.eventsMax} events`);
    this.events.push(ev);
  }
  async close(): Promise<void> {}
}

export class JsonlHistory implements HistorySink {
  private readonly out: WriteStream;
  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
  }
  append(ev: HistoryEvent): void {
    this.out.write(stringifyWire(ev) + '\n');
  }
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}

export class TeeHistory implements HistorySink {
  constructor(private readonly sinks: readonly HistorySink[]) {}
  append(ev: HistoryEvent): void {
    for (const s of this.sinks) s.append(ev);
  }
  async close(): Promise<void> {
    for (const s of this.sinks) await s.close();
  }
}

const KINDS = new Set(['call', 'ret', 'record', 'fault', 'fatal']);

/** Reads JSONL history files (a torn last line, from a killed process, is skipped) merged by time. */
export function readHistories(paths: readonly string[]): HistoryEvent[] {
  const all: { ev: HistoryEvent; file: number; line: number }[] = [];
  paths.forEach((p, file) => {
    const lines = readFileSync(p, 'utf8').split('\n');
    lines.forEach((text, line) => {
      if (text.trim() === '') return;
      let ev: unknown;
      try {
        ev = parseWire(text);
      } catch {
        if (line === lines.length - 1 || (line === lines.length - 2 && lines[lines.length - 1] === '')) return; // torn tail
        throw new InputError(`${p}:${line + 1}: malformed history line`);
      }
      const o = ev as { kind?: unknown; t?: unknown };
      if (typeof o !== 'object' || o === null || !KINDS.has(o.kind as string) || typeof o.t !== 'number') {
        throw new InputError(`${p}:${line + 1}: not a history event`);
      }
      all.push({ ev: ev as HistoryEvent, file, line });
    });
  });
  // Stable merge: by time, then file, then line, so each file's own order is kept at equal times.
  all.sort((a, b) => a.ev.t - b.ev.t || a.file - b.file || a.line - b.line);
  return all.map((x) => x.ev);
}
