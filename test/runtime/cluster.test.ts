/**
 * Methodology: `halfmoon cluster` end to end, with one OS process per node. A register cluster is
 * started from a config file on free loopback ports; the driver runs a fixed script and the merged
 * histories must give the same replies as the simulator and pass the register's checkers. Then
 * faults with real processes and real sockets: replica r2 sits behind our fault proxy and replica
 * r1 is killed with SIGKILL, which leaves no majority; an operation issued then must stay pending
 * while the client keeps retransmitting (observed through its status counters, not a sleep), and
 * must complete once the proxy heals; r1 restarted on its store must report booting as a restart.
 * Finally `down` must leave no node process behind. Config errors must name the field.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/assert.ts';
import { RealClient } from '../../src/runtime/real/client.ts';
import { planCluster, type ClusterPlan } from '../../src/runtime/real/cluster-config.ts';
import { clusterCheck, clusterDown, clusterStatus, clusterUp, isOurs, killNode, restartNode, workloadDone } from '../../src/runtime/real/cluster.ts';
import { FaultProxy } from '../../src/runtime/real/proxy.ts';
import type { ScriptOp } from '../../src/register/driver.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { Simulator } from '../../sim/simulator.ts';
import { clientResults } from '../../src/runtime/real/local.ts';
import { freePort, tempDir, until } from './helpers.ts';

const root = tempDir('hm-cluster-');
const plans: ClusterPlan[] = [];
afterAll(async () => {
  for (const p of plans) await clusterDown(p, 2000).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

function errorOf(raw: unknown): string {
  try {
    planCluster(raw, 'c.yaml', root);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('cluster config', () => {
  it('names the field of every error', () => {
    expect(errorOf({ system: 'register', basePort: 70000 })).toMatch(/^c\.yaml: basePort: /);
    expect(errorOf({ system: 'register', nodes: { r0: { address: 'localhost' } } })).toMatch(/^c\.yaml: nodes\.r0\.address: expected host:port/);
    expect(errorOf({ system: 'register', nodes: { r9: { address: '127.0.0.1:9000' } } })).toMatch(/^c\.yaml: nodes\.r9: no such node/);
    expect(errorOf({ system: 'register', nodes: { driver: { address: '127.0.0.1:9000' } } })).toMatch(/nodes\.driver: a workload driver does not listen/);
    expect(errorOf({ system: 'register', nodes: { r1: { address: '127.0.0.1:7400' } } })).toMatch(/nodes\.r1: listens on 127\.0\.0\.1:7400, as r0 does/);
    expect(errorOf({ system: 'register', params: { replicaz: 3 } })).toMatch(/params\.replicaz: unknown parameter/);
    expect(errorOf({ system: 'register', params: { clients: 0 } })).toMatch(/^c\.yaml: params\.clients: must be an integer/);
    expect(errorOf({ system: 'nope' })).toMatch(/system: unknown system 'nope'/);
    expect(errorOf({ system: 'register', colour: 'blue' })).toMatch(/^c\.yaml: \(top level\): /);
    expect(errorOf({ system: 'register', zookeeper: { mode: 'external', connect: 'nohost' } })).toMatch(/zookeeper\.connect: expected host:port/);
  });

  it('gives loopback ports from basePort in node order, and honours address and listen', () => {
    // Off loopback a node needs the cluster secret (test/runtime/secret.test.ts).
    writeFileSync(join(root, 'cluster-secret'), 'sixteen bytes or more of secret\n');
    const p = planCluster({ system: 'register', basePort: 9100, secretFile: 'cluster-secret', nodes: { r2: { address: '10.1.2.3:9000', listen: '0.0.0.0:9000' } } }, 'c.yaml', root);
    expect(p.addresses.get('r0')).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(p.addresses.get('c2')).toEqual({ host: '127.0.0.1', port: 9105 });
    expect(p.addresses.get('r2')).toEqual({ host: '10.1.2.3', port: 9000 });
    expect(p.listens.get('r2')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(p.addresses.has('driver')).toBe(false);
    expect(p.stateDir).toBe(join(root, '.halfmoon/cluster'));
  });
});

function script(n: number): ScriptOp[] {
  return Array.from({ length: n }, (_, i) => (i % 3 === 1 ? { client: i % 3, op: 'write', value: `x${i}` } : { client: (i * 5) % 3, op: 'read' }) as ScriptOp);
}

describe('cluster up/down with one process per node', () => {
  it('runs the register script like the simulator, survives kill -9 and a proxy cut, and stops cleanly', async () => {
    const ports = await Promise.all(Array.from({ length: 7 }, freePort));
    const proxyTarget = ports[6]!;
    const proxy = new FaultProxy({ host: '127.0.0.1', port: proxyTarget });
    const proxied = await proxy.start();
    const nodes: Record<string, { address: string; listen?: string }> = {};
    ['r0', 'r1', 'r2', 'c0', 'c1', 'c2'].forEach((id, i) => (nodes[id] = { address: `127.0.0.1:${ports[i]}` }));
    // r2 is dialled through the proxy and listens behind it.
    nodes.r2 = { address: `127.0.0.1:${proxied.port}`, listen: `127.0.0.1:${proxyTarget}` };
    const params = { script: script(24), retransmitUs: 5000 };
    const dir = join(root, 'c1');
    const cfgFile = join(root, 'c1.json');
    writeFileSync(cfgFile, JSON.stringify({ system: 'register', params, stateDir: dir, nodes }));
    const plan = planCluster(JSON.parse(readFileSync(cfgFile, 'utf8')), cfgFile, root);
    plans.push(plan);

    const up = await clusterUp(plan);
    expect(up.started).toEqual(['r0', 'r1', 'r2', 'c0', 'c1', 'c2', 'driver']);
    await until(() => workloadDone(plan), 'the scripted workload', 60_000, 50);
    const again = await clusterUp(plan);
    expect(again.started).toEqual([]);

    const s = parseScenario({ name: 'sim', description: 'x', system: 'register', params }, 'test');
    const sim = new Simulator({ scenario: s, instance: buildInstance(s), seed: 3 });
    expect(sim.run().outcome).toBe('done');
    const real = clusterCheck(plan);
    expect(real.violations).toEqual([]);
    const strip = (r: ReturnType<typeof clientResults>) => r.map((x) => [x.reqId, x.node, x.request, x.reply]);
    expect(strip(real.replies)).toEqual(strip(clientResults(sim.history)));

    // Faults: cut r2 at the proxy and kill r1: no majority is left.
    const client = new RealClient({ cluster: 'register', id: 'tester', addressOf: (id) => plan.addresses.get(id) ?? null });
    try {
      proxy.setMode({ kind: 'reset' });
      await killNode(plan, 'r1');
      const before = (await client.status('c0')).counters.msgsOut!;
      let answered = false;
      const op = client.call('c0', { op: 'write', value: 'during-cut' }, 60_000).then((r) => {
        answered = true;
        return r;
      });
      // Ten retransmission rounds go out without an answer: the operation is blocked, not lost.
      await until(async () => (await client.status('c0')).counters.msgsOut! > before + 30, 'c0 to retransmit', 30_000, 20);
      expect(answered).toBe(false);
      expect(proxy.counters.refused).toBeGreaterThan(0);
      proxy.setMode({ kind: 'pass' });
      expect(await op).toEqual({ ok: true, value: 'during-cut' });

      const st = await restartNode(plan, 'r1');
      expect(st.booted).toBe('restart');
      expect(await client.call('c1', { op: 'read' }, 30_000)).toEqual({ ok: true, value: 'during-cut' });
      const status = await clusterStatus(plan);
      expect(status.every((n) => n.alive)).toBe(true);
    } finally {
      client.close();
    }
    const pids = (await clusterStatus(plan)).map((n) => [n.id, n.pid!] as const);
    expect(await clusterDown(plan)).toHaveLength(7);
    for (const [id, pid] of pids) expect(isOurs(plan, id, pid)).toBe(false);
    expect(existsSync(join(dir, 'nodes', 'r0', 'pid'))).toBe(false);
    await proxy.stop();
  }, 180_000);
});
