/**
 * JSON for plain data that holds bigints, Maps and Sets.
 *
 * Two encodings:
 * - The *wire* encoding round-trips exactly (real-runtime frames, real disks, trace files that are
 *   read back): bigint -> {"$b": "<16 hex>"} (or "-<hex>" when negative), Map -> {"$m": [[k, v]...]},
 *   Set -> {"$s": [...]}, undefined -> {"$u": 1}. Plain objects whose only key starts with "$" are
 *   escaped as {"$o": {...}} so decoding is unambiguous.
 * - The *display* encoding is for humans and the trace viewer: bigint -> "0x<16 hex>", Maps with
 *   string keys -> objects, other Maps -> arrays of [key, value] pairs, Sets -> arrays.
 */
import { hex16 } from './assert.ts';

export function toWire(v: unknown): unknown {
  switch (typeof v) {
    case 'bigint':
      return { $b: v < 0n ? '-' + hex16(-v) : hex16(v) };
    case 'undefined':
      return { $u: 1 };
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) return v.map(toWire);
      if (v instanceof Map) return { $m: [...v].map(([k, x]) => [toWire(k), toWire(x)]) };
      if (v instanceof Set) return { $s: [...v].map(toWire) };
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) out[k] = toWire((v as Record<string, unknown>)[k]);
      const keys = Object.keys(out);
      if (keys.length === 1 && keys[0]!.startsWith('$')) return { $o: out };
      return out;
    }
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`toWire: non-finite number ${v}`);
      return v;
    case 'string':
    case 'boolean':
      return v;
    default:
      throw new Error(`toWire: ${typeof v} is not plain data`);
  }
}

const HEX16 = /^-?[0-9a-f]{16}$/;

export function fromWire(v: unknown, depth = 0): unknown {
  if (depth > 128) throw new Error('fromWire: nested deeper than 128 levels');
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => fromWire(x, depth + 1));
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const k = keys[0]!;
    const x = o[k];
    switch (k) {
      case '$b':
        if (typeof x !== 'string' || !HEX16.test(x)) throw new Error('fromWire: malformed bigint');
        return x.startsWith('-') ? -BigInt('0x' + x.slice(1)) : BigInt('0x' + x);
      case '$u':
        return undefined;
      case '$m':
        if (!Array.isArray(x)) throw new Error('fromWire: malformed map');
        return new Map(
          x.map((e) => {
            if (!Array.isArray(e) || e.length !== 2) throw new Error('fromWire: malformed map entry');
            return [fromWire(e[0], depth + 1), fromWire(e[1], depth + 1)] as const;
          }),
        );
      case '$s':
        if (!Array.isArray(x)) throw new Error('fromWire: malformed set');
        return new Set(x.map((e) => fromWire(e, depth + 1)));
      case '$o': {
        if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('fromWire: malformed escape');
        const out: Record<string, unknown> = {};
        for (const [kk, vv] of Object.entries(x)) out[kk] = fromWire(vv, depth + 1);
        return out;
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = fromWire(o[k], depth + 1);
  return out;
}

export function stringifyWire(v: unknown): string {
  return JSON.stringify(toWire(v));
}

export function parseWire(s: string): unknown {
  return fromWire(JSON.parse(s));
}

/** Human-oriented form for traces and reports. Never read back as machine state. */
export function toDisplay(v: unknown, depth = 0): unknown {
  if (depth > 64) return '…';
  switch (typeof v) {
    case 'bigint':
      return '0x' + hex16(v);
    case 'undefined':
      return null;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) return v.map((x) => toDisplay(x, depth + 1));
      if (v instanceof Map) {
        const entries = [...v];
        if (entries.every(([k]) => typeof k === 'string')) {
          const o: Record<string, unknown> = {};
          for (const [k, x] of entries) o[k as string] = toDisplay(x, depth + 1);
          return o;
        }
        return entries.map(([k, x]) => [toDisplay(k, depth + 1), toDisplay(x, depth + 1)]);
      }
      if (v instanceof Set) return [...v].map((x) => toDisplay(x, depth + 1));
      if (ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) out[k] = toDisplay((v as Record<string, unknown>)[k], depth + 1);
      return out;
    }
    case 'function':
      return '<function>';
    default:
      return v;
  }
}

export function stringifyDisplay(v: unknown): string {
  return JSON.stringify(toDisplay(v));
}

/**
 * The display form with strings cut at `stringMax` characters, or null when it would exceed
 * `maxValues` values (counting every scalar,
 * array element and map or object entry): traces elide states too large to be worth writing.
 */
export function toDisplayBounded(v: unknown, maxValues: number, stringMax = 160): unknown | null {
  let budget = maxValues;
  const walk = (x: unknown, depth: number): unknown => {
    if (--budget < 0) throw ELIDED;
    if (depth > 64) return '…';
    switch (typeof x) {
      case 'bigint':
        return '0x' + hex16(x);
      case 'undefined':
        return null;
      case 'object': {
        if (x === null) return null;
        if (Array.isArray(x)) return x.map((e) => walk(e, depth + 1));
        if (x instanceof Map) {
          const entries = [...x];
          if (entries.every(([k]) => typeof k === 'string')) {
            const o: Record<string, unknown> = {};
            for (const [k, e] of entries) o[k as string] = walk(e, depth + 1);
            return o;
          }
          return entries.map(([k, e]) => [walk(k, depth + 1), walk(e, depth + 1)]);
        }
        if (x instanceof Set) return [...x].map((e) => walk(e, depth + 1));
        if (ArrayBuffer.isView(x)) return `<${x.byteLength} bytes>`;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(x)) out[k] = walk((x as Record<string, unknown>)[k], depth + 1);
        return out;
      }
      case 'function':
        return '<function>';
      case 'string':
        return x.length > stringMax ? `${x.slice(0, stringMax)}…(${x.length} chars)` : x;
      default:
        return x;
    }
  };
  try {
    return walk(v, 0);
  } catch (e) {
    if (e === ELIDED) return null;
    throw e;
  }
}

const ELIDED = Symbol('elided');
