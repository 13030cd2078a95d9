/**
 * The envelopes the real runtime exchanges over TCP, and their validation. Every frame is checked
 * before anything acts on it: the size (by the frame decoder), the JSON and its wire encoding
 * (`parseWire`), the envelope's shape for the connection's state, the sender's identity, and,
 * when the system provides one, the message body's shape (`NodeSpec.wire`). Anything wrong
 * throws `FrameError('malformed')`, and the connection it came on is closed; nothing else is.
 *
 * A connection opens with one `hello` naming the cluster, the connecting party and the node it
 * wants. Two kinds exist:
 * - `peer`: node to node. Carries `msg` frames one way (each node dials its own outgoing link to
 *   every peer it sends to), so the receiver knows the sender from the handshake alone.
 * - `client`: a workload driver, a real client or an operator tool. Carries `req` and `status`
 *   to the node and `rep` and `statusRep` back.
 */
import type { NodeId } from '../../core/contract.ts';
import { parseWire, stringifyWire } from '../../core/json.ts';
import { encodeFrame, FrameError } from './frame.ts';

export const WIRE_VERSION = 1;
const ID_RE = /^[A-Za-z0-9_.:#@-]{1,128}$/;
const REQ_ID_MAX = 256;

export type Hello = {
  readonly t: 'hello';
  readonly v: number;
  readonly cluster: string;
  readonly kind: 'peer' | 'client';
  readonly from: string;
  readonly to: NodeId;
  /** With a cluster secret (auth.ts): a fresh nonce, the sender's time in ms and the HMAC. */
  readonly nonce?: string;
  readonly ts?: number;
  readonly mac?: string;
};
export type PeerFrame = { readonly t: 'msg'; readonly msg: unknown };
export type ClientFrame =
  | { readonly t: 'req'; readonly reqId: string; readonly body: unknown }
  | { readonly t: 'status'; readonly id: number }
  /** The machine's current state (for a real run's final checks and its `done` poll). */
  | { readonly t: 'state'; readonly id: number };
export type NodeStatus = {
  readonly node: NodeId;
  readonly role: string;
  readonly pid: number;
  /** 'running', 'starting', 'halted' (after a fatal effect), or 'stopped'. */
  readonly phase: 'starting' | 'running' | 'halted' | 'stopped';
  readonly booted: 'start' | 'restart' | null;
  readonly steps: number;
  readonly uptimeMs: number;
  readonly fatal: string | null;
  /** Drivers: whether the system's workload is done (`SystemInstance.done`); null for other nodes. */
  readonly workloadDone: boolean | null;
  /** Invariant violations this node's host detected after its own steps. */
  readonly violations: number;
  readonly uv: string;
  readonly ioUring: string | null;
  readonly counters: Readonly<Record<string, number>>;
};
export type ServerFrame =
  | { readonly t: 'rep'; readonly reqId: string; readonly body: unknown }
  | { readonly t: 'statusRep'; readonly id: number; readonly status: NodeStatus }
  /** `state` is undefined when the node has none to give (`error` says why). */
  | { readonly t: 'stateRep'; readonly id: number; readonly state: unknown; readonly error: string | null };

export function isValidId(s: unknown): s is string {
  return typeof s === 'string' && ID_RE.test(s);
}

function malformed(why: string): never {
  throw new FrameError('malformed', why);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map || v instanceof Set) malformed(`${what} is not an object`);
  return v as Record<string, unknown>;
}

