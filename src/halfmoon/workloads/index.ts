/**
 * Workloads: each names its functions (registered with the runtime) and a request generator the
 * client calls per request, and lists the store rows it needs at start.
 */
import { assert } from '../../core/assert.ts';
import type { Json } from '../records.ts';
import { registerWorkload } from '../runtime.ts';
import type { FunctionRegistry } from '../program.ts';
import { programWorkload } from './program.ts';
import { hotelWorkload, movieWorkload, retwisWorkload } from './apps.ts';
import { rwWorkload, singleopWorkload } from './basic.ts';

export type Rand = (label: string) => number;

export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly functions: FunctionRegistry;
  /** The k-th request, issued at `nowUs` (the client's clock): which function, with which input. */
  generate(params: Readonly<Record<string, Json>>, k: number, rand: Rand, nowUs: number): { fn: string; input: Json };
  /** (table, key, initial value) of every row to populate. */
  initial(params: Readonly<Record<string, Json>>): [string, string, Json][];
}

const WORKLOADS = new Map<string, Workload>();

export function defineWorkload(w: Workload): void {
  WORKLOADS.set(w.name, w);
  registerWorkload(w.name, w.functions);
}

for (const w of [rwWorkload, singleopWorkload, programWorkload, hotelWorkload, movieWorkload, retwisWorkload]) defineWorkload(w);

export function workload(name: string): Workload {
  const w = WORKLOADS.get(name);
  assert(w !== undefined, `unknown workload ${name}`);
  return w;
}

export function workloadNames(): string[] {
  return [...WORKLOADS.keys()];
}

export function requestGenerator(name: string): Workload['generate'] {
  return workload(name).generate;
}

/** A uniform integer in [0, n) from one draw. */
export function pick(rand: Rand, label: string, n: number): number {
  return Math.floor((rand(label) / 0x1_0000_0000) * n);
}

/** A value of exactly `bytes` characters that names its writer, so final states are checkable. */
export function valueOf(tag: string, bytes: number): string {
  return tag.length >= bytes ? tag : tag + '.'.repeat(bytes - tag.length);
}
