/**
 * Methodology: hostile and broken input on a node's listener. Each case opens a raw TCP
 * connection to a running register node and sends one kind of bad input: an oversized length
 * header, an empty frame, bytes that are not UTF-8 or not JSON, a bad wire encoding, JSON nested
 * past the decoder's depth limit, a first frame that is not a hello, hellos for the wrong cluster,
 * node or version or from an unknown node, and well-framed envelopes whose body has the wrong
 * shape for the receiving machine. Each must close that connection (observed as the socket's
 * 'close' event, polled with a deadline) and be counted, while a client connection opened before
 * the attacks keeps working on the same socket, the node stays running, and the value written
 * before the attacks is read back after them, with the register's checkers passing on the run.
 */
import * as net from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClient } from '../../src/runtime/real/client.ts';
import { LocalCluster } from '../../src/runtime/real/local.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { tempDir, until } from './helpers.ts';

const root = tempDir('hm-hostile-');
let cluster: LocalCluster;
let client: RealClient;

beforeAll(async () => {
  const s = parseScenario({ name: 'hostile', description: 'x', system: 'register', params: { opsPerClient: 0 } }, 'test');
  cluster = await LocalCluster.start({ instance: buildInstance(s), cluster: 'register', dataRoot: root, limits: { maxFrameBytes: 64 * 1024, queueBytesMax: 1 << 20 } });
  client = new RealClient({ cluster: 'register', id: 'tester', addressOf: (id) => cluster.hosts.get(id)?.address ?? null, history: cluster.memory, nodes: buildInstance(s).nodes });
});
afterAll(async () => {
  client.close();
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
});

function frame(payload: string | Buffer): Buffer {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}

const hello = (o: Record<string, unknown>) => frame(JSON.stringify({ t: 'hello', v: 1, cluster: 'register', kind: 'peer', from: 'r1', to: 'r0', ...o }));

/** Sends `bytes` on a fresh connection to `node` and resolves once the node has closed it. */
async function attack(node: string, bytes: Buffer): Promise<void> {
  const addr = cluster.hosts.get(node)!.address!;
  const sock = net.connect({ host: addr.host, port: addr.port });
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(bytes);
  await until(() => closed, `node ${node} to close a connection that sent ${bytes.subarray(0, 40).toString('latin1')}…`, 5000);
}

const deep = '['.repeat(500) + ']'.repeat(500);
const CASES: [string, string, Buffer][] = [
  ['oversized length header (1 GiB announced)', 'r0', Buffer.from([0x40, 0, 0, 0, 1, 2, 3])],
  ['frame just over the configured 64 KiB limit', 'r0', frame(Buffer.alloc(64 * 1024 + 1, 0x20))],
  ['empty frame', 'r0', Buffer.alloc(4)],
  ['invalid UTF-8', 'r0', frame(Buffer.from([0xff, 0xfe, 0x7b]))],
  ['not JSON', 'r0', frame('{"t": "hello", oops')],
  ['bad bigint encoding', 'r0', hello({ from: { $b: 'zz' } })],
  ['JSON nested past the depth limit', 'r0', frame(deep)],
  ['first frame is not a hello', 'r0', frame(JSON.stringify({ t: 'msg', msg: { type: 'get', opId: 'x' } }))],
  ['hello for another cluster', 'r0', hello({ cluster: 'boki' })],
  ['hello for another node', 'r0', hello({ to: 'r2' })],
  ['hello with an unknown wire version', 'r0', hello({ v: 99 })],
  ['hello from an unknown peer', 'r0', hello({ from: 'mallory' })],
  ['peer message without a type', 'r0', Buffer.concat([hello({}), frame(JSON.stringify({ t: 'msg', msg: { opId: 'x' } }))])],
  ['put whose timestamp is a string', 'r0', Buffer.concat([hello({ from: 'c0' }), frame(JSON.stringify({ t: 'msg', msg: { type: 'put', opId: 'x', ts: 'late', value: 'v', sentAtUs: 0 } }))])],
  ['unknown message type', 'r0', Buffer.concat([hello({ from: 'c0' }), frame(JSON.stringify({ t: 'msg', msg: { type: 'drop-tables', opId: 'x' } }))])],
  ['client frame on a peer connection', 'r0', Buffer.concat([hello({ from: 'c0' }), frame(JSON.stringify({ t: 'req', reqId: 'q', body: { op: 'read' } }))])],
  ['request with an unknown op', 'c0', Buffer.concat([hello({ kind: 'client', from: 'mallory', to: 'c0' }), frame(JSON.stringify({ t: 'req', reqId: 'q1', body: { op: 'nuke' } }))])],
  ['request without a body', 'c0', Buffer.concat([hello({ kind: 'client', from: 'mallory', to: 'c0' }), frame(JSON.stringify({ t: 'req', reqId: 'q2' }))])],
  ['garbage after a valid request', 'c0', Buffer.concat([hello({ kind: 'client', from: 'mallory', to: 'c0' }), frame(JSON.stringify({ t: 'req', reqId: 'q3', body: { op: 'read' } })), frame('nope')])],
];

describe('a node under malformed and oversized frames', () => {
  it('closes only the offending connections, keeps serving, and loses no data', async () => {
    expect(await client.call('c0', { op: 'write', value: 'before' })).toEqual({ ok: true, value: 'before' });
    for (const [what, node, bytes] of CASES) {
      try {
        await attack(node, bytes);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`);
      }
    }
    const bad = (id: string) => cluster.hosts.get(id)!.status().counters.badFrames;
    expect(bad('r0')).toBe(CASES.filter((c) => c[1] === 'r0').length);
    expect(bad('c0')).toBe(CASES.filter((c) => c[1] === 'c0').length);
    for (const id of ['r0', 'c0']) expect(cluster.hosts.get(id)!.status().phase).toBe('running');
    // The connection opened before the attacks still works, and the data is intact.
    expect(await client.call('c0', { op: 'read' })).toEqual({ ok: true, value: 'before' });
    expect(await client.call('c1', { op: 'write', value: 'after' })).toEqual({ ok: true, value: 'after' });
    expect(await client.call('c2', { op: 'read' })).toEqual({ ok: true, value: 'after' });
    expect((await client.status('r0')).phase).toBe('running');
    expect(cluster.judge().violations).toEqual([]);
  }, 60_000);
});
