/**
 * Methodology: the disk lies or fails. Through a fault-injecting file layer (FaultyIo in
 * store.ts) under the durable store: (1) a failing fdatasync (EIO) rejects every waiting sync and
 * poisons the store, (2) a full disk (ENOSPC after a partial write) does the same and leaves a
 * torn tail, which the next open detects and cuts, keeping every record before it, (3) a record
 * whose bytes were corrupted on disk fails its CRC-32 at open: recovery keeps the records before
 * it and cuts the rest. Then in a running register cluster, a replica whose fdatasync starts
 * failing halts with the disk error instead of acknowledging the put it could not make durable
 * (it sends nothing after the failing sync: its acknowledgement sits behind the sync barrier),
 * while the other replicas' quorum keeps the register serving and linearizable.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClient } from '../../src/runtime/real/client.ts';
import { LocalCluster } from '../../src/runtime/real/local.ts';
import { encodeRecord, FaultyIo, WAL_FILE, WalStore } from '../../src/runtime/real/store.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { tempDir, until } from './helpers.ts';

const root = tempDir('hm-disk-faults-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `s${++n}`);

describe('the store over a failing file layer', () => {
  it('a failing fdatasync rejects the sync and every later append', async () => {
    const io = new FaultyIo();
    const s = await WalStore.open(fresh(), { io });
    s.append('a', 1);
    await s.sync();
    io.failSyncs = true;
    s.append('b', 2);
    await expect(s.sync()).rejects.toThrow(/EIO/);
    expect(s.error?.message).toMatch(/EIO/);
    expect(() => s.append('c', 3)).toThrow(/EIO/);
    expect(s.syncedSeq).toBe(1);
    await s.close();
  });

  it('a full disk rejects the sync; the torn tail it leaves is cut at the next open', async () => {
    const dir = fresh();
    const io = new FaultyIo();
    const s = await WalStore.open(dir, { io });
    s.append('a', 'first');
    s.append('b', 'second');
    await s.sync();
    io.diskBytesLeft = 7; // the next record gets 7 of its bytes written, then ENOSPC
    s.append('c', 'x'.repeat(100));
    await expect(s.sync()).rejects.toThrow(/ENOSPC/);
    await s.close();
    const r = await WalStore.open(dir);
    expect(r.recovery.records).toBe(2);
    expect(r.recovery.tornBytes).toBe(7);
    expect([...r.image]).toEqual([
      ['a', 'first'],
      ['b', 'second'],
    ]);
    r.append('d', 'after');
    await r.close();
    const again = await WalStore.open(dir);
    expect([...again.image.keys()]).toEqual(['a', 'b', 'd']);
    await again.close();
  });

  it('a corrupted last record fails its checksum: recovery keeps the last good record and cuts the rest', async () => {
    const dir = fresh();
    const s = await WalStore.open(dir);
    for (const [k, v] of [['a', 1], ['b', 2], ['c', 3]] as const) s.append(k, v);
    await s.close();
    const file = join(dir, WAL_FILE);
    const buf = readFileSync(file);
    const last = encodeRecord('c', 3).length;
    buf[buf.length - 2]! ^= 0x40; // a bit flipped inside the last record's payload
    writeFileSync(file, buf);
    const r = await WalStore.open(dir);
    expect(r.recovery).toEqual({ records: 2, tornBytes: last });
    expect([...r.image]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(statSync(file).size).toBe(buf.length - last);
    await r.close();
  });
});

describe('a replica whose fdatasync fails', () => {
  it('halts with the disk error instead of acknowledging, and the register keeps serving', async () => {
    const s = parseScenario({ name: 'disk', description: 'x', system: 'register', params: { opsPerClient: 0 } }, 'test');
    const instance = buildInstance(s);
    const io = new FaultyIo();
    const c = await LocalCluster.start({ instance, cluster: 'register', dataRoot: join(root, 'cluster'), storeOptions: (id) => (id === 'r0' ? { io } : undefined) });
    const client = new RealClient({ cluster: 'register', id: 'tester', addressOf: (id) => c.hosts.get(id)?.address ?? null, history: c.memory, nodes: instance.nodes });
    try {
      expect(await client.call('c0', { op: 'write', value: 'v1' })).toEqual({ ok: true, value: 'v1' });
      const r0 = c.hosts.get('r0')!;
      let sentAtFault = -1;
      io.onFault = () => (sentAtFault = r0.status().counters.msgsOut!);
      io.failSyncs = true;
      expect(await client.call('c0', { op: 'write', value: 'v2' })).toEqual({ ok: true, value: 'v2' });
      await until(() => r0.status().phase === 'halted', 'r0 to halt on its disk error');
      expect(r0.status().fatal).toMatch(/^r0: disk error: EIO/);
      expect(io.counters.failedSyncs).toBeGreaterThan(0);
      expect(r0.status().counters.msgsOut).toBe(sentAtFault);
      expect(await client.call('c1', { op: 'read' })).toEqual({ ok: true, value: 'v2' });
      // The halt itself is reported (a node reached a fatal state); linearizability holds.
      const v = c.judge().violations;
      expect(v.map((x) => x.invariant)).toEqual(['fatal']);
      expect(v[0]!.message).toMatch(/r0 reached a fatal state: r0: disk error: EIO/);
    } finally {
      client.close();
      await c.stop();
    }
  }, 60_000);
});
