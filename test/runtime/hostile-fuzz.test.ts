/**
 * Methodology: frames fuzzed against every listener of a Halfmoon-on-Boki cluster (the
 * coordination service, the controller, both sequencers, a storage node, a function node and
 * the store), with fast-check (replayable: FUZZ_SEED, FUZZ_RUNS, 1,000 cases by default) while
 * the workload runs. Each case opens one raw TCP connection to a node and sends one of: random
 * bytes; a frame cut short (a length header announcing more than follows); a length header over
 * the limit; random JSON in a frame (a hello of the wrong shape); a valid hello followed by
 * random JSON, or by a message of a real message type with random fields (valid JSON of the
 * wrong shape). Then it half-closes. The node must close that connection (observed as 'close',
 * polled with a deadline) and nothing else: every node stays running and answers a fresh status
 * request, and the workload completes with every request answered and every checker passing
 * (exactly-once, log accounting, the log's audit: nothing acknowledged was lost).
 * The log's liveness bound is 60 s here, not 5: the fuzzer shares one event loop with the seven
 * nodes (on a loaded machine a request may wait seconds for CPU); a hang still fails whenDone.
 * Slowloris: connections that never speak and connections that dribble a hello one byte at a
 * time are all closed at the handshake timeout while the cluster keeps serving.
 */
import fc from 'fast-check';
import * as net from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClient } from '../../src/runtime/real/client.ts';
import { LocalCluster } from '../../src/runtime/real/local.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { tempDir, until } from './helpers.ts';

const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const root = tempDir('hm-hostile-fuzz-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const LIMIT = 64 * 1024;
const NODES = ['zk', 'ctrl', 'seq0', 'seq1', 'sto0', 'eng0', 'store'];
const TYPES = ['replicate', 'shardProg', 'metaLogs', 'metaProg', 'catchupReq', 'indexData', 'indexQuery', 'readAt', 'readAtResult', 'trimReq', 'zk.create', 'zk.connect', 'zk.reply', 'wf.store.req', 'wf.store.rep', 'heartbeat'];

function frame(payload: string | Uint8Array): Buffer {
  const b = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}
const hello = (to: string, from: string, kind = 'peer') => frame(JSON.stringify({ t: 'hello', v: 1, cluster: 'halfmoon', kind, from, to }));

type Case = (to: string) => Buffer;
const json = fc.jsonValue({ maxDepth: 4 });
const cases: fc.Arbitrary<[string, Case]> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ['random bytes', () => Buffer.from(b)] as [string, Case]),
  fc.tuple(fc.integer({ min: 1, max: 200 }), fc.uint8Array({ maxLength: 100 })).map(([more, b]) => ['truncated frame', () => frame(b).subarray(0, 4 + Math.max(0, b.length - more))] as [string, Case]),
  fc.integer({ min: LIMIT + 1, max: 0xffffffff }).map((n) => ['oversized frame', () => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255, 1, 2, 3])] as [string, Case]),
  json.map((v) => ['random JSON as the hello', () => frame(JSON.stringify(v))] as [string, Case]),
  fc.tuple(fc.constantFrom('sto1', 'eng1', 'seq1', 'ctrl', 'zk'), json).map(([from, v]) => ['random JSON after a hello', (to: string) => Buffer.concat([hello(to, from), frame(JSON.stringify(v))])] as [string, Case]),
  fc
    .tuple(fc.constantFrom('sto1', 'eng1', 'seq0', 'ctrl'), fc.constantFrom(...TYPES), fc.dictionary(fc.constantFrom('ls', 'pos', 'qid', 'id', 'tag', 'book', 'entries', 'progress', 'req', 'rep', 'session', 'xid', 'path'), json, { maxKeys: 6 }))
    .map(([from, type, body]) => ['a message of a real type with random fields', (to: string) => Buffer.concat([hello(to, from === to ? 'sto1' : from), frame(JSON.stringify({ t: 'msg', msg: { ...body, type } }))])] as [string, Case]),
  fc.tuple(json, json).map(([a, b]) => ['client frames of the wrong shape', (to: string) => Buffer.concat([hello(to, 'mallory', 'client'), frame(JSON.stringify({ t: 'req', reqId: 'q', body: a })), frame(JSON.stringify(b))])] as [string, Case]),
);

async function connect(addr: { host: string; port: number }): Promise<{ sock: net.Socket; closed: () => boolean }> {
  const sock = net.connect({ host: addr.host, port: addr.port });
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  return { sock, closed: () => closed };
}

describe('every listener of a Halfmoon-on-Boki cluster under fuzzed frames and slowloris connections', () => {
  it(`${FUZZ_RUNS} fuzzed connections and slowloris: only those connections close, the workload completes with every checker passing`, async () => {
    const s = parseScenario(
      {
        name: 'hostile-fuzz',
        description: 'x',
        system: 'halfmoon',
        params: { log: 'boki', protocol: 'hm-write', workload: 'program', keys: 16, opsPerRequest: 4, engines: 3, requests: 60, concurrency: 4, storeGetUs: 0, storePutUs: 0, logParams: { bootWaitMs: 2000, livenessBoundMs: 60_000 } },
      },
      'test',
    );
    const instance = buildInstance(s);
    const c = await LocalCluster.start({ instance, cluster: 'halfmoon', dataRoot: root, limits: { maxFrameBytes: LIMIT, queueBytesMax: 4 << 20 }, handshakeTimeoutMs: 1500 });
    const tool = new RealClient({ cluster: 'halfmoon', id: 'fuzz-tool', addressOf: (id) => c.hosts.get(id)?.address ?? null });
    try {
      // Slowloris first: silent connections and hellos dribbled a byte at a time, on every node.
      const lorises: { closed: () => boolean; sock: net.Socket; timer?: NodeJS.Timeout }[] = [];
      for (const node of NODES) {
        const addr = c.hosts.get(node)!.address!;
        for (let i = 0; i < 5; i++) lorises.push(await connect(addr));
        const dribble = await connect(addr);
        const bytes = hello(node, 'sto1');
        let at = 0;
        const timer = setInterval(() => {
          if (at < bytes.length && !dribble.closed()) dribble.sock.write(bytes.subarray(at, ++at));
        }, 100);
        lorises.push({ ...dribble, timer });
      }
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...NODES), cases, async (node, [what, make]) => {
          n++;
          const { sock, closed } = await connect(c.hosts.get(node)!.address!);
          sock.end(make(node));
          await until(closed, `${node} to close the connection that sent ${what}`, 10_000);
        }),
        { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
      );
      expect(n).toBe(FUZZ_RUNS);
      await until(() => lorises.every((l) => l.closed()), 'every slowloris connection to be closed at the handshake timeout', 10_000);
      for (const l of lorises) clearInterval(l.timer);
      await c.whenDone(120_000);
      for (const node of NODES) {
        expect(c.hosts.get(node)!.status().phase, node).toBe('running');
        expect((await tool.status(node)).phase, node).toBe('running');
        expect(c.hosts.get(node)!.status().counters.badFrames, node).toBeGreaterThan(0);
      }
      const r = c.judge();
      expect(r.violations).toEqual([]);
      expect(r.replies).toHaveLength(60);
      expect(r.replies.every((x) => x.reply !== undefined && (x.reply as { ok: boolean }).ok)).toBe(true);
    } finally {
      tool.close();
      await c.stop();
    }
  }, 300_000);
});
