/**
 * Methodology: hostile input on every listener of a Halfmoon-on-Boki cluster: the coordination
 * service (here the coordination machine in its own host; with ZooKeeper there is no bridge
 * listener), the controller, a sequencer, a storage node, a function node (a Boki engine with the
 * workflow runtime) and the store. While the workload runs, each node gets the same battery of
 * raw TCP connections: an oversized length header, a frame just over the limit, an empty frame,
 * bytes that are not UTF-8 or not JSON, a first frame that is not a hello, hellos for another
 * cluster or from an unknown node, and well-framed messages whose body has the wrong shape for
 * that node (a wrong field type, an unknown message type, a client frame on a peer connection,
 * a malformed request). Each must close that connection (observed as its 'close' event, polled
 * with a deadline) and be counted, while every node keeps running and serving: the workload
 * completes with every request answered and every checker of the system passing (exactly-once,
 * log accounting, the log's history checks and its final audit: nothing acknowledged was lost).
 */
import * as net from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../src/runtime/real/local.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { tempDir, until } from './helpers.ts';

const root = tempDir('hm-hostile-boki-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const LIMIT = 256 * 1024;

function frame(payload: string | Buffer): Buffer {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}

const json = (o: unknown) => frame(JSON.stringify(o));
const hello = (to: string, o: Record<string, unknown> = {}) => json({ t: 'hello', v: 1, cluster: 'halfmoon', kind: 'peer', from: 'sto1', to, ...o });
const peer = (to: string, from: string, msg: unknown) => Buffer.concat([hello(to, { from }), json({ t: 'msg', msg })]);

/** The battery every node gets (framing and handshake), then each node's wrong-shaped bodies. */
function battery(node: string): [string, Buffer][] {
  return [
    ['oversized length header (2 GiB announced)', Buffer.from([0x80, 0, 0, 0, 1, 2, 3])],
    ['frame just over the limit', frame(Buffer.alloc(LIMIT + 1, 0x20))],
    ['empty frame', Buffer.alloc(4)],
    ['invalid UTF-8', frame(Buffer.from([0xc3, 0x28, 0x7b]))],
    ['not JSON', frame('{"t": "hello", ')],
    ['first frame is not a hello', json({ t: 'msg', msg: { type: 'metaProg', ls: 0, pos: 1 } })],
    ['hello for another cluster', hello(node, { cluster: 'boki' })],
    ['hello from an unknown node', hello(node, { from: 'mallory' })],
    ['peer message of an unknown type', peer(node, 'sto1', { type: 'dropTables' })],
    ['client frame on a peer connection', Buffer.concat([hello(node), json({ t: 'req', reqId: 'x', body: {} })])],
  ];
}

const SHAPES: Record<string, [string, Buffer][]> = {
  zk: [
    ['create with a numeric path', peer('zk', 'eng0', { type: 'zk.create', session: 1, xid: 1, path: 7, data: null, mode: 'persistent' })],
    ['connect without a timeout', peer('zk', 'eng0', { type: 'zk.connect', xid: 1 })],
  ],
  ctrl: [['zk reply with a negative counter', peer('ctrl', 'zk', { type: 'zk.reply', session: 1, xid: 1, n: -1, zxid: 0, err: 'ok' })]],
  seq0: [
    ['shard progress that is not an array', peer('seq0', 'sto0', { type: 'shardProg', ls: 0, progress: 'all' })],
    ['metalog entries of an unknown kind', peer('seq0', 'seq1', { type: 'metaLogs', ls: 0, committed: true, entries: [{ kind: 'evil', ls: 0, k: 0 }] })],
  ],
  sto0: [
    ['replicate with a string tag', peer('sto0', 'eng0', { type: 'replicate', ls: 0, engine: 0, counter: 0, incarnation: 0, book: 0, tags: ['x'], data: '', kind: 'normal', condTag: { $b: '0' }, condPos: 0, attemptId: 'a' })],
    ['readAt with a fractional position', peer('sto0', 'eng0', { type: 'readAt', qid: 1, ls: 0, pos: 1.5 })],
  ],
  eng0: [
    ['store reply without its operation', peer('eng0', 'store', { type: 'wf.store.rep', id: 'x', rep: { found: true } })],
    ['index query with a negative seqnum', peer('eng0', 'eng1', { type: 'indexQuery', qid: 1, origin: 'eng1', op: 'next', blocking: false, ls: 0, book: 0, tag: { $b: '-1' } })],
    ['workflow request without a request id', Buffer.concat([hello('eng0', { kind: 'client', from: 'mallory' }), json({ t: 'req', reqId: 'q', body: { fn: 'prog', input: {}, mode: 'HMW' } })])],
    ['workflow request in an unknown mode', Buffer.concat([hello('eng0', { kind: 'client', from: 'mallory' }), json({ t: 'req', reqId: 'q', body: { requestId: 'z', fn: 'prog', input: {}, mode: 'YOLO' } })])],
  ],
  store: [
    ['store request with an unknown operation', peer('store', 'eng0', { type: 'wf.store.req', id: 'x', req: { op: 'truncate', row: 'r' }, writeId: null })],
    ['conditional update whose version lacks a counter', peer('store', 'eng0', { type: 'wf.store.req', id: 'x', req: { op: 'condUpdate', row: 'r', value: 1, version: { s: { $b: '1' }, iid: '' } }, writeId: null })],
  ],
};

/** Sends `bytes` on a fresh connection and resolves once the node has closed it. */
async function attack(addr: { host: string; port: number }, what: string, bytes: Buffer): Promise<void> {
  const sock = net.connect({ host: addr.host, port: addr.port });
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  sock.write(bytes);
  await until(() => closed, `the connection that sent: ${what}`, 10_000);
}

describe('every listener of a Halfmoon-on-Boki cluster under malformed and oversized frames', () => {
  it('closes only the offending connections while the workload completes with every checker passing', async () => {
    const s = parseScenario(
      {
        name: 'hostile-boki',
        description: 'x',
        system: 'halfmoon',
        params: { log: 'boki', protocol: 'hm-write', workload: 'program', keys: 16, opsPerRequest: 4, engines: 3, requests: 60, concurrency: 4, storeGetUs: 0, storePutUs: 0, logParams: { bootWaitMs: 2000 } },
      },
      'test',
    );
    const c = await LocalCluster.start({ instance: buildInstance(s), cluster: 'halfmoon', dataRoot: root, limits: { maxFrameBytes: LIMIT, queueBytesMax: 4 << 20 } });
    try {
      const counts = new Map<string, number>();
      for (const node of Object.keys(SHAPES)) {
        const addr = c.hosts.get(node)!.address!;
        const cases = [...battery(node), ...SHAPES[node]!];
        for (const [what, bytes] of cases) await attack(addr, `${node}: ${what}`, bytes);
        counts.set(node, cases.length);
      }
      await c.whenDone(90_000);
      for (const [node, n] of counts) {
        const st = c.hosts.get(node)!.status();
        expect(st.phase, node).toBe('running');
        expect(st.counters.badFrames, node).toBe(n);
      }
      const r = c.judge();
      expect(r.violations).toEqual([]);
      expect(r.replies).toHaveLength(60);
      expect(r.replies.every((x) => x.reply !== undefined && (x.reply as { ok: boolean }).ok)).toBe(true);
    } finally {
      await c.stop();
    }
  }, 150_000);
});
