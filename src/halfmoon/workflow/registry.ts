/**
 * The workload registry: workloads register their functions by name, and the runtime's config
 * names the workload, so the runtime's state stays plain data and the runtime imports no workload.
 */
import { assert } from '../../core/assert.ts';
import type { FunctionRegistry } from '../program.ts';

const registries = new Map<string, FunctionRegistry>();

/** Workloads register their functions by name; the runtime's state names the workload. */
export function registerWorkload(name: string, fns: FunctionRegistry): void {
  registries.set(name, fns);
}

export function workloadFunctions(name: string): FunctionRegistry {
  const r = registries.get(name);
  assert(r !== undefined, `unknown workload ${name}`);
  return r;
}
