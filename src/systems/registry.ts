/**
 * The registry of systems: every system a scenario, a cluster config or an explorer model
 * (`system:<name>`) can name. Built-ins (src/systems/*.ts) and plugins register the same way,
 * through `defineSystem` (re-exported by the public API, app/api/index.ts); nothing reaches the
 * registry another way.
 */
import { InputError } from '../core/assert.ts';
import type { SystemDef } from '../core/system.ts';

const REGISTRY: Record<string, SystemDef<any>> = {};

/** Every registered system by name, in registration order (built-ins first). */
export const SYSTEMS: Readonly<Record<string, SystemDef<any>>> = REGISTRY;

export const NAME = /^[a-z][a-z0-9-]{0,39}$/;

function shapeError(what: string, def: unknown): string | null {
  if (typeof def !== 'object' || def === null) return `${what}: expected an object, got ${def === null ? 'null' : typeof def}`;
  const d = def as Record<string, unknown>;
  if (typeof d.name !== 'string' || !NAME.test(d.name)) return `${what}: name: expected lower-case letters, digits and '-' (at most 40, starting with a letter), got ${JSON.stringify(d.name)}`;
  const at = `${what} '${d.name}'`;
  if (typeof d.description !== 'string' || d.description === '') return `${at}: description: expected a non-empty string`;
  if (typeof d.defaults !== 'object' || d.defaults === null || Array.isArray(d.defaults)) return `${at}: defaults: expected an object of parameter defaults`;
  if (!Array.isArray(d.variants)) return `${at}: variants: expected an array of { name, description, exposedBy }`;
  const seen = new Set<string>();
  for (const [i, v] of (d.variants as unknown[]).entries()) {
    const vv = v as Record<string, unknown> | null;
    if (typeof vv !== 'object' || vv === null || typeof vv.name !== 'string' || vv.name === '' || typeof vv.description !== 'string' || typeof vv.exposedBy !== 'string') {
      return `${at}: variants[${i}]: expected { name, description, exposedBy } strings`;
    }
    if (seen.has(vv.name)) return `${at}: variants[${i}]: variant '${vv.name}' listed twice`;
    seen.add(vv.name);
  }
  if (typeof d.build !== 'function') return `${at}: build: expected a function (params, variant) => SystemInstance`;
  if (d.validate !== undefined && typeof d.validate !== 'function') return `${at}: validate: expected a function or nothing`;
  if (d.shrinkable !== undefined && (!Array.isArray(d.shrinkable) || d.shrinkable.some((k) => typeof k !== 'string' || !(k in (d.defaults as object))))) {
    return `${at}: shrinkable: expected names of integer parameters in defaults`;
  }
  return null;
}

/**
 * Registers a system under its name and returns it. A malformed definition or a name already
 * taken throws an InputError naming the problem (a plugin loader prefixes the file).
 */
export function defineSystem<P>(def: SystemDef<P>): SystemDef<P> {
  const bad = shapeError('defineSystem', def);
  if (bad !== null) throw new InputError(bad);
  if (Object.hasOwn(REGISTRY, def.name)) throw new InputError(`defineSystem: a system named '${def.name}' is already defined (a plugin loaded twice, say imported by a test and listed in plugins:, registers twice)`);
  REGISTRY[def.name] = def as SystemDef<any>;
  return def;
}

export function systemNames(): string[] {
  return Object.keys(REGISTRY);
}
