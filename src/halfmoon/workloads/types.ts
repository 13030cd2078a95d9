/**
 * What a workload is (its functions, its request generator, its initial rows) and the small
 * helpers the generators share. Kept apart from the registry in `index.ts`, which imports every
 * workload: the workloads import only this file, so the folder has no import cycle.
 */
import type { FunctionRegistry } from '../program.ts';
import type { Json } from '../records.ts';

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

/** A uniform integer in [0, n) from one draw. */
export function pick(rand: Rand, label: string, n: number): number {
  return Math.floor((rand(label) / 0x1_0000_0000) * n);
}

/** A value of exactly `bytes` characters that names its writer, so final states are checkable. */
export function valueOf(tag: string, bytes: number): string {
  return tag.length >= bytes ? tag : tag + '.'.repeat(bytes - tag.length);
}
