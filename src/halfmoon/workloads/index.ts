/**
 * Workloads: each names its functions (registered with the runtime) and a request generator the
 * client calls per request, and lists the store rows it needs at start.
 */
import { assert } from '../../core/assert.ts';
import { registerWorkload } from '../workflow/registry.ts';
import { programWorkload } from './program.ts';
import { hotelWorkload, movieWorkload, retwisWorkload } from './apps.ts';
import { rwWorkload, singleopWorkload } from './basic.ts';

export { pick, valueOf, type Rand, type Workload } from './types.ts';
import type { Workload } from './types.ts';

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
