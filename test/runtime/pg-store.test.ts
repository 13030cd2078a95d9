/**
 * Methodology: the PostgreSQL store against its specification, the store machine. A private
 * PostgreSQL server (initdb + pg_ctl in a temporary directory, on a free loopback port) is
 * started; fast-check generates scripts of store requests over a few rows (gets, blind puts,
 * conditional updates whose versions collide on every component, base-row scans), and each script
 * runs through the machine (stepped directly) and through the PostgreSQL backend on a fresh table:
 * once one request at a time, once with every request in flight together (the backend must keep
 * per-row arrival order and scan barriers). The answers and the history records (`storeApply`,
 * `storeRead`) must be identical, and the final rows equal the machine's. Then durability: a new
 * backend on the same table sees the rows. Without PostgreSQL the suite is skipped with the
 * reason printed, except under CI, where it must run.
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ctx } from '../../src/core/contract.ts';
import type { Json, Version } from '../../src/halfmoon/records.ts';
import { type StoreConfig, type StoreEvent, type StoreMsg, type StoreRep, type StoreReq, storeMachine } from '../../src/halfmoon/store.ts';
import { type LocalPg, pgUnavailable, startLocalPostgres } from '../../src/runtime/real/pg/server.ts';
import { PgStore } from '../../src/runtime/real/pg/store.ts';
import { freePort, tempDir } from './helpers.ts';

const missing = pgUnavailable();
if (missing && process.env.CI) throw new Error(`CI must provide PostgreSQL: ${missing}`);
if (missing) console.warn(`skipping the PostgreSQL store tests: ${missing}`);

const ROWS = ['t/a@BASE', 't/b@BASE', 't/a@v1', 't/c@INIT'];
const CONFIG: StoreConfig = { getUs: 0, putUs: 0, jitterUs: 0, initial: [['t/c@INIT', 'init'], ['t/a@BASE', { n: 1 }]], staleReadUs: 0, floatVersions: false };

const version: fc.Arbitrary<Version> = fc.record({ s: fc.bigInt({ min: 0n, max: 3n }), w: fc.integer({ min: 0, max: 2 }), iid: fc.constantFrom('', 'a', 'b', 'B') });
const value: fc.Arbitrary<Json> = fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.constant(null), fc.record({ k: fc.integer(), l: fc.array(fc.boolean(), { maxLength: 3 }) }));
const row = fc.constantFrom(...ROWS);
const req: fc.Arbitrary<StoreReq> = fc.oneof(
  { weight: 2, arbitrary: row.map((r) => ({ op: 'get' as const, row: r })) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('put' as const), row, value }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('condUpdate' as const), row, value, version }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 3n }).map((minS) => ({ op: 'scanBase' as const, minS })) },
);

type Outcome = { rep: StoreRep; event: StoreEvent | null };

/** The specification: the machine, stepped one request at a time. */
function viaMachine(script: readonly StoreReq[]): { outcomes: Outcome[]; rows: Map<string, unknown> } {
  let s = storeMachine.init(CONFIG, 'store');
  const ctx: Ctx = { self: 'store', nowUs: 0, maybe: () => false, randomU32: () => 0 };
  const outcomes = script.map((r, i) => {
    const msg: StoreMsg = { type: 'wf.store.req', id: `q${i}`, req: r, writeId: r.op === 'put' || r.op === 'condUpdate' ? `w${i}` : null };
    const out = storeMachine.step(s, { type: 'message', from: 'eng0', msg }, ctx);
    s = out.state;
    const rep = out.effects.find((e) => e.type === 'send')!.msg as StoreMsg;
    const rec = out.effects.find((e) => e.type === 'record');
    return { rep: (rep as Extract<StoreMsg, { type: 'wf.store.rep' }>).rep, event: rec ? (rec.event as StoreEvent) : null };
  });
  return { outcomes, rows: new Map([...s.rows].map(([k, v]) => [k, { value: v.value, version: v.version }])) };
}

describe.skipIf(missing !== null)('the PostgreSQL store against the store machine', () => {
  const dir = tempDir('hm-pg-');
  let pg: LocalPg;
  let table = 0;

  beforeAll(async () => {
    pg = await startLocalPostgres({ dir, port: await freePort() });
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const open = (t: string) => PgStore.open({ connect: pg.connect, table: t, poolSize: 4, config: CONFIG });

  it('gives the machine’s answers and records, one request at a time and all in flight', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(req, { minLength: 1, maxLength: 40 }), fc.boolean(), async (script, together) => {
        const spec = viaMachine(script);
        const store = await open(`rows_${++table}`);
        try {
          const run = (r: StoreReq, i: number) => store.apply(`q${i}`, r, r.op === 'put' || r.op === 'condUpdate' ? `w${i}` : null);
          let got: Outcome[];
          if (together) got = await Promise.all(script.map(run));
          else {
            got = [];
            for (let i = 0; i < script.length; i++) got.push(await run(script[i]!, i));
          }
          expect(got).toEqual(spec.outcomes);
          const st = await store.state();
          expect(new Map([...st.rows].map(([k, v]) => [k, { value: v.value, version: v.version }]))).toEqual(spec.rows);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25, seed: 20261123 },
    );
  }, 120_000);

  it('keeps its rows across a new process (a new backend on the same table)', async () => {
    const a = await open('durable_rows');
    await a.apply('q1', { op: 'condUpdate', row: 't/a@BASE', value: 'v', version: { s: 7n, w: 1, iid: 'x' } }, 'w1');
    await a.close();
    const b = await open('durable_rows');
    try {
      expect(await b.apply('q2', { op: 'get', row: 't/a@BASE' }, null)).toEqual({ rep: { op: 'get', found: true, value: 'v', version: { s: 7n, w: 1, iid: 'x' } }, event: { ev: 'storeRead', row: 't/a@BASE', found: true, version: { s: 7n, w: 1, iid: 'x' }, readId: 'q2' } });
      // The initial row the first process overwrote stays overwritten (initial rows fill gaps only).
      expect((await b.state()).rows.get('t/c@INIT')).toEqual({ value: 'init', version: { s: 0n, w: 0, iid: '' } });
    } finally {
      await b.close();
    }
  }, 60_000);
});
