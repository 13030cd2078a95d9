/**
 * The external store (DynamoDB's role, spec §2 "store interface"): rows of {value, version},
 * strongly consistent reads, blind `put`, and `condUpdate(row, value, version)` which applies iff
 * the row is absent or its version is smaller (the Thomas write rule), then sets the version.
 *
 * Each operation takes effect when the store handles it and is answered after a service time
 * (get 2.0 ms, put and conditional update 3.8 ms by default, spec §9.5), which is how the
 * simulation prices store access. The store records every mutation that took effect
 * (`storeApply`) and every read with the version it saw (`storeRead`): the exactly-once checker
 * replays them (C3, C6). It is durable and always available, as the spec assumes, so it is not a
 * fault target; the `eventual-store-reads` variant serves reads from a copy up to Δ old.
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Effect, Machine } from '../core/contract.ts';
import { persist, record, send, setTimer } from '../core/contract.ts';
import { type Json, type Version, VERSION_ZERO, versionAsFloat, versionLess } from './records.ts';

export interface StoreConfig {
  readonly getUs: number;
  readonly putUs: number;
  /** Each answer is delayed by a further uniform 0..jitterUs (a real store's service-time spread). */
  readonly jitterUs: number;
  /** Initial rows: name -> value (version VERSION_ZERO). */
  readonly initial: readonly (readonly [string, Json])[];
  /** eventual-store-reads: a read may return the row as it was up to this long ago (0 = strong). */
  readonly staleReadUs: number;
  /** version-float64: versions are stored as float64. */
  readonly floatVersions: boolean;
  /**
   * Persist every mutation (synced before its answer) and recover the rows after a restart: the
   * store as the project's own durable process in a real cluster. The simulation's store is
   * durable by assumption and never crashes, so it leaves this off (and pays no sync latency).
   */
  readonly durable?: boolean;
}

export interface Row {
  value: Json;
  version: Version;
}

export type StoreReq =
  | { readonly op: 'get'; readonly row: string }
  | { readonly op: 'put'; readonly row: string; readonly value: Json }
  | { readonly op: 'condUpdate'; readonly row: string; readonly value: Json; readonly version: Version }
  /**
   * The reconciler's scan: base rows last written by an HM-W write (write counter >= 1; mirrors,
   * transitional and Boki writes use 0) whose version is at least `minS`.
   */
  | { readonly op: 'scanBase'; readonly minS: bigint };

export type StoreRep =
  | { readonly op: 'get'; readonly found: boolean; readonly value: Json; readonly version: Version }
  | { readonly op: 'put' }
  | { readonly op: 'condUpdate'; readonly applied: boolean }
  | { readonly op: 'scanBase'; readonly rows: readonly string[] };

export type StoreMsg =
  | { readonly type: 'wf.store.req'; readonly id: string; readonly req: StoreReq; readonly writeId: string | null }
  | { readonly type: 'wf.store.rep'; readonly id: string; readonly rep: StoreRep };

export type StoreEvent =
  | { readonly ev: 'storeApply'; readonly row: string; readonly value: Json; readonly version: Version; readonly writeId: string | null; readonly op: 'put' | 'condUpdate' }
  | { readonly ev: 'storeRead'; readonly row: string; readonly found: boolean; readonly version: Version; readonly readId: string };

export interface StoreState {
  readonly cfg: StoreConfig;
  rows: Map<string, Row>;
  /** eventual-store-reads only: past row states with the time they were replaced. */
  past: Map<string, { until: number; row: Row | null }[]>;
  waiting: Map<string, { to: string; msg: StoreMsg }>;
  timerSeq: number;
  gets: number;
  puts: number;
  condUpdates: number;
}

const ROWS_MAX = 50_000_000;
/** Disk key prefix of a durable store's rows. */
const ROW_KEY = 'row/';

/** Durable stores persist the row (synced) before anything answers the mutation. */
function persistRow(s: StoreState, name: string, row: Row, out: Eff[]): void {
  if (s.cfg.durable) out.push(persist(ROW_KEY + name, { value: row.value, version: row.version }, true));
}

type Eff = Effect<StoreMsg, never, never, StoreEvent>;

function remember(s: StoreState, name: string, old: Row | undefined, now: number): void {
  if (s.cfg.staleReadUs <= 0) return;
  let l = s.past.get(name);
  if (!l) {
    l = [];
    s.past.set(name, l);
  }
  l.push({ until: now, row: old ? { value: old.value, version: old.version } : null });
  while (l.length > 0 && l[0]!.until < now - s.cfg.staleReadUs) l.shift();
}

