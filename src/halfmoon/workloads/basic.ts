/**
 * The published microbenchmarks (spec §9.1):
 * - `rw`: ⌊ops·r⌋ reads, then the remaining writes, on random keys of one table (10,000 keys of
 *   256 bytes by default); `readRatio` r is the experiment's knob. The first `warmupRequests`
 *   requests instead write `ops` consecutive keys each, sweeping the key space, so every key has
 *   a written version before the measured requests start.
 * - `singleop`: one read, one write and one synchronous invoke of `nop` per request (100 keys).
 */
import type { WorkflowFn } from '../program.ts';
import type { Json } from '../records.ts';
import { digest } from './program.ts';
import { pick, valueOf, type Workload } from './types.ts';

const rw: WorkflowFn = (ctx, input) => {
  const i = input as { reads: string[]; writes: string[]; tag: string; bytes: number };
  // Read-modify-write: every written value carries a digest of the values read before it, and the
  // output carries the digest, so a read of the wrong version changes what is written and returned.
  const read: Json[] = [];
  for (const k of i.reads) read.push(ctx.read('t', k));
  const d = digest(read);
  i.writes.forEach((k, j) => ctx.write('t', k, valueOf(`${i.tag}:${j}<${d}`, i.bytes)));
  return { seen: read.filter((v) => v !== null).length, digest: d };
};

function num(p: Readonly<Record<string, Json>>, k: string, d: number): number {
  const v = p[k];
  return typeof v === 'number' ? v : d;
}

export const rwWorkload: Workload = {
  name: 'rw',
  description: 'reads then writes on random keys; readRatio sets the mix',
  functions: { rw },
  generate(p, k, rand, nowUs) {
    const ops = num(p, 'opsPerRequest', 10);
    const keys = num(p, 'keys', 10_000);
    // The switching experiment alternates the read ratio every `phaseUs` (0: a fixed ratio).
    const phaseUs = num(p, 'phaseUs', 0);
    const ratio = phaseUs > 0 ? (Math.floor(nowUs / phaseUs) % 2 === 0 ? num(p, 'readRatioA', 0.2) : num(p, 'readRatioB', 0.8)) : num(p, 'readRatio', 0.5);
    const warmup = num(p, 'warmupRequests', 0);
    if (k < warmup) {
      const writes = Array.from({ length: ops }, (_, j) => `k${(k * ops + j) % keys}`);
      return { fn: 'rw', input: { reads: [], writes, tag: `q${k}`, bytes: num(p, 'valueBytes', 256) } };
    }
    const reads = Math.floor(ops * ratio + 1e-9);
    const key = () => `k${pick(rand, 'key', keys)}`;
    return {
      fn: 'rw',
      input: { reads: Array.from({ length: reads }, key), writes: Array.from({ length: ops - reads }, key), tag: `q${k}`, bytes: num(p, 'valueBytes', 256) },
    };
  },
  initial(p) {
    const keys = num(p, 'keys', 10_000);
    return Array.from({ length: keys }, (_, i) => ['t', `k${i}`, valueOf(`init:k${i}`, num(p, 'valueBytes', 256))] as [string, string, Json]);
  },
};

const singleop: WorkflowFn = (ctx, input) => {
  const i = input as { key: string; tag: string };
  const v = ctx.read('t', i.key);
  ctx.write('t', i.key, i.tag);
  const r = ctx.invoke('nop', { from: i.tag });
  return [v, r];
};

const nop: WorkflowFn = (_ctx, input) => input;

export const singleopWorkload: Workload = {
  name: 'singleop',
  description: 'one read, one write and one invoke of nop per request',
  functions: { singleop, nop },
  generate(p, k, rand) {
    return { fn: 'singleop', input: { key: `k${pick(rand, 'key', num(p, 'keys', 100))}`, tag: `q${k}` } };
  },
  initial(p) {
    return Array.from({ length: num(p, 'keys', 100) }, (_, i) => ['t', `k${i}`, `init:k${i}`] as [string, string, Json]);
  },
};