/** One strict decoder for every frame (without `stream`, `decode` keeps no state between calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** JSON (wire encoding) of one frame payload; a syntax or encoding error is a malformed frame. */
export function decodePayload(payload: Buffer): unknown {
  let text: string;
  try {
    text = UTF8.decode(payload);
  } catch {
    return malformed('payload is not valid UTF-8');
  }
  try {
    return parseWire(text);
  } catch (e) {
    return malformed(`payload is not valid wire JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

export function encodeEnvelope(env: Hello | PeerFrame | ClientFrame | ServerFrame, maxBytes: number): Buffer {
  return encodeFrame(stringifyWire(env), maxBytes);
}

export function parseHello(v: unknown): Hello {
  const o = asObject(v, 'handshake');
  if (o.t !== 'hello') malformed(`expected a hello frame first, got ${JSON.stringify(String(o.t)).slice(0, 40)}`);
  if (o.v !== WIRE_VERSION) malformed(`unsupported wire version ${String(o.v).slice(0, 20)} (this node speaks ${WIRE_VERSION})`);
  if (typeof o.cluster !== 'string' || o.cluster.length === 0 || o.cluster.length > 128) malformed('hello.cluster must be a non-empty string');
  if (o.kind !== 'peer' && o.kind !== 'client') malformed('hello.kind must be peer or client');
  if (!isValidId(o.from)) malformed('hello.from is not a valid id');
  if (!isValidId(o.to)) malformed('hello.to is not a valid node id');
  const h: Hello = { t: 'hello', v: WIRE_VERSION, cluster: o.cluster, kind: o.kind, from: o.from, to: o.to };
  if (o.mac === undefined) return h;
  if (typeof o.mac !== 'string' || o.mac.length > 128) malformed('hello.mac must be a string');
  if (typeof o.nonce !== 'string' || !/^[0-9a-f]{16,128}$/.test(o.nonce)) malformed('hello.nonce must be hex');
  if (!Number.isSafeInteger(o.ts)) malformed('hello.ts must be an integer');
  return { ...h, nonce: o.nonce, ts: o.ts as number, mac: o.mac };
}

/** A frame on an accepted peer connection: only `msg`, whose body is an object with a string `type`. */
export function parsePeerFrame(v: unknown): PeerFrame {
  const o = asObject(v, 'peer frame');
  if (o.t !== 'msg') malformed(`a peer connection carries only msg frames, got ${JSON.stringify(String(o.t)).slice(0, 40)}`);
  const m = asObject(o.msg, 'msg');
  if (typeof m.type !== 'string') malformed('msg.type must be a string');
  return { t: 'msg', msg: m };
}

export function parseClientFrame(v: unknown): ClientFrame {
  const o = asObject(v, 'client frame');
  switch (o.t) {
    case 'req':
      if (typeof o.reqId !== 'string' || o.reqId.length === 0 || o.reqId.length > REQ_ID_MAX) malformed('req.reqId must be a string of 1..256 characters');
      if (!('body' in o)) malformed('req.body is missing');
      return { t: 'req', reqId: o.reqId, body: o.body };
    case 'status':
    case 'state':
      if (!Number.isSafeInteger(o.id)) malformed(`${o.t}.id must be an integer`);
      return { t: o.t, id: o.id as number };
    default:
      return malformed(`a client connection carries req, status and state frames, got ${JSON.stringify(String(o.t)).slice(0, 40)}`);
  }
}

export function parseServerFrame(v: unknown): ServerFrame {
  const o = asObject(v, 'server frame');
  switch (o.t) {
    case 'rep':
      if (typeof o.reqId !== 'string' || o.reqId.length === 0 || o.reqId.length > REQ_ID_MAX) malformed('rep.reqId must be a string of 1..256 characters');
      if (!('body' in o)) malformed('rep.body is missing');
      return { t: 'rep', reqId: o.reqId, body: o.body };
    case 'statusRep': {
      if (!Number.isSafeInteger(o.id)) malformed('statusRep.id must be an integer');
      const s = asObject(o.status, 'statusRep.status');
      if (!isValidId(s.node) || typeof s.role !== 'string' || typeof s.phase !== 'string') malformed('statusRep.status lacks node, role or phase');
      return { t: 'statusRep', id: o.id as number, status: s as unknown as NodeStatus };
    }
    case 'stateRep':
      if (!Number.isSafeInteger(o.id)) malformed('stateRep.id must be an integer');
      if (o.error !== null && typeof o.error !== 'string') malformed('stateRep.error must be a string or null');
      return { t: 'stateRep', id: o.id as number, state: o.state, error: o.error as string | null };
    default:
      return malformed(`a server sends rep, statusRep and stateRep frames, got ${JSON.stringify(String(o.t)).slice(0, 40)}`);
  }
}
