/**
 * Workloads: each names its functions (registered with the runtime) and a request generator the
 * client calls per request, and lists the store rows it needs at start.
 */
import { assert, InputError } from '../../core/assert.ts';
import { registerWorkload } from '../workflow/registry.ts';
import { programWorkload } from './program.ts';
import { hotelWorkload, movieWorkload, retwisWorkload } from './apps.ts';
import { rwWorkload, singleopWorkload } from './basic.ts';

export { pick, valueOf, type Rand, type Workload } from './types.ts';
import type { Workload } from './types.ts';

const WORKLOADS = new Map<string, Workload>();

/**
 * Registers a workload (its functions, request generator and initial rows) under its name. A
 * malformed definition or a name already taken throws an InputError naming the problem.
 */
export function defineWorkload(w: Workload): Workload {
  const bad = workloadShapeError(w);
  if (bad !== null) throw new InputError(bad);
  if (WORKLOADS.has(w.name)) throw new InputError(`defineWorkload: a workload named '${w.name}' is already defined`);
  WORKLOADS.set(w.name, w);
  registerWorkload(w.name, w.functions);
  return w;
}

function workloadShapeError(w: unknown): string | null {
  if (typeof w !== 'object' || w === null) return `defineWorkload: expected an object, got ${w === null ? 'null' : typeof w}`;
  const d = w as Record<string, unknown>;
  if (typeof d.name !== 'string' || !/^[a-z][a-z0-9-]{0,39}$/.test(d.name)) return `defineWorkload: name: expected lower-case letters, digits and '-' (at most 40, starting with a letter), got ${JSON.stringify(d.name)}`;
  const at = `defineWorkload '${d.name}'`;
  if (typeof d.description !== 'string' || d.description === '') return `${at}: description: expected a non-empty string`;
  const fns = d.functions as Record<string, unknown> | null;
  if (typeof fns !== 'object' || fns === null || Object.keys(fns).length === 0) return `${at}: functions: expected an object of workflow functions by name`;
  for (const [k, f] of Object.entries(fns)) if (typeof f !== 'function') return `${at}: functions.${k}: expected a function (ctx, input) => output`;
  if (typeof d.generate !== 'function') return `${at}: generate: expected a function (params, k, rand, nowUs) => { fn, input }`;
  if (typeof d.initial !== 'function') return `${at}: initial: expected a function (params) => [table, key, value][]`;
  return null;
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
