/**
 * The storage accounting model (proofs/storage.ts) on hand-built histories whose expected
 * time-averaged bytes are worked out term by term in the comments: step-stream records kept until
 * their instance finishes, the current version of each key integrated over the window, superseded
 * versions held until the minimum cursor of unfinished instances passes the newer commit, INIT kept
 * or collected, the artifact's request-based model, and the GC tick. Each rule is also shown to
 * matter: a variant history in which the rule's condition changes moves the result by exactly the
 * expected amount, so a model that ignored the rule would fail.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/core/system.ts';
import { storageAccounting, type StorageOptions } from '../../proofs/storage.ts';

type Ev = HistoryEvent;

/** A small builder for runtime history events (only the fields the model reads matter). */
class H {
  readonly ev: Ev[] = [];
  call(t: number, req: string): this {
    this.ev.push({ kind: 'call', t, reqId: req, client: 'driver', node: 'eng0', body: null });
    return this;
  }
  ret(t: number, req: string): this {
    this.ev.push({ kind: 'ret', t, reqId: req, client: 'driver', node: 'eng0', body: null });
    return this;
  }
  start(t: number, req: string, callerIid: string | null = null): this {
    this.rec(t, { ev: 'execStart', exec: `x:${req}`, iid: `r:${req}`, path: req, requestId: req, mode: 'HMR', top: callerIid === null, callerIid, ordinal: -1 });
    return this;
  }
  end(t: number, req: string): this {
    this.rec(t, { ev: 'execEnd', exec: `x:${req}`, iid: `r:${req}`, path: req, requestId: req, outcome: 'done', output: null, reason: null, top: true, replayedDone: false });
    return this;
  }
  /** A successful (conditional) append of a step record of request `req`'s instance. */
  log(t: number, req: string, seq: number, kind: string, bytes: number, extra: { key?: string; version?: number } = {}): this {
    this.rec(t, {
      ev: 'logOp',
      exec: `x:${req}`,
      requestId: req,
      path: req,
      op: 'condAppend',
      code: 'APPEND_OK',
      seq: BigInt(seq),
      tags: [],
      rec: { kind, iid: `r:${req}`, step: 0, post: false, marker: false, table: extra.key ? 't' : null, key: extra.key ?? null, version: extra.version === undefined ? null : BigInt(extra.version), output: undefined },
      stage: 'op',
      opKind: null,
      bytes,
      waitUs: 0,
    });
    return this;
  }
  put(t: number, row: string, bytes: number): this {
    this.rec(t, { ev: 'storeApply', row, value: 'x'.repeat(bytes), version: { s: 0n, w: 0, iid: '' }, writeId: null, op: 'put' });
    return this;
  }
  private rec(t: number, event: unknown): void {
    this.ev.push({ kind: 'record', t, node: 'eng0', event });
  }
}

/**
 * Three requests on one key k0 (INIT 100 B) under HM-R:
 * - q0 [0, 41]: Intent 50 B @10, PreWrite 30 B @20 (seq 2), put k0@v2 100 B @25, PostWrite 40 B @30 (seq 3), Done 20 B @40.
 * - qA [50, 501]: Intent 50 B @60 (seq 5, its cursor), Done 20 B @500; it holds the minimum cursor until 500.
 * - q1 [100, 141]: Intent 50 B @110, PreWrite 30 B @120 (seq 7), put k0@v7 @125, PostWrite 40 B @130 (seq 8), Done 20 B @140.
 * Window: starts 0, 50, 100 -> W = [0, 150), |W| = 150 µs.
 */
function history(qaDoneAt = 500): Ev[] {
  const h = new H();
  h.call(0, 'q0').start(0, 'q0').log(10, 'q0', 1, 'Intent', 50).log(20, 'q0', 2, 'PreWrite', 30, { key: 'k0' }).put(25, 't/k0@v2', 100).log(30, 'q0', 3, 'PostWrite', 40, { key: 'k0', version: 2 }).log(40, 'q0', 4, 'Done', 20).end(40, 'q0').ret(41, 'q0');
  h.call(50, 'qA').start(50, 'qA').log(60, 'qA', 5, 'Intent', 50);
  h.call(100, 'q1').start(100, 'q1').log(110, 'q1', 6, 'Intent', 50).log(120, 'q1', 7, 'PreWrite', 30, { key: 'k0' }).put(125, 't/k0@v7', 100).log(130, 'q1', 8, 'PostWrite', 40, { key: 'k0', version: 7 }).log(140, 'q1', 9, 'Done', 20).end(140, 'q1').ret(141, 'q1');
  h.log(qaDoneAt, 'qA', 12, 'Done', 20).end(qaDoneAt, 'qA').ret(qaDoneAt + 1, 'qA');
  h.ev.sort((a, b) => a.t - b.t); // the simulator's history is in time order
  return h.ev;
}

const base: StorageOptions = {
  rule: 'canonical',
  keepInit: true,
  gcTickUs: 0,
  ticks: 'mean',
  initialRows: new Map([
    ['t/k0@INIT', 100],
    ['t/k0@BASE', 100],
  ]),
  layout: { versioned: true, base: false },
  measured: new Set(['q0', 'qA', 'q1']),
  tagBytes: 0,
};

