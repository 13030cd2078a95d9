/**
 * Halfmoon's data model (spec §1.3-§1.5, §3.1, §4.1): modes, step records, stream tags, store
 * rows and versions.
 *
 * Stream tags. Every stream name (`step/<iid>`, `key/<len(t)>:<t>/<k>`, `INTENT`) maps to a
 * 64-bit tag through a stable hash truncated to `tagBits` bits. With the canonical 62 bits a
 * collision is practically impossible, and readers still filter records whose iid or (table, key)
 * differs and count them (spec §10.1 item 8); the `step-hash-collision-fatal` variant narrows the
 * width to 3 bits and treats a foreign record as fatal, as the artifact does.
 */
import { Hash64 } from '../core/hash.ts';
import { parseWire, stringifyWire } from '../core/json.ts';

/** A protocol's mode tag (built-ins: BOKI, HMR, HMW, TRANS, UNSAFE; see protocols.ts defineProtocol). */
export type Mode = string;

/** JSON-compatible values handled by workflow functions. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

/**
 * An effective version: (s, w, iid) compared lexicographically. HM-W writes use (cursor, write
 * counter, iid); PostWrites (p, 0, iid); Boki writes (PreWrite seqnum, 0, iid); markers carry
 * their source's version.
 */
export interface Version {
  readonly s: bigint;
  readonly w: number;
  readonly iid: string;
}

export const VERSION_ZERO: Version = { s: 0n, w: 0, iid: '' };

export function versionCmp(a: Version, b: Version): number {
  if (a.s !== b.s) return a.s < b.s ? -1 : 1;
  if (a.w !== b.w) return a.w < b.w ? -1 : 1;
  return a.iid < b.iid ? -1 : a.iid > b.iid ? 1 : 0;
}

export function versionLess(a: Version, b: Version): boolean {
  return versionCmp(a, b) < 0;
}

/** The version-float64 variant: versions stored as float64 lose low bits of large seqnums. */
export function versionAsFloat(v: Version): Version {
  return { s: BigInt(Math.round(Number(v.s))), w: v.w, iid: v.iid };
}

export type StepRecord =
  | { readonly kind: 'Intent'; readonly iid: string; readonly step: number; readonly input: Json; readonly mode: Mode; readonly async: boolean }
  | { readonly kind: 'Done'; readonly iid: string; readonly step: number; readonly output: Json }
  | { readonly kind: 'PreWrite'; readonly iid: string; readonly step: number; readonly table: string; readonly key: string }
  | {
      readonly kind: 'PostWrite';
      readonly iid: string;
      readonly step: number;
      readonly table: string;
      readonly key: string;
      /** The PreWrite seqnum: the version row k@v holding the value. */
      readonly version: bigint;
    }
  | {
      readonly kind: 'PostRead';
      readonly iid: string;
      readonly step: number;
      /** Absent under the postread-untyped variant (the artifact before 22c5fb0). */
      readonly table?: string;
      readonly key?: string;
      readonly value: Json;
      readonly version: Version;
    }
  | {
      readonly kind: 'PreInvoke';
      readonly iid: string;
      readonly step: number;
      readonly calleeIid: string;
      readonly fn: string;
      readonly input: Json;
      readonly async: boolean;
      readonly mode: Mode;
      /** The invoke's position among the caller's operations (names the callee's logical path). */
      readonly ordinal: number;
    }
  | {
      readonly kind: 'InvokeResult';
      readonly iid: string;
      readonly step: number;
      readonly calleeIid: string;
      readonly output: Json;
      readonly calleeCursor: bigint;
      readonly calleeW: number;
    }
  | {
      readonly kind: 'Marker';
      readonly iid: string;
      readonly step: number;
      readonly table: string;
      readonly key: string;
      /** The row k@version that holds the value. */
      readonly version: bigint;
      readonly sourceVersion: Version;
    }
  | { readonly kind: 'ReconcilePre'; readonly iid: string; readonly step: number; readonly table: string; readonly key: string };

export type RecordKind = StepRecord['kind'];

/** Boki post-step records ride beside a step instead of occupying its slot. */
export interface Envelope {
  readonly rec: StepRecord;
  /** Boki only: a post-step (PostWrite, InvokeResult) of `rec.step`. */
  readonly post?: boolean;
  /** Boki only: an intent or done marker of one execution, outside the step numbering. */
  readonly marker?: boolean;
}

export function encodeRecord(env: Envelope): string {
  return stringifyWire(env);
}

export function decodeRecord(data: string): Envelope | null {
  try {
    const v = parseWire(data) as Envelope;
    if (typeof v !== 'object' || v === null || typeof v.rec !== 'object' || v.rec === null) return null;
    if (typeof v.rec.kind !== 'string' || typeof v.rec.iid !== 'string' || typeof v.rec.step !== 'number') return null;
    return v;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Tags

export interface TagScheme {
  readonly bits: number;
  /** keytag-xor-symmetric: key tag = h(t) XOR h(k), so (a, b) and (b, a) collide. */
  readonly xorKeys: boolean;
}

export const CANONICAL_TAGS: TagScheme = { bits: 62, xorKeys: false };

function hash64(s: string): bigint {
  const h = new Hash64(0x74616773);
  h.str(s);
  const [a, b] = h.finish();
  return (BigInt(a >>> 0) << 32n) | BigInt(b >>> 0);
}

function truncate(x: bigint, bits: number): bigint {
  const t = x & ((1n << BigInt(bits)) - 1n);
  // Tag 0 means "any record" and may not be appended; shift the space up by one.
  return t + 1n;
}

export function stepTag(scheme: TagScheme, iid: string): bigint {
  return truncate(hash64(`step/${iid}`), scheme.bits);
}

export function keyTag(scheme: TagScheme, table: string, key: string): bigint {
  if (scheme.xorKeys) return truncate(hash64(`t/${table}`) ^ hash64(`t/${key}`), scheme.bits);
  return truncate(hash64(`key/${table.length}:${table}/${key}`), scheme.bits);
}

export function intentTag(scheme: TagScheme): bigint {
  return truncate(hash64('INTENT'), scheme.bits);
}

// ---------------------------------------------------------------------------------------------
// Store rows (spec §3.1): k@INIT, k@BASE, and version rows k@v.

export type RowSuffix = 'INIT' | 'BASE' | bigint;

export function rowName(table: string, key: string, suffix: RowSuffix): string {
  const s = typeof suffix === 'bigint' ? `v${suffix.toString(16)}` : suffix;
  return `${table}/${key}@${s}`;
}

export function rowKeyOf(row: string): { table: string; key: string; suffix: string } {
  const at = row.lastIndexOf('@');
  const tk = row.slice(0, at);
  const slash = tk.indexOf('/');
  return { table: tk.slice(0, slash), key: tk.slice(slash + 1), suffix: row.slice(at + 1) };
}
