/**
 * Synthetic runs for the log checkers: a fake world (one storage node holding chosen slots, one
 * engine that knows view 0) and a history built from the records engines emit. Each test writes
 * the smallest history that exhibits one anomaly, so every check is seen firing on its own.
 */
import type { FinishedRun, HistoryEvent, WorldView } from '../../../src/core/system.ts';
import type { LogReply, LogRequest } from '../../../src/boki/api.ts';
import type { AttemptEndRec, AttemptRec, OpRec } from '../../../src/boki/history.ts';
import { localid, seqOf } from '../../../src/boki/ids.ts';
import type { Kind, Replicate } from '../../../src/boki/messages.ts';

export class World {
  readonly history: HistoryEvent[] = [];
  readonly ordered: (Replicate | undefined)[] = [];
  readonly trimPoints = new Map<number, bigint>();
  /** Slots whose record a storage replaced by its tombstone (a trimmed record keeps its row, not its payload). */
  readonly tombstones = new Map<number, Omit<Replicate, 'type' | 'ls' | 'incarnation' | 'data'> & { pos: number }>();
  t = 0;
  private n = 0;

  rec(node: string, event: AttemptRec | AttemptEndRec | OpRec): void {
    this.history.push({ kind: 'record', t: ++this.t, node, event });
  }

  /** An append attempt by eng0, ordered at (ls 0, pos) unless `pos` is null, answered `code`. */
  append(opts: { inv: string; book?: number; tags?: bigint[]; pos: number | null; code: 'APPEND_OK' | 'DISCARDED' | 'COND_FAILED'; kind?: Kind; condTag?: bigint; condPos?: number; stored?: boolean; ackPos?: number; pin?: bigint; pout?: bigint }): { attemptId: string; data: string; seq: bigint } {
    const id = `eng0:0:${++this.n}`;
    const counter = this.n;
    const book = opts.book ?? 1;
    const tags = opts.tags ?? [5n];
    const kind = opts.kind ?? 'normal';
    const data = `d${this.n}`;
    const reqId = `r${this.n}`;
    const t0 = ++this.t;
    this.rec('eng0', { ev: 'attempt', attemptId: id, reqId, inv: opts.inv, book, ls: 0, engine: 0, counter, kind, data });
    // An overwrite's attempt is ordered at its own slot; its reply names the target's seqnum.
    const ackPos = opts.ackPos ?? opts.pos ?? -1;
    const ownPos = kind === 'overwrite' ? (opts.pos ?? -1) : ackPos;
    this.rec('eng0', { ev: 'attemptEnd', attemptId: id, code: opts.code, ls: 0, pos: opts.code === 'DISCARDED' ? -1 : ownPos });
    if (opts.pos !== null && opts.stored !== false) {
      this.ordered[opts.pos] = { type: 'replicate', ls: 0, engine: 0, counter, incarnation: 0, book, tags, data, kind, condTag: opts.condTag ?? 0n, condPos: opts.condPos ?? 0, attemptId: id };
    }
    const req: LogRequest = kind === 'cond' ? { op: 'condAppend', inv: opts.inv, tags, data, condTag: opts.condTag!, condPos: opts.condPos! } : kind === 'overwrite' ? { op: 'overwrite', inv: opts.inv, tag: opts.condTag!, pos: opts.condPos!, data } : { op: 'append', inv: opts.inv, tags, data };
    const rep: LogReply = opts.code === 'APPEND_OK' ? { code: 'APPEND_OK', seqnum: seqOf(0, ackPos) } : { code: opts.code };
    this.rec('eng0', { ev: 'op', reqId, inv: opts.inv, book, req, rep, pin: opts.pin ?? 0n, pout: opts.pout ?? 0n, frontier: 0n, t0, attemptId: id });
    return { attemptId: id, data, seq: seqOf(0, opts.pos ?? 0) };
  }

  /** A read by eng0 answered with the record at `pos` (its stored payload unless `data` given). */
  read(opts: { inv: string; book?: number; req: LogRequest; pos: number | null; frontier: number; data?: string; pin?: bigint; pout?: bigint }): void {
    const t0 = ++this.t;
    let rep: LogReply = { code: 'EMPTY' };
    if (opts.pos !== null) {
      const r = this.ordered[opts.pos]!;
      rep = { code: 'READ_OK', record: { book: r.book, seqnum: seqOf(0, opts.pos), localid: localid(r.engine, r.counter), tags: r.tags, data: opts.data ?? r.data, auxData: null } };
    }
    this.rec('eng0', { ev: 'op', reqId: `q${t0}`, inv: opts.inv, book: opts.book ?? 1, req: opts.req, rep, pin: opts.pin ?? 0n, pout: opts.pout ?? 0n, frontier: seqOf(0, opts.frontier), t0, attemptId: null });
  }

  /** The storage keeps only the tombstone of the record at `pos`, as after a trim. */
  tombstone(pos: number): void {
    const r = this.ordered[pos]!;
    this.ordered[pos] = undefined;
    this.tombstones.set(pos, { pos, engine: r.engine, counter: r.counter, book: r.book, tags: r.tags, kind: r.kind, condTag: r.condTag, condPos: r.condPos, attemptId: r.attemptId });
  }

  run(): FinishedRun {
    const storage = { trimPoints: this.trimPoints, logs: new Map([[0, { ls: 0, viewId: 0, ordered: this.ordered, tombstones: this.tombstones }]]) };
    const engine = { indexes: new Map(), views: { infos: [{ view: { viewId: 0, storages: ['sto0'] } }] } };
    const view: WorldView = {
      nowUs: this.t,
      eventIndex: 0,
      nodeIds: () => ['sto0', 'eng0'],
      role: (id) => (id === 'sto0' ? 'storage' : 'engine'),
      isUp: () => true,
      state: (id) => (id === 'sto0' ? storage : engine),
      history: this.history,
      lastFaultUs: -1,
    };
    return { history: this.history, view, endUs: this.t, lastFaultUs: -1, truncated: false, quiescent: false };
  }
}
