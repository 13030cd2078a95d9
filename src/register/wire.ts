/**
 * Shape checks for register bodies that arrive over a real network (`NodeSpec.wire`): the real
 * runtime closes a connection that carries anything else, so a machine only ever sees the types
 * it declares. Hand-written: they run on every frame.
 */
import type { WireChecks } from '../core/system.ts';

const VALUE_MAX = 64 * 1024;
const ID_MAX = 256;

function isTs(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as { n?: unknown; w?: unknown };
  return Number.isSafeInteger(t.n) && (t.n as number) >= 0 && typeof t.w === 'string' && t.w.length <= ID_MAX;
}

function isValue(v: unknown): boolean {
  return v === null || (typeof v === 'string' && v.length <= VALUE_MAX);
}

function isOpId(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0 && v.length <= ID_MAX;
}

/** Any register message (replicas and clients both tolerate, and ignore, the other side's). */
export function checkRegMsg(m: unknown): string | null {
  const o = m as Record<string, unknown>;
  if (!isOpId(o.opId)) return 'opId must be a non-empty string';
  switch (o.type) {
    case 'get':
    case 'putAck':
      return null;
    case 'getAck':
      return isTs(o.ts) && isValue(o.value) ? null : 'getAck needs ts {n, w} and a value (string or null)';
    case 'put':
      if (!isTs(o.ts) || !isValue(o.value)) return 'put needs ts {n, w} and a value (string or null)';
      return Number.isSafeInteger(o.sentAtUs) ? null : 'put.sentAtUs must be an integer';
    default:
      return `unknown message type ${JSON.stringify(o.type)}`;
  }
}

export function checkRegReq(b: unknown): string | null {
  if (typeof b !== 'object' || b === null) return 'request must be an object';
  const o = b as Record<string, unknown>;
  if (o.op === 'read') return null;
  if (o.op === 'write') return typeof o.value === 'string' && o.value.length <= VALUE_MAX ? null : 'write needs a string value';
  return "op must be 'read' or 'write'";
}

export function checkRegRep(b: unknown): string | null {
  if (typeof b !== 'object' || b === null) return 'reply must be an object';
  const o = b as Record<string, unknown>;
  return o.ok === true && isValue(o.value) ? null : 'reply must be {ok: true, value}';
}

export const REPLICA_WIRE: WireChecks = { message: checkRegMsg };
export const CLIENT_WIRE: WireChecks = { message: checkRegMsg, request: checkRegReq, reply: checkRegRep };
