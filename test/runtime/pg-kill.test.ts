/**
 * Methodology: kill -9 of the PostgreSQL store, both halves. A real cluster (one process per
 * node, ZooKeeper, a private PostgreSQL server) with `store.backend: postgres` runs the workflow
 * workload under `cluster run`; a scripted fault SIGKILLs the store node process (the one that
 * speaks the store protocol over PostgreSQL) and restarts it, and later the PostgreSQL server
 * itself (its postmaster) is SIGKILLed and started again on its data directory (crash recovery
 * from its WAL). The run's checkers, which read the final rows from PostgreSQL, must pass
 * (exactly-once, log accounting and audit), the workload must complete, and the server must be a
 * new process. Skipped without ZooKeeper or PostgreSQL, except under CI.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planCluster } from '../../src/runtime/real/cluster-config.ts';
import { wallUs } from '../../src/runtime/real/clock.ts';
import { clusterDown, clusterStatus, clusterUp, logFile, recordFault } from '../../src/runtime/real/cluster.ts';
import { pgUnavailable, startLocalPostgres } from '../../src/runtime/real/pg/server.ts';
import { clusterRun } from '../../src/runtime/real/run.ts';
import { zkUnavailable } from '../../src/runtime/real/zk/server.ts';
import { freePort, tempDir, until } from './helpers.ts';

const root = tempDir('hm-pg-kill-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const missing = zkUnavailable() ?? pgUnavailable();
if (missing && process.env.CI) throw new Error(`CI must provide ZooKeeper and PostgreSQL: ${missing}`);
if (missing) console.warn(`skipping the PostgreSQL kill -9 test: ${missing}`);

/** The processes whose parent is `pid` (PostgreSQL's backends and workers). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function deadOrZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

const postmasterPid = (dir: string) => Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);

describe.skipIf(missing !== null)('kill -9 of the PostgreSQL store', () => {
  it('the store node and the PostgreSQL server, each killed and started again during the workload', async () => {
    const pgDir = tempDir('hm-pg-kill-server-');
    const pgPort = await freePort();
    let pg = await startLocalPostgres({ dir: pgDir, port: pgPort });
    const ids = ['ctrl', 'seq0', 'seq1', 'seq2', 'seq3', 'seq4', 'sto0', 'sto1', 'sto2', 'eng0', 'eng1', 'eng2', 'store'];
    const ports = await Promise.all(Array.from({ length: ids.length + 1 }, freePort));
    const base = readFileSync(join(import.meta.dirname, '../../scenarios/wf-real-failover.yaml'), 'utf8');
    const scenario = join(root, 'wf-kill-pg.yaml');
    writeFileSync(scenario, base.replace(/^name: .*$/m, 'name: wf-kill-pg').replace(/faults:\n  scripted:\n(    - .*\n)+/, 'faults:\n  scripted:\n    - { atUs: 1500000, kind: crashRestart, node: store, downUs: 500000 }\n'));
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
      const lines: string[] = [];
      const run = clusterRun({ plan, scenario, sets: [['protocol', 'hm-read']], log: (l) => lines.push(l) });
      // Once the store node is back from its kill -9, kill the whole server as the OOM killer
      // would: the postmaster and every backend, at once.
      const storePid = (await clusterStatus(plan)).find((n) => n.id === 'store')!.pid;
      await until(async () => lines.some((l) => /fault crashRestart of store/.test(l)) && (await clusterStatus(plan)).some((n) => n.id === 'store' && n.pid !== storePid && 'phase' in n.status && n.status.phase === 'running'), 'the store node to be restarted', 60_000, 100);
      await new Promise((r) => setTimeout(r, 500));
      const before = postmasterPid(pgDir);
      // The checkers judge liveness from the last fault: PostgreSQL's crash and restart are
      // faults of this run, recorded as the fault runner records its own.
      recordFault(plan, { kind: 'fault', t: wallUs(), fault: { kind: 'crash', nodes: [], detail: { target: 'postgresql', signal: 'SIGKILL' } } });
      const victims = [before, ...childrenOf(before)];
      for (const pid of victims) process.kill(pid, 'SIGKILL');
      await until(() => victims.every(deadOrZombie), 'the PostgreSQL processes to die', 10_000, 20);
      // This machine's init reaps orphans late: a dead postmaster can linger as a zombie, which
      // PostgreSQL's lock checks take for a live one. It is dead, so its lock files are stale.
      if (!victims.every((p) => !existsSync(`/proc/${p}`))) {
        rmSync(join(pgDir, 'data', 'postmaster.pid'), { force: true });
        rmSync(join(pgDir, `.s.PGSQL.${pgPort}.lock`), { force: true });
      }
      await new Promise((r) => setTimeout(r, 500));
      pg = await startLocalPostgres({ dir: pgDir, port: pgPort });
      recordFault(plan, { kind: 'fault', t: wallUs(), fault: { kind: 'restart', nodes: [], detail: { target: 'postgresql' } } });
      const after = postmasterPid(pgDir);
      const r = await run;
      if (r.violations.length > 0) console.error(lines.join('\n'));
      expect(after).not.toBe(before);
      expect(r.violations).toEqual([]);
      expect(r.json.outcome).toBe('done');
      expect(r.json.exactlyOnce).toBe(true);
      expect(r.json.faults).toMatchObject({ crash: 1, restart: 1 });
      expect(r.json.requests as number).toBeGreaterThan(5);
      expect((await clusterStatus(plan)).filter((n) => !n.driver).every((n) => n.alive)).toBe(true);
    } catch (e) {
      console.error(readFileSync(logFile(plan, 'store'), 'utf8').split('\n').slice(-20).join('\n'));
      console.error(readFileSync(join(pgDir, 'server.log'), 'utf8').split('\n').slice(-12).join('\n'));
      throw e;
    } finally {
      await clusterDown(plan).catch(() => undefined);
      await pg.stop();
      rmSync(pgDir, { recursive: true, force: true });
    }
  }, 240_000);
});
