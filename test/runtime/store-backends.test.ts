/**
 * Methodology: both backends of the external store in a running system. First the project's own
 * store process: a Halfmoon cluster (in-process hosts, real sockets and disks) runs a workload with
 * a durable store; the store is then crashed (its unwritten bytes dropped) and restarted on its
 * disk, and the rows it recovers must equal the rows it held, every row the workload wrote
 * included. Then PostgreSQL in place of the store machine: a real cluster (one process per node,
 * ZooKeeper, a private PostgreSQL server) with `store.backend: postgres` serves `cluster run`, and
 * the run's checkers, which read the final rows from PostgreSQL and the store's records from its
 * process, must pass. The second part is skipped with the reason printed without ZooKeeper or
 * PostgreSQL, except under CI.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringifyWire } from '../../src/core/json.ts';
import type { StoreState } from '../../src/halfmoon/store.ts';
import { planCluster } from '../../src/runtime/real/cluster-config.ts';
import { clusterDown, clusterUp } from '../../src/runtime/real/cluster.ts';
import { LocalCluster } from '../../src/runtime/real/local.ts';
import { pgUnavailable, startLocalPostgres } from '../../src/runtime/real/pg/server.ts';
import { clusterRun } from '../../src/runtime/real/run.ts';
import { zkUnavailable } from '../../src/runtime/real/zk/server.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { freePort, tempDir, until } from './helpers.ts';

const root = tempDir('hm-store-backends-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the durable store process', () => {
  it('recovers every row it held after a crash', async () => {
    const s = parseScenario(
      { name: 'store-durable', description: 'x', system: 'halfmoon', params: { protocol: 'hm-write', workload: 'program', keys: 16, opsPerRequest: 4, engines: 2, requests: 30, concurrency: 4, storeGetUs: 0, storePutUs: 0, storeDurable: true } },
      'test',
    );
    const c = await LocalCluster.start({ instance: buildInstance(s), cluster: 'halfmoon', dataRoot: join(root, 'local') });
    try {
      await c.whenDone(60_000);
      expect(c.judge().violations).toEqual([]);
      const before = (c.state('store') as StoreState).rows;
      const written = [...before.values()].filter((r) => r.version.s > 0n || r.version.w > 0).length;
      expect(written).toBeGreaterThan(0);
      await c.crash('store');
      await c.restart('store');
      await until(() => c.isUp('store'), 'the store to run again');
      const after = (c.state('store') as StoreState).rows;
      expect(stringifyWire([...after])).toBe(stringifyWire([...before]));
    } finally {
      await c.stop();
    }
  }, 90_000);
});

const missing = zkUnavailable() ?? pgUnavailable();
if (missing && process.env.CI) throw new Error(`CI must provide ZooKeeper and PostgreSQL: ${missing}`);
if (missing) console.warn(`skipping the PostgreSQL cluster test: ${missing}`);

describe.skipIf(missing !== null)('a real cluster with its store on PostgreSQL', () => {
  it('serves a workload whose checkers read the rows from PostgreSQL', async () => {
    // Its own temporary directory: as root, the server runs as `postgres`, which cannot enter ours.
    const pgDir = tempDir('hm-store-pg-');
    const pg = await startLocalPostgres({ dir: pgDir, port: await freePort() });
    const ids = ['ctrl', 'seq0', 'seq1', 'seq2', 'seq3', 'seq4', 'sto0', 'sto1', 'sto2', 'eng0', 'eng1', 'eng2', 'store'];
    const ports = await Promise.all(Array.from({ length: ids.length + 1 }, freePort));
    const file = join(root, 'pg-cluster.json');
    writeFileSync(
      file,
      JSON.stringify({
        scenario: 'wf-real-failover',
        params: { storeGetUs: 0, storePutUs: 0, logParams: { bootWaitMs: 3000 } },
        stateDir: join(root, 'pg-cluster'),
        nodes: Object.fromEntries(ids.map((id, i) => [id, { address: `127.0.0.1:${ports[i]}` }])),
        zookeeper: { mode: 'local', clientPort: ports[ids.length], tickTimeMs: 200 },
        store: { backend: 'postgres', connect: pg.connect, table: 'hm_rows' },
        driversOnUp: false,
        startTimeoutMs: 60_000,
      }),
    );
    const plan = planCluster(JSON.parse(readFileSync(file, 'utf8')), file, root);
    try {
      await clusterUp(plan);
      const r = await clusterRun({ plan, scenario: 'wf-real-failover', sets: [['protocol', 'hm-read'], ['durationUs', 2_000_000], ['faults.scripted', []]] });
      expect(r.violations).toEqual([]);
      expect(r.json.exactlyOnce).toBe(true);
      expect(r.json.requests as number).toBeGreaterThan(0);
      const store = r.history.filter((e) => e.kind === 'record' && e.node === 'store');
      expect(store.length).toBeGreaterThan(0);
    } finally {
      await clusterDown(plan).catch(() => undefined);
      await pg.stop();
      rmSync(pgDir, { recursive: true, force: true });
    }
  }, 180_000);
});
