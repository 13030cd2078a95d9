/**
 * Real-mode benchmarks, measured in the same run so their figures compare: the floor set by the
 * platform (a raw framed TCP round trip between two Node processes on loopback, and one
 * append + fdatasync on the local disk), and what the real runtime achieves on top of it (a
 * register operation: two quorum round trips through the client node plus a synced put). Later
 * protocols' real-mode latencies (a Boki append) are read against the same floor.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/** A free loopback port (closed again before use: good enough for a bench or a test on one machine). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface AppendBench {
  /** One append in flight at a time: client-visible latency. */
  readonly latency: Percentiles;
  /** Many invocations appending at once. */
  readonly appendsPerSec: number;
  readonly concurrency: number;
  readonly coordination: 'zookeeper' | 'machine';
  /** CPU (user + system) each node process spent per append during the latency phase, µs. */
  readonly cpuUsPerAppend: Readonly<Record<string, number>>;
}

/** CPU seconds (user + system) a live process has used, from /proc; null when unreadable. */
function procCpuS(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

/**
 * Boki appends on a real cluster: one OS process per node on loopback (3 sequencers, 3 storage
 * nodes syncing every record before they report progress, 2 engines), ZooKeeper as the
 * coordination service when installed. A client appends through an engine's shared-log API:
 * first one append at a time (latency from the request leaving to its APPEND_OK arriving), then
 * `concurrency` invocations appending back to back for a fixed time (throughput).
 */
export async function bokiAppendBench(o: { appends: number; concurrency: number; throughputMs: number; cutIntervalUs?: number }): Promise<AppendBench> {
  const { planCluster } = await import('./cluster-config.ts');
  const { clusterDown, clusterUp, nodeDir } = await import('./cluster.ts');
  const { RealClient } = await import('./client.ts');
  const { zkUnavailable } = await import('./zk/server.ts');
  const dir = mkdtempSync(join(tmpdir(), 'hm-bench-boki-'));
  const ids = ['ctrl', 'seq0', 'seq1', 'seq2', 'sto0', 'sto1', 'sto2', 'eng0', 'eng1'];
  const ports = await Promise.all(Array.from({ length: ids.length + 2 }, freePort));
  const useZk = zkUnavailable() === null;
  const cut = o.cutIntervalUs ?? 300;
  const plan = planCluster(
    {
      system: 'boki',
      params: { engines: 2, sequencers: 3, spareSequencers: 0, storages: 3, indexReplicas: 2, bootWaitMs: 3000, globalCutIntervalUs: cut, localCutIntervalUs: cut },
      stateDir: join(dir, 'state'),
      nodes: Object.fromEntries([...(useZk ? [] : ['zk']), ...ids].map((id, i) => [id, { address: `127.0.0.1:${ports[i]}` }])),
      zookeeper: useZk ? { mode: 'local', clientPort: ports[ids.length + 1], tickTimeMs: 200 } : { mode: 'none' },
      driversOnUp: false,
      startTimeoutMs: 60_000,
    },
    'bench',
    dir,
  );
  const client = new RealClient({ cluster: plan.cluster, id: 'bench', addressOf: (id) => plan.addresses.get(id) ?? null, nodes: plan.instance.nodes, auth: plan.auth });
  try {
    await clusterUp(plan);
    const data = 'x'.repeat(48);
    const begin = async (inv: string, engine: string) => {
      // The engines answer once view 0 exists: retry begin until then.
      for (let i = 0; ; i++) {
        const r = (await client.call(engine, { op: 'begin', inv, book: 0, parent: null }, 5000).catch(() => null)) as { code: string } | null;
        if (r?.code === 'OK') return;
        if (i > 100) throw new Error(`engine ${engine} did not accept an invocation`);
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const append = async (engine: string, inv: string, tag: bigint): Promise<number> => {
      const t0 = performance.now();
      const r = (await client.call(engine, { op: 'append', inv, tags: [tag], data }, 10_000)) as { code: string };
      if (r.code !== 'APPEND_OK') throw new Error(`append answered ${r.code}`);
      return (performance.now() - t0) * 1000;
    };
    await begin('lat', 'eng0');
    const warm = Math.min(200, o.appends);
    const xs: number[] = [];
    const pids = new Map<string, number>();
    for (const id of ids) {
      const pid = Number(readFileSync(join(nodeDir(plan, id), 'pid'), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) pids.set(id, pid);
    }
    let cpu0 = new Map<string, number>();
    for (let i = 0; i < warm + o.appends; i++) {
      if (i === warm) cpu0 = new Map([...pids].map(([id, pid]) => [id, procCpuS(pid) ?? NaN]));
      const us = await append('eng0', 'lat', 1n);
      if (i >= warm) xs.push(us);
    }
    const cpuUsPerAppend: Record<string, number> = {};
    for (const [id, pid] of pids) {
      const d = (procCpuS(pid) ?? NaN) - cpu0.get(id)!;
      if (Number.isFinite(d)) cpuUsPerAppend[id] = Math.round((d * 1e6) / Math.max(1, o.appends));
    }
    const invs = Array.from({ length: o.concurrency }, (_, i) => ({ inv: `tp${i}`, engine: i % 2 === 0 ? 'eng0' : 'eng1' }));
    for (const x of invs) await begin(x.inv, x.engine);
    let done = 0;
    const until = performance.now() + o.throughputMs;
    const t0 = performance.now();
    await Promise.all(
      invs.map(async (x, i) => {
        while (performance.now() < until) {
          await append(x.engine, x.inv, BigInt(2 + (i % 8)));
          done++;
        }
      }),
    );
    const ms = performance.now() - t0;
    return { latency: percentiles(xs), appendsPerSec: Math.round((done / ms) * 1000), concurrency: o.concurrency, coordination: useZk ? 'zookeeper' : 'machine', cpuUsPerAppend };
  } finally {
    client.close();
    await clusterDown(plan, 3000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WorkflowBench {
  readonly requests: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly violations: number;
  readonly appendsPerRequest: number;
}

/**
 * A workflow scenario run for real: a fresh Halfmoon cluster on the Boki log (one process per
 * node on free loopback ports, ZooKeeper when installed) configured with `params`, `cluster run`
 * of `scenario` with `sets`, then the cluster stopped. The client-visible request latency is the
 * run report's `latencyUs`, the figure `halfmoon run` gives for the same scenario simulated.
 */
export async function realWorkflowBench(o: { scenario: string; params: Readonly<Record<string, unknown>>; sets: readonly (readonly [string, unknown])[] }): Promise<WorkflowBench> {
  const { planCluster } = await import('./cluster-config.ts');
  const { clusterDown, clusterUp } = await import('./cluster.ts');
  const { clusterRun } = await import('./run.ts');
  const { zkUnavailable } = await import('./zk/server.ts');
  const dir = mkdtempSync(join(tmpdir(), 'hm-bench-wf-'));
  // The nodes of Halfmoon with 3 engines on the Boki log (planCluster refuses a list that differs).
  const ids = ['ctrl', 'seq0', 'seq1', 'seq2', 'seq3', 'seq4', 'sto0', 'sto1', 'sto2', 'eng0', 'eng1', 'eng2', 'store'];
  const useZk = zkUnavailable() === null;
  const all = useZk ? ids : ['zk', ...ids];
  const ports = await Promise.all(Array.from({ length: all.length + 1 }, freePort));
  const plan = planCluster(
    {
      scenario: o.scenario,
      params: o.params,
      stateDir: join(dir, 'state'),
      nodes: Object.fromEntries(all.map((id, i) => [id, { address: `127.0.0.1:${ports[i]}` }])),
      zookeeper: useZk ? { mode: 'local', clientPort: ports[all.length], tickTimeMs: 200 } : { mode: 'none' },
      driversOnUp: false,
      startTimeoutMs: 60_000,
    },
    'bench',
    dir,
  );
  try {
    await clusterUp(plan);
    const r = await clusterRun({ plan, scenario: o.scenario, sets: o.sets });
    const lat = (r.json.latencyUs ?? {}) as { p50?: number; p99?: number };
    const log = (r.json.log ?? {}) as { appendsPerRequest?: number };
    return { requests: Number(r.json.requests ?? 0), p50Us: lat.p50 ?? 0, p99Us: lat.p99 ?? 0, violations: r.violations.length, appendsPerRequest: log.appendsPerRequest ?? 0 };
  } finally {
    await clusterDown(plan, 3000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
