/**
 * Methodology: the ZooKeeper client layer against a real server. A standalone ZooKeeper (Debian's
 * `zookeeper` package, 3.8) is started on a free loopback port with its data in a temporary
 * directory; two sessions then exercise what the Boki coordination service needs: persistent and
 * sequential znodes (names in creation order, 10-digit suffixes), ephemeral znodes that vanish
 * when their session closes, one-shot data and child watches, the emulated persistent child watch,
 * every error code the coordination protocol names, and data in the wire encoding (bigints, maps).
 * Every wait polls a condition with a deadline. Without ZooKeeper installed the suite is skipped,
 * except under CI, where a missing ZooKeeper fails it (CI must install it).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { planCluster } from '../../src/runtime/real/cluster-config.ts';
import { clusterDown, clusterUp, zooKeeperConnect, zooKeeperStatus } from '../../src/runtime/real/cluster.ts';
import { type WatchEvent, ZkClient, ZkError } from '../../src/runtime/real/zk/client.ts';
import { type LocalZk, startLocalZooKeeper, zkUnavailable } from '../../src/runtime/real/zk/server.ts';
import { freePort, tempDir, until } from './helpers.ts';

const missing = zkUnavailable();
if (missing && process.env.CI) throw new Error(`CI must provide ZooKeeper: ${missing}`);

describe.skipIf(missing !== null)('ZooKeeper client layer against a real ZooKeeper', () => {
  const dir = tempDir('hm-zk-');
  let zk: LocalZk;
  let a: ZkClient;
  let b: ZkClient;

  beforeAll(async () => {
    zk = await startLocalZooKeeper({ dir, clientPort: await freePort(), tickTimeMs: 200 });
    a = await ZkClient.connect(zk.connect, { sessionTimeoutMs: 4000 });
    b = await ZkClient.connect(zk.connect, { sessionTimeoutMs: 4000 });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await zk?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('creates persistent and sequential znodes in creation order, with wire-encoded data', async () => {
    await a.mkdirp('/boki/view');
    const names: string[] = [];
    for (let i = 0; i < 3; i++) names.push(await a.create('/boki/view/new-', { view: i, seq: BigInt(i) << 40n, nodes: new Map([['e1', [1, 2]]]) }, 'persistentSequential'));
    expect(names).toEqual(['/boki/view/new-0000000000', '/boki/view/new-0000000001', '/boki/view/new-0000000002']);
    const { children } = await b.getChildren('/boki/view');
    expect(children).toEqual(['new-0000000000', 'new-0000000001', 'new-0000000002']);
    const { data, stat } = await b.getData(names[2]!);
    expect(data).toEqual({ view: 2, seq: 2n << 40n, nodes: new Map([['e1', [1, 2]]]) });
    expect(stat.version).toBe(0);
    expect(stat.ephemeralOwner).toBe(0n);
  });

  it('maps every error the coordination protocol names', async () => {
    await a.create('/boki/cmd', null, 'persistent');
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(ZkError);
        return (e as ZkError).code;
      }
    };
    expect(await code(a.create('/boki/cmd', null, 'persistent'))).toBe('nodeExists');
    expect(await code(a.getData('/boki/none'))).toBe('noNode');
    expect(await code(a.create('/boki/none/child', null, 'persistent'))).toBe('noNode');
    expect(await code(a.setData('/boki/cmd', 'x', 5))).toBe('badVersion');
    expect(await code(a.delete('/boki/view'))).toBe('notEmpty');
    await a.create('/boki/eph', null, 'ephemeral');
    expect(await code(a.create('/boki/eph/child', null, 'persistent'))).toBe('noChildrenForEphemerals');
    expect(await code(a.setData('/boki/cmd', 'start', 0))).toBe('ok');
    expect((await a.getData('/boki/cmd')).stat.version).toBe(1);
    expect(await code(a.delete('/boki/eph'))).toBe('ok');
  });

  it('fires one-shot data and child watches once', async () => {
    await a.create('/boki/w', 'v0', 'persistent');
    const dataEvents: WatchEvent[] = [];
    await b.getData('/boki/w', (ev) => dataEvents.push(ev));
    await a.setData('/boki/w', 'v1');
    await until(() => dataEvents.length === 1, 'the data watch');
    await a.setData('/boki/w', 'v2'); // not re-armed: no second event
    const childEvents: WatchEvent[] = [];
    await b.getChildren('/boki/w', (ev) => childEvents.push(ev));
    await a.create('/boki/w/c', null, 'persistent');
    await until(() => childEvents.length === 1, 'the child watch');
    expect(dataEvents).toEqual([{ type: 'NodeDataChanged', path: '/boki/w' }]);
    expect(childEvents).toEqual([{ type: 'NodeChildrenChanged', path: '/boki/w' }]);
    expect((await b.getData('/boki/w')).data).toBe('v2');
  });

  it('deletes a session’s ephemeral znodes when it closes, and the emulated persistent watch sees it', async () => {
    await a.mkdirp('/boki/node');
    const c = await ZkClient.connect(zk.connect, { sessionTimeoutMs: 4000 });
    const engine = await c.create('/boki/node/engine_', { addr: '127.0.0.1:1' }, 'ephemeralSequential');
    expect((await a.exists(engine))!.ephemeralOwner).toBe(c.session.id);
    const seen: [string[], string[]][] = [];
    const stop = a.watchChildren('/boki/node', (added, removed) => seen.push([added, removed]));
    await until(() => seen.length === 1, 'the initial listing');
    await b.create('/boki/node/storage_1', null, 'ephemeral');
    await until(() => seen.length === 2, 'the second child');
    await c.close();
    await until(() => seen.length === 3, 'the ephemeral znode to go with its session', 15_000);
    stop();
    const name = engine.slice('/boki/node/'.length);
    expect(seen).toEqual([
      [[name], []],
      [['storage_1'], []],
      [[], [name]],
    ]);
    expect(await a.exists(engine)).toBeNull();
    expect(a.session.id).not.toBe(b.session.id);
    expect(a.expired).toBe(false);
  }, 30_000);
});

describe.skipIf(missing !== null)('cluster up with a local ZooKeeper', () => {
  it('starts ZooKeeper before the nodes, serves clients, and stops it on down', async () => {
    const dir = tempDir('hm-zkc-');
    const ports = await Promise.all(Array.from({ length: 7 }, freePort));
    const nodes = Object.fromEntries(['r0', 'r1', 'r2', 'c0', 'c1', 'c2'].map((id, i) => [id, { address: `127.0.0.1:${ports[i]}` }]));
    const plan = planCluster({ system: 'register', params: { opsPerClient: 2 }, stateDir: join(dir, 'state'), nodes, zookeeper: { mode: 'local', clientPort: ports[6] } }, 'zk.yaml', dir);
    try {
      await clusterUp(plan);
      const st = await zooKeeperStatus(plan);
      expect(st).toMatchObject({ mode: 'local', connect: `127.0.0.1:${ports[6]}`, ok: true });
      expect(st!.pid).toBeGreaterThan(0);
      const c = await ZkClient.connect(zooKeeperConnect(plan)!);
      expect(await c.mkdirp('/boki/cmd')).toBe('/boki/cmd');
      await c.close();
    } finally {
      await clusterDown(plan);
    }
    expect(await zooKeeperStatus(plan)).toMatchObject({ ok: false, pid: null });
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
