/**
 * Methodology: bad input to the real cluster's configuration and to `cluster run` must be refused
 * with one line naming what is wrong (an InputError, exit code 2 at the CLI), before any process
 * starts: new config fields (coordination, store backend, scenario), scenarios of another system,
 * fault kinds that need the simulator's network model, clusters whose drivers run on `up`. And the
 * parameter merge: a scenario's node-shaping parameters give way to the cluster's, its workload
 * parameters stay its own.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/assert.ts';
import { planCluster } from '../../src/runtime/real/cluster-config.ts';
import { clusterRun, runScenario } from '../../src/runtime/real/run.ts';
import { resolveParams } from '../../src/scenario/instance.ts';
import { tempDir } from './helpers.ts';

const root = tempDir('hm-run-input-');

function configError(raw: unknown): string {
  try {
    planCluster(raw, 'c.yaml', root);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

async function runError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('cluster config and cluster run input', () => {
  it('names the field of every new config error', () => {
    expect(configError({})).toMatch(/^c\.yaml: system: required/);
    expect(configError({ system: 'register', store: { backend: 'postgres', connect: 'mysql://x' } })).toMatch(/^c\.yaml: store\.connect: expected postgresql:/);
    expect(configError({ system: 'register', store: { backend: 'postgres', connect: 'postgresql://u@h:1/d' } })).toMatch(/store\.backend: system 'register' has no store node/);
    expect(configError({ system: 'register', zookeeper: { mode: 'none', clientPort: 1 } })).toMatch(/^c\.yaml: zookeeper/);
    expect(configError({ scenario: 'no-such-scenario' })).toMatch(/^c\.yaml: scenario: /);
    expect(configError({ scenario: 'wf-real-failover', system: 'register' })).toMatch(/system: 'register', but scenario wf-real-failover runs 'halfmoon'/);
    expect(configError({ scenario: 'wf-real-failover', nodes: { zk: { address: '127.0.0.1:9000' } } })).toMatch(/nodes\.zk: ZooKeeper serves the coordination node/);
  });

  it('serves the coordination node from ZooKeeper by default, or as a process with mode none', () => {
    const zk = planCluster({ scenario: 'wf-real-failover' }, 'c.yaml', root);
    expect(zk.coordination).toBe('zk');
    expect(zk.processes).not.toContain('zk');
    expect(zk.config.zookeeper).toMatchObject({ mode: 'local' });
    const none = planCluster({ scenario: 'wf-real-failover', zookeeper: { mode: 'none' }, driversOnUp: false }, 'c.yaml', root);
    expect(none.coordination).toBeNull();
    expect(none.processes[0]).toBe('zk');
    expect(none.processes).not.toContain('driver');
  });

  it('refuses runs it cannot carry out, before starting anything', async () => {
    const reg = planCluster({ system: 'register', driversOnUp: false, stateDir: `${root}/reg` }, 'c.yaml', root);
    expect(await runError(clusterRun({ plan: reg, scenario: 'wf-rw' }))).toMatch(/wf-rw runs system 'halfmoon', this cluster runs 'register'/);
    expect(await runError(clusterRun({ plan: reg, scenario: 'register-clock-skew' }))).toMatch(/fault kind 'clockSkew' needs the simulator's network model/);
    expect(await runError(clusterRun({ plan: reg, scenario: 'register-partition' }))).toMatch(/random faults are the simulator's/);
    expect(await runError(clusterRun({ plan: reg, scenario: 'register-smoke', sets: [['replicas', 5]] }))).toMatch(/configures node \w+ differently from the running cluster \(it sets replicas=5; the cluster has replicas=3\)/);
    const onUp = planCluster({ system: 'register', stateDir: `${root}/onup` }, 'c.yaml', root);
    expect(await runError(clusterRun({ plan: onUp, scenario: 'register-smoke' }))).toMatch(/driversOnUp/);
  });

  it('takes node-shaping parameters from the cluster and workload parameters from the scenario', () => {
    const plan = planCluster({ scenario: 'wf-real-failover', params: { storeDurable: true, storeGetUs: 0, storePutUs: 0 }, driversOnUp: false }, 'c.yaml', root);
    const { scenario, adopted } = runScenario(plan, 'wf-rw', [['protocol', 'boki']], { requestPrefix: 'r9-' });
    const p = resolveParams(scenario);
    // wf-rw's workload, 10,000 keys and reference log would change the store's rows and the
    // engines: the cluster's win.
    expect(adopted).toEqual(expect.arrayContaining(['workload', 'keys', 'log', 'engines', 'storeDurable']));
    expect(p).toMatchObject({ workload: 'program', keys: 16, log: 'boki', engines: 3, storeDurable: true, protocol: 'boki', requestPrefix: 'r9-' });
    // What only drives the workload stays the scenario's: request count, concurrency, no time window.
    expect(adopted).not.toContain('requests');
    expect(p).toMatchObject({ requests: 200, concurrency: 16, durationUs: 0 });
  });
});
