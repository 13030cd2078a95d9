/**
 * Real-mode benchmarks, measured in the same run so their figures compare: the floor set by the
 * platform (a raw framed TCP round trip between two Node processes on loopback, and one
 * append + fdatasync on the local disk), and what the real runtime achieves on top of it (a
 * register operation: two quorum round trips through the client node plus a synced put). Later
 * protocols' real-mode latencies (a Boki append) are read against the same floor.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SystemInstance } from '../../core/system.ts';
import { FrameDecoder, encodeFrame } from './frame.ts';
import { LocalCluster } from './local.ts';
import { WalStore } from './store.ts';

export interface Percentiles {
  readonly samples: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

export function percentiles(xsUs: number[]): Percentiles {
  const s = [...xsUs].sort((a, b) => a - b);
  const q = (f: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(f * s.length))]! * 10) / 10 : 0);
  return { samples: s.length, p50Us: q(0.5), p99Us: q(0.99), maxUs: q(1) };
}

/** The echo server run in the second process: framed, Nagle off, echoes every frame back. */
const ECHO_SERVER = `
const net = require('node:net');
const srv = net.createServer({ noDelay: true }, (s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); s.on('error', () => {}); });
srv.listen(0, '127.0.0.1', () => process.stdout.write('port ' + srv.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** p50/p99 of a 64-byte framed request/response round trip between two Node processes on loopback. */
export async function tcpRoundTrip(rounds: number): Promise<Percentiles> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (c) => reject(new Error(`echo server exited with ${c}`)));
    });
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((r, j) => {
      sock.once('connect', () => r());
      sock.once('error', j);
    });
    const dec = new FrameDecoder();
    const frame = encodeFrame(Buffer.alloc(64, 0x61));
    let waiting: (() => void) | null = null;
    sock.on('data', (d: Buffer) => {
      if (dec.push(d).length > 0 && waiting) {
        const w = waiting;
        waiting = null;
        w();
      }
    });
    const xs: number[] = [];
    const warm = Math.min(500, rounds);
    for (let i = 0; i < warm + rounds; i++) {
      const t0 = performance.now();
      await new Promise<void>((r) => {
        waiting = r;
        sock.write(frame);
      });
      if (i >= warm) xs.push((performance.now() - t0) * 1000);
    }
    sock.destroy();
    return percentiles(xs);
  } finally {
    child.stdin!.end();
    child.kill();
  }
}

/** p50/p99 of one small append + fdatasync through the store. */
export async function syncedAppend(rounds: number): Promise<Percentiles> {
  const dir = mkdtempSync(join(tmpdir(), 'hm-bench-'));
  try {
    const s = await WalStore.open(dir);
    const xs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      s.append(`k${i % 16}`, { i, pad: 'x'.repeat(100) });
      await s.sync();
      xs.push((performance.now() - t0) * 1000);
    }
    await s.close();
    return percentiles(xs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * p50/p99 of client-visible operation latency (call to return, as recorded in the history) for a
 * system instance run in-process on the real runtime until its workload is done.
 */
export async function realOpLatency(instance: SystemInstance, cluster: string, timeoutMs = 120_000): Promise<Percentiles> {
  const dir = mkdtempSync(join(tmpdir(), 'hm-bench-'));
  const c = await LocalCluster.start({ instance, cluster, dataRoot: dir });
  try {
    await c.whenDone(timeoutMs);
    const calls = new Map<string, number>();
    const xs: number[] = [];
    for (const ev of c.memory.events) {
      if (ev.kind === 'call') calls.set(ev.reqId, ev.t);
      else if (ev.kind === 'ret' && calls.has(ev.reqId)) {
        xs.push(ev.t - calls.get(ev.reqId)!);
        calls.delete(ev.reqId);
      }
    }
    return percentiles(xs);
  } finally {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
