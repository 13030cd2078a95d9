/**
 * The external store on PostgreSQL, as a user would run Halfmoon's store in place of DynamoDB: the
 * same operations as the store machine (src/halfmoon/store.ts, the specification), with the same
 * answers and the same history records, executed as single SQL statements.
 *
 * Table: `row text primary key, value text (wire JSON), s numeric(20,0), w bigint, iid text
 * collate "C"`. Versions compare as (s, w, iid) lexicographically, as `versionCmp` does: numeric
 * and bigint compare as numbers, and the "C" collation compares iids byte by byte, which for the
 * ASCII ids the runtime makes is JavaScript's string order.
 *
 * - get: one SELECT.
 * - put: an upsert that replaces the value and keeps the row's version (VERSION_ZERO when new).
 * - condUpdate: the Thomas write rule in one statement: an upsert whose update applies only
 *   `WHERE (old.s, old.w, old.iid) < (new.s, new.w, new.iid)`; applied iff it returns the row.
 * - scanBase: base rows with w >= 1 and s >= minS, sorted by name.
 *
 * Order. The machine applies requests one at a time in arrival order. Here requests on different
 * rows run in parallel (a connection pool); requests on one row run in arrival order (a chain per
 * row), and a scan waits for every request that arrived before it and holds back those after it,
 * so every outcome and every record is the one the machine would give for the same arrival order.
 * Records are emitted as each statement commits, so per row they follow the commit order.
 */
import pg from 'pg';
import { InputError } from '../../../core/assert.ts';
import { parseWire, stringifyWire } from '../../../core/json.ts';
import type { Json, Version } from '../../../halfmoon/records.ts';
import { VERSION_ZERO } from '../../../halfmoon/records.ts';
import type { Row, StoreConfig, StoreEvent, StoreRep, StoreReq, StoreState } from '../../../halfmoon/store.ts';

export interface PgStoreOptions {
  readonly connect: string;
  readonly table: string;
  readonly poolSize: number;
  /** The store machine's config: its initial rows are inserted where absent. */
  readonly config: StoreConfig;
}

/** Rows of initial data per INSERT statement. */
const INSERT_BATCH = 500;

export class PgStore {
  private readonly pool: pg.Pool;
  private readonly rowChains = new Map<string, Promise<unknown>>();
  private inflight = new Set<Promise<unknown>>();
  private barrier: Promise<unknown> = Promise.resolve();
  readonly counters = { gets: 0, puts: 0, condUpdates: 0, scans: 0 };

  private constructor(
    private readonly o: PgStoreOptions,
    pool: pg.Pool,
  ) {
    this.pool = pool;
  }

  static async open(o: PgStoreOptions): Promise<PgStore> {
    if (o.config.floatVersions || o.config.staleReadUs > 0) throw new InputError('store.backend: postgres implements the strongly consistent store only (not the eventual-store-reads or version-float64 variants)');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(o.table)) throw new InputError(`store.table: '${o.table}' is not a lower-case SQL identifier`);
    const pool = new pg.Pool({ connectionString: o.connect, max: o.poolSize });
    pool.on('error', () => undefined); // an idle client's error: the next query reports it
    const s = new PgStore(o, pool);
    const t = o.table;
    await pool.query(`CREATE TABLE IF NOT EXISTS ${t} (row text PRIMARY KEY, value text NOT NULL, s numeric(20,0) NOT NULL, w bigint NOT NULL, iid text COLLATE "C" NOT NULL)`);
    const init = o.config.initial;
    for (let i = 0; i < init.length; i += INSERT_BATCH) {
      const part = init.slice(i, i + INSERT_BATCH);
      const values = part.map((_, j) => `($${2 * j + 1}, $${2 * j + 2}, 0, 0, '')`).join(', ');
      await pool.query(`INSERT INTO ${t} (row, value, s, w, iid) VALUES ${values} ON CONFLICT (row) DO NOTHING`, part.flatMap(([name, v]) => [name, stringifyWire(v)]));
    }
    return s;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Applies one request in arrival order (see the header); resolves with the answer and the record. */
  apply(id: string, req: StoreReq, writeId: string | null): Promise<{ rep: StoreRep; event: StoreEvent | null }> {
    if (req.op === 'scanBase') {
      const before = [...this.inflight];
      const run = this.barrier.then(() => Promise.all(before)).then(() => this.scanBase(req.minS));
      this.barrier = run.catch(() => undefined);
      return run;
    }
    const prev = this.rowChains.get(req.row) ?? Promise.resolve();
    const run = Promise.all([prev, this.barrier]).then(() => this.applyRow(id, req, writeId));
    const settled = run.catch(() => undefined);
    this.rowChains.set(req.row, settled);
    this.inflight.add(settled);
    void settled.then(() => {
      this.inflight.delete(settled);
      if (this.rowChains.get(req.row) === settled) this.rowChains.delete(req.row);
    });
    return run;
  }

