/**
 * Strict files that help: validates a document against a zod schema and reports its first
 * problem in one line, an unknown or misspelled key ahead of everything else (a misspelled
 * required key also shows up as that field missing; the misspelling is the cause, so it is named
 * first, with the closest valid key). Scenario, cluster and suite files all go through here.
 *
 * The work happens in a zod error map, which sees the schema that rejected the input: a strict
 * object's shape, a record's key enum, a discriminated union's options. Objects stay `.strict()`
 * in the schemas; a schema that grows a key (a `plugins` section, say) needs nothing here.
 */
import type { z } from 'zod';
import { InputError } from '../core/assert.ts';
import { closest, unknownKeyMessage } from '../core/suggest.ts';

interface ZodInternals {
  _zod?: { def?: { type?: string; shape?: Record<string, unknown>; keyType?: unknown; options?: unknown[]; entries?: Record<string, unknown>; values?: unknown[]; innerType?: unknown } };
}

function def(s: unknown): NonNullable<NonNullable<ZodInternals['_zod']>['def']> {
  return (s as ZodInternals)?._zod?.def ?? {};
}

/** The object shapes a schema accepts (through optional, default, nullable, pipes and unions). */
function shapeKeys(s: unknown, depth = 0): string[] {
  const d = def(s);
  if (depth > 20) return [];
  if (d.type === 'object' && d.shape) return Object.keys(d.shape);
  if (d.innerType) return shapeKeys(d.innerType, depth + 1);
  if (d.type === 'union' && d.options) return [...new Set(d.options.flatMap((o) => shapeKeys(o, depth + 1)))];
  return [];
}

/** The keys a record accepts when its key schema is an enum (a partial record of fault kinds). */
function recordKeys(s: unknown): string[] {
  const k = def(def(s).keyType);
  if (k.entries) return Object.keys(k.entries);
  if (k.values) return k.values.map(String);
  return [];
}

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

const UNKNOWN = /^unknown key /;

/** The error map: unknown keys with the closest valid key; discriminators by name. */
function errorMap(iss: Record<string, unknown>): string | undefined {
  if (iss.code === 'unrecognized_keys') {
    const keys = (iss.keys as string[]) ?? [];
    const d = def(iss.inst);
    const valid = d.type === 'record' ? recordKeys(iss.inst) : shapeKeys(iss.inst);
    const more = keys.length > 1 ? ` (and ${keys.length - 1} more unknown)` : '';
    return unknownKeyMessage(keys[0] ?? '', valid) + more;
  }
  if (iss.code === 'invalid_union' && typeof iss.discriminator === 'string') {
    const disc = iss.discriminator;
    const input = iss.input;
    const options = ((iss.options as unknown[]) ?? []).map(String);
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      if (!(disc in input)) {
        const valid = shapeKeys(iss.inst);
        const unknown = Object.keys(input).filter((k) => !valid.includes(k));
        if (unknown.length > 0) return unknownKeyMessage(unknown[0]!, valid) + (unknown.length > 1 ? ` (and ${unknown.length - 1} more unknown)` : '');
        return `missing \`${disc}\` (one of ${options.join(', ')})`;
      }
      const v = (input as Record<string, unknown>)[disc];
      const c = typeof v === 'string' ? closest(v, options) : null;
      return `unknown ${disc} '${show(v)}'${c !== null ? `; did you mean '${c}'?` : ''} (one of ${options.join(', ')})`;
    }
  }
  return undefined;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
}

/** One line naming what is wrong: `where: path: message`, an unknown key first. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], where: string): string {
  const placed = issues.map((iss) => {
    const unknown = UNKNOWN.test(iss.message);
    // A discriminated union reports at its discriminator; a stray key belongs to the object.
    const path = unknown && iss.code === 'invalid_union' ? iss.path.slice(0, -1) : iss.path;
    return { unknown, path, message: iss.message };
  });
  const first = placed.find((p) => p.unknown) ?? placed[0];
  if (!first) return `${where}: invalid`;
  return `${where}: ${pathText(first.path)}: ${first.message}`.replace(/[\r\n]+/g, ' ');
}

/** Parses `raw` with `schema`; throws one InputError line naming the first problem. */
export function parseStrict<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.output<S> {
  const r = schema.safeParse(raw, { error: errorMap as never });
  if (r.success) return r.data;
  throw new InputError(describeIssues(r.error.issues, where));
}