describe('storage accounting, spec §3.5 rule', () => {
  it('adds up step records, current and superseded versions and kept INIT rows as worked out by hand', () => {
    const r = storageAccounting(history(), base);
    // Step records, byte·µs until their instance finished: q0 50·30 + 30·20, qA 50·440, q1 50·30 + 30·20 (Done records: 0).
    const step = 1500 + 600 + 22000 + 1500 + 600;
    // Key-stream records: PostWrite seq 3 current [30, 130) = 40·100, PostWrite seq 8 current [130, 150) = 40·20;
    // seq 3 superseded at 130 and held until qA (cursor 5 < 8) finishes at 500: 40·370.
    const keyCurrent = 4000 + 800;
    const keySuperseded = 40 * 370;
    // Rows: INIT current [0, 30) 100·30, v2 current [30, 130) 100·100, v7 current [130, 150) 100·20;
    // pending puts 100·5 twice; v2 superseded 130..500: 100·370; INIT kept [30, 150): 100·120.
    const rowsCurrent = 3000 + 10000 + 2000;
    const rowsTransient = 500 + 500 + 37000;
    const initKept = 12000;
    expect(r.windowUs).toBe(150);
    expect(r.parts.stepRecords).toBeCloseTo(step / 150, 9);
    expect(r.parts.keyRecordsCurrent).toBeCloseTo(keyCurrent / 150, 9);
    expect(r.parts.keyRecordsSuperseded).toBeCloseTo(keySuperseded / 150, 9);
    expect(r.parts.rowsCurrent).toBeCloseTo(rowsCurrent / 150, 9);
    expect(r.parts.rowsTransient).toBeCloseTo(rowsTransient / 150, 9);
    expect(r.parts.initKept).toBeCloseTo(initKept / 150, 9);
    expect(r.logBytes).toBeCloseTo((step + keyCurrent + keySuperseded) / 150, 9);
    expect(r.dataBytes).toBeCloseTo((rowsCurrent + rowsTransient + initKept) / 150, 9);
    expect(r.records.PostWrite).toEqual({ count: 2, meanBytes: 40 });
  });

  it('holds a superseded version exactly as long as an older instance stays unfinished', () => {
    const late = storageAccounting(history(500), base);
    const early = storageAccounting(history(135), base);
    // qA finishing at 135 instead of 500 frees v2 (100 B) and its PostWrite (40 B) 365 µs sooner,
    // and qA's own Intent (50 B) too.
    expect(late.dataBytes - early.dataBytes).toBeCloseTo((100 * 365) / 150, 9);
    expect(late.logBytes - early.logBytes).toBeCloseTo((40 * 365 + 50 * 365) / 150, 9);
  });

  it('collects INIT like any superseded version when keepInit is off', () => {
    const kept = storageAccounting(history(), base);
    const gc = storageAccounting(history(), { ...base, keepInit: false });
    // INIT is superseded at 30 when q0, the only unfinished instance, holds cursor 3: collectable at once.
    expect(kept.dataBytes - gc.dataBytes).toBeCloseTo(12000 / 150, 9);
    expect(gc.parts.initKept).toBe(0);
  });

  it('delays every collection by half a tick on average, and by the next tick on the grid', () => {
    const t0 = storageAccounting(history(), base);
    const mean = storageAccounting(history(), { ...base, gcTickUs: 1000 });
    // Collected items (Little-counted): step records (all eight), the superseded PostWrite and v2, INIT (kept, not collected).
    const collectedLog = 50 + 30 + 20 + 50 + 20 + 50 + 30 + 20 + 40;
    expect(mean.logBytes - t0.logBytes).toBeCloseTo((collectedLog * 500) / 150, 9);
    expect(mean.dataBytes - t0.dataBytes).toBeCloseTo((100 * 500) / 150, 9);
    const grid = storageAccounting(history(), { ...base, gcTickUs: 1000, ticks: 'grid' });
    // On the grid every collection lands at t = 1000 (ticks at 0, 1000, ... from the window start).
    const gridLog = (50 * 990 + 30 * 980 + 20 * 960) + (50 * 940 + 20 * 500) + (50 * 890 + 30 * 880 + 20 * 860) + 40 * 870 + keyCurrent();
    expect(grid.logBytes).toBeCloseTo(gridLog / 150, 6);
    function keyCurrent(): number {
      return 4000 + 800;
    }
  });

  it('uses n/λ as the arrival span when the open-loop rate is known', () => {
    const r = storageAccounting(history(), { ...base, ratePerSec: 1e6 / 60 }); // 3 requests at one per 60 µs: 180 µs
    const plain = storageAccounting(history(), base);
    // Integrated parts keep |W| = 150; Little parts divide by 180 instead.
    expect(r.parts.rowsCurrent).toBeCloseTo(plain.parts.rowsCurrent, 9);
    expect(r.parts.stepRecords).toBeCloseTo((plain.parts.stepRecords * 150) / 180, 9);
  });

  it('counts BASE rows in place for single-row layouts', () => {
    const r = storageAccounting(history(), { ...base, layout: { versioned: false, base: true } });
    expect(r.parts.rowsCurrent).toBeCloseTo(100, 9); // one 100 B row, all window long
    expect(r.parts.keyRecordsCurrent).toBe(0);
    expect(r.parts.rowsTransient).toBe(0);
  });
});

describe('storage accounting, the artifact model (compute_logsize.py)', () => {
  it('keeps a request\'s records from its start to its end, and a version until every request started before the next write ends', () => {
    const r = storageAccounting(history(), { ...base, rule: 'artifact', keepInit: false });
    // Log: q0 140 B for 41 µs, qA 70 B for 451 µs, q1 140 B for 41 µs.
    expect(r.logBytes).toBeCloseTo((140 * 41 + 70 * 451 + 140 * 41) / 150, 9);
    // Rows: INIT superseded by q0 (start 0) until q0 ends (41): 100·41; v2 current [0, 100): 100·100,
    // superseded by q1 (start 100) until qA, started before it, ends (501): 100·401; v7 current [100, 150): 100·50.
    expect(r.dataBytes).toBeCloseTo((100 * 41 + 100 * 100 + 100 * 401 + 100 * 50) / 150, 9);
  });
});