  private async applyRow(id: string, req: Exclude<StoreReq, { op: 'scanBase' }>, writeId: string | null): Promise<{ rep: StoreRep; event: StoreEvent | null }> {
    const t = this.o.table;
    switch (req.op) {
      case 'get': {
        this.counters.gets++;
        const r = await this.pool.query(`SELECT value, s::text AS s, w::text AS w, iid FROM ${t} WHERE row = $1`, [req.row]);
        const row = r.rows[0] as { value: string; s: string; w: string; iid: string } | undefined;
        const rep: StoreRep = row ? { op: 'get', found: true, value: parseWire(row.value) as Json, version: version(row) } : { op: 'get', found: false, value: null, version: VERSION_ZERO };
        return { rep, event: { ev: 'storeRead', row: req.row, found: rep.found, version: rep.version, readId: id } };
      }
      case 'put': {
        this.counters.puts++;
        const r = await this.pool.query(
          `INSERT INTO ${t} (row, value, s, w, iid) VALUES ($1, $2, 0, 0, '') ON CONFLICT (row) DO UPDATE SET value = EXCLUDED.value RETURNING s::text AS s, w::text AS w, iid`,
          [req.row, stringifyWire(req.value)],
        );
        const v = version(r.rows[0] as { s: string; w: string; iid: string });
        return { rep: { op: 'put' }, event: { ev: 'storeApply', row: req.row, value: req.value, version: v, writeId, op: 'put' } };
      }
      case 'condUpdate': {
        this.counters.condUpdates++;
        const v = req.version;
        const r = await this.pool.query(
          `INSERT INTO ${t} AS old (row, value, s, w, iid) VALUES ($1, $2, $3::numeric, $4::bigint, $5) ON CONFLICT (row) DO UPDATE SET value = EXCLUDED.value, s = EXCLUDED.s, w = EXCLUDED.w, iid = EXCLUDED.iid WHERE (old.s, old.w, old.iid) < (EXCLUDED.s, EXCLUDED.w, EXCLUDED.iid) RETURNING row`,
          [req.row, stringifyWire(req.value), v.s.toString(), String(v.w), v.iid],
        );
        const applied = (r.rowCount ?? 0) > 0;
        return { rep: { op: 'condUpdate', applied }, event: applied ? { ev: 'storeApply', row: req.row, value: req.value, version: { s: v.s, w: v.w, iid: v.iid }, writeId, op: 'condUpdate' } : null };
      }
      default: {
        const never: never = req;
        throw new Error(`unknown store request ${JSON.stringify(never)}`);
      }
    }
  }

  private async scanBase(minS: bigint): Promise<{ rep: StoreRep; event: null }> {
    this.counters.scans++;
    const r = await this.pool.query(`SELECT row FROM ${this.o.table} WHERE row LIKE '%@BASE' AND w >= 1 AND s >= $1::numeric ORDER BY row COLLATE "C"`, [minS.toString()]);
    return { rep: { op: 'scanBase', rows: r.rows.map((x: { row: string }) => x.row) }, event: null };
  }

  /** Every row, in the shape of the store machine's state (what the exactly-once checker reads). */
  async state(): Promise<StoreState> {
    const r = await this.pool.query(`SELECT row, value, s::text AS s, w::text AS w, iid FROM ${this.o.table} ORDER BY row COLLATE "C"`);
    const rows = new Map<string, Row>();
    for (const x of r.rows as { row: string; value: string; s: string; w: string; iid: string }[]) rows.set(x.row, { value: parseWire(x.value) as Json, version: version(x) });
    return { cfg: this.o.config, rows, past: new Map(), waiting: new Map(), timerSeq: 0, gets: this.counters.gets, puts: this.counters.puts, condUpdates: this.counters.condUpdates };
  }
}

function version(r: { s: string; w: string; iid: string }): Version {
  return { s: BigInt(r.s), w: Number(r.w), iid: r.iid };
}
