/**
 * Methodology: the durable store is tested at three levels.
 * 1. Format: for a log of random writes, truncating the file at *every* byte offset recovers
 *    exactly the writes of the complete records before the cut (a prefix), and a flipped byte
 *    stops recovery at the damaged record; reopening cuts the torn tail off for good.
 * 2. API: synced writes, deletes and compaction reopen to the same image; a second opener of a
 *    live store is refused.
 * 3. Crash: a real host runs in a child process, acknowledges `put`s only after their fdatasync,
 *    and is killed with SIGKILL mid-stream; the restarted host must recover every acknowledged
 *    write (and nothing that was never written), feed `restart`, and answer with that image.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClient } from '../../src/runtime/real/client.ts';
import { encodeRecord, parseLog, WAL_FILE, WalStore } from '../../src/runtime/real/store.ts';

const root = mkdtempSync(join(tmpdir(), 'hm-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirN = 0;
const freshDir = () => join(root, `s${++dirN}`);

const MAGIC = Buffer.from('HMWAL001', 'latin1');

describe('log format', () => {
  it('recovers exactly the complete records before any cut point', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.option(fc.string({ maxLength: 20 }), { nil: undefined })), { minLength: 1, maxLength: 12 }), (writes) => {
        const recs = writes.map(([k, v]) => encodeRecord(k, v));
        const file = Buffer.concat([MAGIC, ...recs]);
        const ends: number[] = [];
        let off = MAGIC.length;
        for (const r of recs) ends.push((off += r.length));
        for (let cutAt = MAGIC.length; cutAt <= file.length; cutAt++) {
          const got = parseLog(file.subarray(0, cutAt))!;
          const complete = ends.filter((e) => e <= cutAt).length;
          const want = new Map<string, unknown>();
          for (const [k, v] of writes.slice(0, complete)) {
            if (v === undefined) want.delete(k);
            else want.set(k, v);
          }
          expect(got.records).toBe(complete);
          expect(got.image).toEqual(want);
          expect(got.validBytes).toBe(complete === 0 ? MAGIC.length : ends[complete - 1]);
        }
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('stops at a record whose checksum fails', () => {
    const recs = [encodeRecord('a', 1), encodeRecord('b', 2), encodeRecord('c', 3)];
    const file = Buffer.concat([MAGIC, ...recs]);
    file[MAGIC.length + recs[0]!.length + 10]! ^= 0xff; // inside record 2's payload
    const got = parseLog(file)!;
    expect([...got.image]).toEqual([['a', 1]]);
    expect(got.tornBytes).toBe(recs[1]!.length + recs[2]!.length);
  });

  it('refuses a file without the magic', () => {
    expect(parseLog(Buffer.from('hello world'))).toBeNull();
  });
});

describe('WalStore', () => {
  it('reopens to the same image after synced writes and deletes, keeping bigints and maps', async () => {
    const dir = freshDir();
    const s = await WalStore.open(dir);
    expect(s.existed).toBe(false);
    s.append('x', { n: 1n, m: new Map([[1, 'one']]) });
    s.append('y', 'gone soon');
    s.append('y', undefined);
    s.append('z', [1, 2, 3]);
    await s.sync();
    expect(s.syncedSeq).toBe(4);
    await s.close();
    const t = await WalStore.open(dir);
    expect(t.existed).toBe(true);
    expect(t.image).toEqual(new Map<string, unknown>([['x', { n: 1n, m: new Map([[1, 'one']]) }], ['z', [1, 2, 3]]]));
    await t.close();
  });

  it('cuts a torn tail at open and appends after the cut', async () => {
    const dir = freshDir();
    const s = await WalStore.open(dir);
    s.append('a', 1);
    await s.sync();
    await s.close();
    const path = join(dir, WAL_FILE);
    writeFileSync(path, Buffer.concat([readFileSync(path), encodeRecord('b', 2).subarray(0, 7)]));
    const t = await WalStore.open(dir);
    expect(t.recovery.tornBytes).toBe(7);
    t.append('c', 3);
    await t.close();
    const u = await WalStore.open(dir);
    expect(u.image).toEqual(new Map([['a', 1], ['c', 3]]));
    expect(u.recovery.tornBytes).toBe(0);
    await u.close();
  });

  it('compacts a log of overwrites without losing the live image', async () => {
    const dir = freshDir();
    const s = await WalStore.open(dir, { compactMinBytes: 4096 });
    for (let i = 0; i < 2000; i++) {
      s.append(`k${i % 10}`, 'v'.repeat(50) + i);
      if (i % 100 === 99) await s.sync();
    }
    await s.sync();
    expect(s.stats.compactions).toBeGreaterThan(0);
    await s.close();
    expect(statSync(join(dir, WAL_FILE)).size).toBeLessThan(4 * 4096);
    const t = await WalStore.open(dir);
    const want = new Map<string, unknown>();
    for (let i = 1990; i < 2000; i++) want.set(`k${i % 10}`, 'v'.repeat(50) + i);
    expect(t.image).toEqual(want);
    await t.close();
  });

  it('groups concurrent sync requests into fewer fdatasyncs', async () => {
    const s = await WalStore.open(freshDir());
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      s.append(`k${i}`, i);
      waits.push(s.sync());
    }
    await Promise.all(waits);
    expect(s.syncedSeq).toBe(50);
    expect(s.stats.syncs).toBeLessThan(50);
    await s.close();
  });

  it('refuses a second opener while the store is open', async () => {
    const dir = freshDir();
    const s = await WalStore.open(dir);
    await expect(WalStore.open(dir)).rejects.toThrow(/already open/);
    await s.close();
    const t = await WalStore.open(dir);
    await t.close();
  });
});

// -----------------------------------------------------------------------------------------------

const FIXTURE = join(import.meta.dirname, 'fixtures', 'kv-node.ts');

function spawnNode(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`node did not start within 20 s: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}: ${err}`));
    });
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('kill -9 of a host', () => {
  it('recovers every acknowledged synced write after SIGKILL mid-stream', async () => {
    const dir = freshDir();
    const a = await spawnNode(dir);
    const c1 = new RealClient({ cluster: 'kv', id: 'tester', addressOf: () => ({ host: '127.0.0.1', port: a.port }) });
    const acked: string[] = [];
    // Keep 8 puts in flight so the kill lands while writes are queued and syncing.
    let next = 0;
    const worker = async () => {
      while (next < 100_000) {
        const i = next++;
        try {
          await c1.call('kv0', { op: 'put', key: `k${i}`, value: `v${i}` }, 5000);
          acked.push(`k${i}`);
        } catch {
          return; // the node died under us
        }
        if (acked.length === 300) void killHard(a.child);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    c1.close();
    expect(acked.length).toBeGreaterThanOrEqual(300);

    const b = await spawnNode(dir);
    const c2 = new RealClient({ cluster: 'kv', id: 'tester2', addressOf: () => ({ host: '127.0.0.1', port: b.port }) });
    const got = (await c2.call('kv0', { op: 'get' }, 10_000)) as { data: [string, string][]; boots: number };
    c2.close();
    await killHard(b.child);
    const data = new Map(got.data);
    for (const k of acked) expect(data.get(k)).toBe(`v${k.slice(1)}`);
    // Nothing appears that no client ever sent.
    for (const [k, v] of data) {
      expect(Number(k.slice(1))).toBeLessThan(next);
      expect(v).toBe(`v${k.slice(1)}`);
    }
    // The second boot was a restart from the recovered image (boots was persisted by the first).
    expect(got.boots).toBe(2);
  }, 60_000);
});
