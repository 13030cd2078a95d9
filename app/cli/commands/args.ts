/** Argument parsing shared by commands; every failure is an InputError naming the flag. */
import { InputError } from '../../../src/core/assert.ts';
import { MAX_SEED } from '../../../sim/rng.ts';
import { TRACE_LEVELS, type TraceLevel } from '../../../sim/trace.ts';
import { parseSetValue } from '../../../src/scenario/scenario.ts';

export const DEFAULT_SCENARIO = 'register-smoke';
export const SEEDS_MAX = 10_000_000;

export const scenarioOptions = {
  scenario: { type: 'string' },
  set: { type: 'string', multiple: true },
  variant: { type: 'string' },
  protocol: { type: 'string' },
} as const;

export function parseSeed(text: unknown, flag = '--seed'): number {
  if (typeof text !== 'string' || !/^\d+$/.test(text)) throw new InputError(`${flag}: expected a non-negative integer, got '${String(text)}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > MAX_SEED) throw new InputError(`${flag}: ${text} is larger than ${MAX_SEED}`);
  return n;
}

export interface SeedRange {
  readonly from: number;
  readonly to: number;
}

/** "a..b", inclusive on both ends. */
export function parseSeedRange(text: unknown): SeedRange {
  if (typeof text !== 'string') throw new InputError('--seeds: required, as <a>..<b> (for example 1..1000)');
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  if (!m) throw new InputError(`--seeds: expected <a>..<b> with non-negative integers, got '${text}'`);
  const from = parseSeed(m[1], '--seeds');
  const to = parseSeed(m[2], '--seeds');
  if (from > to) throw new InputError(`--seeds: the range ${text} is empty (${from} > ${to})`);
  if (to - from + 1 > SEEDS_MAX) throw new InputError(`--seeds: at most ${SEEDS_MAX} seeds per sweep; shard larger ranges`);
  return { from, to };
}

export interface Shard {
  readonly k: number;
  readonly n: number;
}

/** "k/n" with 1 <= k <= n. */
export function parseShard(text: unknown): Shard {
  if (text === undefined) return { k: 1, n: 1 };
  if (typeof text !== 'string') throw new InputError('--shard: expected k/n');
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new InputError(`--shard: expected k/n with 1 <= k <= n, got '${text}'`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || k < 1 || k > n || n > 1_000_000) throw new InputError(`--shard: expected k/n with 1 <= k <= n <= 1000000, got '${text}'`);
  return { k, n };
}

/**
 * The seeds of one shard: seed a+i belongs to shard (i mod n) + 1. Round-robin keeps shards
 * balanced when cost drifts along the range; the union over k = 1..n is the range, disjointly.
 */
export function shardSeeds(range: SeedRange, shard: Shard): number[] {
  const out: number[] = [];
  for (let s = range.from + (shard.k - 1); s <= range.to; s += shard.n) out.push(s);
  return out;
}

export function parseWorkers(text: unknown): number {
  if (text === undefined) return 1;
  if (typeof text !== 'string' || !/^\d+$/.test(text)) throw new InputError(`--workers: expected a positive integer, got '${String(text)}'`);
  const n = Number(text);
  if (n < 1 || n > 256) throw new InputError(`--workers: expected 1..256, got ${n}`);
  return n;
}

/** `--set k=v` (repeatable) plus `--protocol p` as `protocol=p`. */
export function parseSets(values: Record<string, unknown>): [string, unknown][] {
  const raw = (values.set as string[] | undefined) ?? [];
  const out: [string, unknown][] = raw.map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InputError(`--set: expected key=value, got '${kv}'`);
    return [kv.slice(0, i), parseSetValue(kv.slice(i + 1))];
  });
  if (typeof values.protocol === 'string') out.push(['protocol', values.protocol]);
  return out;
}

export function scenarioArg(values: Record<string, unknown>): string {
  const s = values.scenario;
  if (s === undefined) return DEFAULT_SCENARIO;
  if (typeof s !== 'string' || s === '') throw new InputError('--scenario: expected a scenario name or file');
  return s;
}

export function variantArg(values: Record<string, unknown>): string | null {
  const v = values.variant;
  if (v === undefined) return null;
  if (typeof v !== 'string' || v === '') throw new InputError('--variant: expected a variant name');
  return v;
}

/** `--trace-level` and `--trace-window` (they need `--trace`). */
export function traceOptions(values: Record<string, unknown>, tracePath: string | null): { level: TraceLevel; window: number | null } {
  const l = values['trace-level'];
  const w = values['trace-window'];
  if ((l !== undefined || w !== undefined) && tracePath === null) throw new InputError(`${l !== undefined ? '--trace-level' : '--trace-window'} needs --trace <file>`);
  if (l !== undefined && !(TRACE_LEVELS as readonly unknown[]).includes(l)) throw new InputError(`--trace-level: expected one of ${TRACE_LEVELS.join(', ')}, got '${String(l)}'`);
  let window: number | null = null;
  if (w !== undefined) {
    if (typeof w !== 'string' || !/^\d+$/.test(w) || Number(w) < 1 || Number(w) > 100_000_000) throw new InputError(`--trace-window: expected a number of steps 1..100000000, got '${String(w)}'`);
    window = Number(w);
  }
  return { level: (l as TraceLevel | undefined) ?? 'states', window };
}
