/**
 * Methodology: no strangers in the cluster. A register cluster on loopback is forced to require
 * its secret (auth.require). Its own nodes and a client holding the secret work as usual; raw
 * connections are refused (closed, counted, and logged with the reason) when the hello has no
 * MAC, a MAC under another secret, or a nonce already used (a captured hello replayed). A node
 * asked to listen off loopback without a secret refuses to start before binding, and a cluster
 * file that puts a node off loopback without a secret is refused by name.
 */
import * as net from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHello } from '../../src/runtime/real/auth.ts';
import { RealClient } from '../../src/runtime/real/client.ts';
import { planCluster } from '../../src/runtime/real/cluster-config.ts';
import { MemoryHistory } from '../../src/runtime/real/history.ts';
import { MachineHost } from '../../src/runtime/real/host.ts';
import { LocalCluster } from '../../src/runtime/real/local.ts';
import { encodeEnvelope, type Hello } from '../../src/runtime/real/wire.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { tempDir, until } from './helpers.ts';

const root = tempDir('hm-secret-');
const SECRET = Buffer.from('correct horse battery staple');
const auth = { secret: SECRET, require: true };
const s = parseScenario({ name: 'secret', description: 'x', system: 'register', params: { opsPerClient: 0 } }, 'test');
const instance = buildInstance(s);
const logs: string[] = [];
let cluster: LocalCluster;
let client: RealClient;

beforeAll(async () => {
  cluster = await LocalCluster.start({ instance, cluster: 'register', dataRoot: root, auth, log: (l) => logs.push(l) });
  client = new RealClient({ cluster: 'register', id: 'tester', addressOf: (id) => cluster.hosts.get(id)?.address ?? null, history: cluster.memory, nodes: instance.nodes, auth });
});
afterAll(async () => {
  client.close();
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
});

const hello: Hello = { t: 'hello', v: 1, cluster: 'register', kind: 'peer', from: 'r1', to: 'r0' };

/** Sends `h` on a fresh connection to r0; resolves whether the node closed it within 3 s. */
async function present(h: Hello): Promise<boolean> {
  const addr = cluster.hosts.get('r0')!.address!;
  const sock = net.connect({ host: addr.host, port: addr.port });
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encodeEnvelope(h, 1 << 20));
  try {
    await until(() => closed, 'close', 3000);
    return true;
  } catch {
    sock.destroy();
    return false;
  } finally {
    await until(() => closed, 'our own close', 3000);
  }
}

describe('a cluster that requires its secret', () => {
  it('serves its own nodes and clients with the secret, and refuses strangers with a clear log line', async () => {
    expect(await client.call('c0', { op: 'write', value: 'v1' })).toEqual({ ok: true, value: 'v1' });
    expect(await client.call('c1', { op: 'read' })).toEqual({ ok: true, value: 'v1' });

    expect(await present(hello)).toBe(true);
    expect(logs.some((l) => /r0: refused a connection from 127\.0\.0\.1:\d+ claiming to be peer r1: no cluster secret presented/.test(l))).toBe(true);

    expect(await present(signHello(hello, { secret: Buffer.from('not the secret at all, sorry') }))).toBe(true);
    expect(logs.some((l) => /refused .*: wrong cluster secret/.test(l))).toBe(true);

    const captured = signHello(hello, auth);
    expect(await present(captured)).toBe(false); // accepted: the node keeps the connection
    expect(await present(captured)).toBe(true);
    expect(logs.some((l) => /refused .*: replayed hello/.test(l))).toBe(true);

    expect(cluster.hosts.get('r0')!.status().counters.refused).toBe(3);
    expect(await client.call('c2', { op: 'read' })).toEqual({ ok: true, value: 'v1' });
    expect(cluster.judge().violations).toEqual([]);
  }, 60_000);
});

describe('off loopback', () => {
  it('a node without a secret refuses to start listening', async () => {
    const spec = instance.nodes.find((n) => n.id === 'r0')!;
    const h = new MachineHost({ cluster: 'register', spec, nodes: instance.nodes, dataDir: null, listen: { host: '0.0.0.0', port: 0 }, addressOf: () => null, history: new MemoryHistory() });
    await expect(h.listen()).rejects.toThrow(/r0: listens on 0\.0\.0\.0, not loopback: a cluster secret is required/);
  });

  it('a cluster file with a node off loopback needs secretFile', () => {
    const raw = { system: 'register', nodes: { r0: { address: '10.1.2.3:7400', listen: '0.0.0.0:7400' } } };
    const saved = process.env.HALFMOON_CLUSTER_SECRET;
    delete process.env.HALFMOON_CLUSTER_SECRET;
    try {
      expect(() => planCluster(raw, 'c.yaml', root)).toThrow(/c\.yaml: nodes\.r0: listens on 0\.0\.0\.0, not loopback: a cluster secret is required/);
      writeFileSync(join(root, 'secret'), 'a secret of more than sixteen bytes\n');
      const plan = planCluster({ ...raw, secretFile: 'secret' }, 'c.yaml', root);
      expect(plan.auth.secret?.toString()).toBe('a secret of more than sixteen bytes');
      writeFileSync(join(root, 'short'), 'short');
      expect(() => planCluster({ ...raw, secretFile: 'short' }, 'c.yaml', root)).toThrow(/at least 16 bytes/);
    } finally {
      if (saved !== undefined) process.env.HALFMOON_CLUSTER_SECRET = saved;
    }
  });
});