export const storeMachine: Machine<StoreConfig, StoreState, StoreMsg, never, never, StoreEvent> = {
  role: 'store',
  init(cfg) {
    const rows = new Map<string, Row>();
    for (const [name, value] of cfg.initial) rows.set(name, { value, version: VERSION_ZERO });
    return { cfg, rows, past: new Map(), waiting: new Map(), timerSeq: 0, gets: 0, puts: 0, condUpdates: 0 };
  },
  traceView: (s) => ({ rows: s.rows.size, gets: s.gets, puts: s.puts, condUpdates: s.condUpdates, waiting: s.waiting.size }),
  // The store is durable and never crashes in the spec's model; a restart keeps nothing volatile.
  // A durable store (real mode) recovers its rows: the initial ones overlaid by every mutation.
  recover(cfg, self, disk) {
    const s = storeMachine.init(cfg, self);
    if (!cfg.durable) return s;
    for (const [k, v] of disk) {
      if (!k.startsWith(ROW_KEY)) continue;
      const row = v as Row;
      s.rows.set(k.slice(ROW_KEY.length), { value: row.value, version: row.version });
    }
    return s;
  },
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'message': {
        const m = input.msg;
        if (m.type !== 'wf.store.req') break;
        const rep = apply(s, m, ctx.nowUs, out);
        const reply: StoreMsg = { type: 'wf.store.rep', id: m.id, rep };
        const base = m.req.op === 'get' || m.req.op === 'scanBase' ? s.cfg.getUs : s.cfg.putUs;
        const delay = s.cfg.jitterUs > 0 ? base + Math.floor((ctx.randomU32('jitter') / 0x1_0000_0000) * (s.cfg.jitterUs + 1)) : base;
        if (delay <= 0) out.push(send(input.from, reply));
        else {
          const name = `r${s.timerSeq++}`;
          s.waiting.set(name, { to: input.from, msg: reply });
          out.push(setTimer(name, delay));
        }
        break;
      }
      case 'timer': {
        const w = s.waiting.get(input.timer);
        if (w) {
          s.waiting.delete(input.timer);
          out.push(send(w.to, w.msg));
        }
        break;
      }
      case 'start':
      case 'restart':
      case 'client':
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function apply(s: StoreState, m: Extract<StoreMsg, { type: 'wf.store.req' }>, now: number, out: Eff[]): StoreRep {
  const req = m.req;
  switch (req.op) {
    case 'get': {
      s.gets++;
      let row = s.rows.get(req.row) ?? null;
      if (s.cfg.staleReadUs > 0) {
        // Serve the oldest state still within the staleness window: an eventually consistent read.
        const l = s.past.get(req.row);
        const first = l?.find((p) => p.until >= now - s.cfg.staleReadUs);
        if (first) row = first.row;
      }
      const rep: StoreRep = row ? { op: 'get', found: true, value: row.value, version: row.version } : { op: 'get', found: false, value: null, version: VERSION_ZERO };
      out.push(record({ ev: 'storeRead', row: req.row, found: rep.found, version: rep.version, readId: m.id }));
      return rep;
    }
    case 'put': {
      s.puts++;
      const old = s.rows.get(req.row);
      remember(s, req.row, old, now);
      assert(old !== undefined || s.rows.size < ROWS_MAX, 'store over its row limit');
      const version = old ? old.version : VERSION_ZERO;
      const row = { value: req.value, version };
      s.rows.set(req.row, row);
      persistRow(s, req.row, row, out);
      out.push(record({ ev: 'storeApply', row: req.row, value: req.value, version, writeId: m.writeId, op: 'put' }));
      return { op: 'put' };
    }
    case 'condUpdate': {
      s.condUpdates++;
      const old = s.rows.get(req.row);
      const version = s.cfg.floatVersions ? versionAsFloat(req.version) : req.version;
      const oldVersion = old ? (s.cfg.floatVersions ? versionAsFloat(old.version) : old.version) : null;
      if (oldVersion !== null && !versionLess(oldVersion, version)) return { op: 'condUpdate', applied: false };
      remember(s, req.row, old, now);
      assert(old !== undefined || s.rows.size < ROWS_MAX, 'store over its row limit');
      const row = { value: req.value, version };
      s.rows.set(req.row, row);
      persistRow(s, req.row, row, out);
      out.push(record({ ev: 'storeApply', row: req.row, value: req.value, version, writeId: m.writeId, op: 'condUpdate' }));
      return { op: 'condUpdate', applied: true };
    }
    case 'scanBase': {
      const rows: string[] = [];
      for (const [name, row] of s.rows) if (name.endsWith('@BASE') && row.version.w >= 1 && row.version.s >= req.minS) rows.push(name);
      rows.sort();
      return { op: 'scanBase', rows };
    }
    default:
      return assertNever(req, 'store request');
  }
}
