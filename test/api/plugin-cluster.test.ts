/**
 * Methodology: a plugin system under the real runtime, unchanged. The chain replication plugin of
 * examples/own-system is started with `halfmoon cluster up` (one OS process per node on free
 * loopback ports; every node process loads the plugin the config lists), its driver runs the
 * workload to the end, and `cluster check` must find the merged real history linearizable with
 * every operation answered. `cluster down` must stop every process it started.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, tempDir, until } from '../runtime/helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/halfmoon.mjs');
const dir = tempDir('hm-plugin-cluster-');
const config = join(dir, 'cluster.yaml');

function hm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

afterAll(() => {
  hm('cluster', 'down', '--config', config);
  rmSync(dir, { recursive: true, force: true });
});

describe('a plugin system under cluster up', () => {
  it('runs chain replication for real and its history is linearizable', async () => {
    const port = await freePort();
    writeFileSync(
      config,
      [
        'system: chain',
        `plugins: [${JSON.stringify(join(ROOT, 'examples/own-system/chain.ts'))}]`,
        'params: { clients: 2, opsPerClient: 8, retransmitUs: 200000 }',
        `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
        'host: 127.0.0.1',
        `basePort: ${port}`,
        '',
      ].join('\n'),
    );
    const up = hm('cluster', 'up', '--config', config);
    expect(up.code, up.err).toBe(0);
    expect(JSON.parse(up.out).started).toEqual(['n0', 'n1', 'n2', 'cl0', 'cl1', 'driver']);
    await until(() => (JSON.parse(hm('cluster', 'status', '--json', '--config', config).out) as { workloadDone: boolean }).workloadDone, 'the chain workload to finish', 60_000, 500);
    const check = hm('cluster', 'check', '--config', config);
    expect(check.code, check.out + check.err).toBe(0);
    const j = JSON.parse(check.out) as { operations: number; answered: number; violations: unknown[] };
    expect(j.operations).toBe(16);
    expect(j.answered).toBe(16);
    expect(j.violations).toEqual([]);
    // Every node process loaded the plugin from the plan `cluster up` wrote.
    const plan = JSON.parse(readFileSync(join(dir, 'state', 'cluster.json'), 'utf8')) as { plugins: string[] };
    expect(plan.plugins).toEqual([join(ROOT, 'examples/own-system/chain.ts')]);
    const down = hm('cluster', 'down', '--config', config);
    expect(down.code).toBe(0);
    expect(JSON.parse(down.out).stopped).toHaveLength(6);
  }, 180_000);
});
