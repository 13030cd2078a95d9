/**
 * The example protocol: a linearizable read/write register replicated over N replicas with
 * quorums (Attiya, Bar-Noy and Dolev, "Sharing Memory Robustly in Message-Passing Systems", 1995).
 * It is small enough to read in one sitting and exercises everything the node contract offers:
 * messages, retransmission timers, durable state with sync-before-ack, client requests.
 *
 * - A *replica* stores the pair (timestamp, value), durably. `get` returns it; `put(ts, v)` keeps
 *   the larger timestamp and acknowledges once the result is synced.
 * - A *client* node (the client library) runs one operation at a time in two phases: query a
 *   majority for the largest (ts, v), then update a majority: a write stores (ts.n + 1, self, v),
 *   a read writes back what it found before returning it. Unanswered replicas are retried on a
 *   timer, so message loss delays an operation but never loses it.
 *
 * Deliberately broken variants, one per fault kind, show that the checkers catch what each fault
 * exposes (see VARIANTS below).
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Ctx, DiskImage, Effect, Machine, StepResult } from '../core/contract.ts';
import { cancelTimer, persist, reply, send, setTimer } from '../core/contract.ts';

export interface Ts {
  readonly n: number;
  readonly w: string;
}

export const TS0: Ts = { n: 0, w: '' };

export function tsLess(a: Ts, b: Ts): boolean {
  return a.n < b.n || (a.n === b.n && a.w < b.w);
}

export type RegisterVariant =
  | 'no-retransmit'
  | 'count-acks'
  | 'no-ts-compare'
  | 'ack-before-sync'
  | 'volatile-state'
  | 'read-one'
  | 'expire-old-puts'
  | 'timeout-commit'
  | 'wallclock-ts';

export const VARIANTS: readonly { name: RegisterVariant; fault: string; description: string }[] = [
  { name: 'no-retransmit', fault: 'drop', description: 'clients never resend, so a dropped message stalls an operation forever' },
  { name: 'count-acks', fault: 'duplicate', description: 'clients count acknowledgements, not distinct replicas, so duplicates fake a quorum' },
  { name: 'no-ts-compare', fault: 'reorder', description: 'replicas store every put, so a late older put overwrites a newer value' },
  { name: 'ack-before-sync', fault: 'crash', description: 'replicas acknowledge puts before syncing them, so a crash loses acknowledged writes' },
  { name: 'volatile-state', fault: 'restart', description: 'replicas keep their register only in memory, so a restart forgets it' },
  { name: 'read-one', fault: 'partition', description: 'reads trust the first replica that answers and skip the write-back' },
  { name: 'expire-old-puts', fault: 'delay', description: 'replicas acknowledge but ignore puts older than 20 ms by their clock, assuming bounded delay' },
  { name: 'timeout-commit', fault: 'pause', description: 'a client that waited 30 ms for a quorum gives up and reports success anyway' },
  { name: 'wallclock-ts', fault: 'clockSkew', description: 'writes skip the query phase and take their timestamp from the local clock' },
];

export type RegMsg =
  | { readonly type: 'get'; readonly opId: string }
  | { readonly type: 'getAck'; readonly opId: string; readonly ts: Ts; readonly value: string | null }
  | { readonly type: 'put'; readonly opId: string; readonly ts: Ts; readonly value: string | null; readonly sentAtUs: number }
  | { readonly type: 'putAck'; readonly opId: string };

export type RegReq = { readonly op: 'read' } | { readonly op: 'write'; readonly value: string };
export type RegRep = { readonly ok: true; readonly value: string | null };

export interface ReplicaConfig {
  readonly variant: RegisterVariant | null;
}

/** Configs are immutable plain data; machines carry theirs in their state. */
export interface ReplicaState {
  readonly cfg: ReplicaConfig;
  ts: Ts;
  value: string | null;
}

const PUT_MAX_AGE_US = 20_000;

type Eff = Effect<RegMsg, RegReq, RegRep>;

export const replicaMachine: Machine<ReplicaConfig, ReplicaState, RegMsg, RegReq, RegRep> = {
  role: 'replica',
  init: (cfg) => ({ cfg, ts: TS0, value: null }),
  recover(cfg, _self, disk: DiskImage) {
    if (cfg.variant === 'volatile-state') return { cfg, ts: TS0, value: null };
    const saved = disk.get('register') as { ts: Ts; value: string | null } | undefined;
    return saved ? { cfg, ts: saved.ts, value: saved.value } : { cfg, ts: TS0, value: null };
  },
  step(s, input, ctx): StepResult<ReplicaState, Eff> {
    if (input.type !== 'message') return { state: s, effects: [] };
    const { from, msg } = input;
    switch (msg.type) {
      case 'get':
        return { state: s, effects: [send(from, { type: 'getAck', opId: msg.opId, ts: s.ts, value: s.value })] };
      case 'put':
        return replicaPut(s, from, msg, ctx);
      case 'getAck':
      case 'putAck':
        return { state: s, effects: [] }; // replicas never ask; a stray ack is ignored
      default:
        return assertNever(msg, 'register message');
    }
  },
};

function replicaPut(s: ReplicaState, from: string, msg: Extract<RegMsg, { type: 'put' }>, ctx: Ctx): StepResult<ReplicaState, Eff> {
  const variant = s.cfg.variant;
  const ack = send<RegMsg>(from, { type: 'putAck', opId: msg.opId });
  if (variant === 'expire-old-puts' && ctx.nowUs - msg.sentAtUs > PUT_MAX_AGE_US) {
    return { state: s, effects: [ack] }; // the bug: acknowledged, never applied
  }
  const newer = variant === 'no-ts-compare' ? true : tsLess(s.ts, msg.ts);
  if (!newer) return { state: s, effects: [ack] };
  s.ts = msg.ts;
  s.value = msg.value;
  if (variant === 'volatile-state') return { state: s, effects: [ack] };
  // Canonically the put is synced before the acknowledgement leaves (effects run in order).
  const sync = variant !== 'ack-before-sync';
  return { state: s, effects: [persist('register', { ts: s.ts, value: s.value }, sync), ack] };
}

// ---------------------------------------------------------------------------------------------
// Client (the client library, coordinating one operation at a time)

export interface ClientConfig {
  readonly replicas: readonly string[];
  readonly retransmitUs: number;
  /** Only for the timeout-commit variant: how long a client waits before it gives up. */
  readonly giveUpUs: number;
  readonly variant: RegisterVariant | null;
}

interface Op {
  readonly reqId: string;
  readonly req: RegReq;
  phase: 'query' | 'update';
  /** Operation id of the current phase; replies from other phases are stale. */
  opId: string;
  /** Replicas that answered this phase (or, under `count-acks`, one entry per answer). */
  acked: string[];
  best: { ts: Ts; value: string | null };
  /** What the update phase writes. */
  put: { ts: Ts; value: string | null } | null;
}

export interface ClientState {
  readonly cfg: ClientConfig;
  op: Op | null;
  /** Operations that arrived while one was running, in order. */
  queue: { reqId: string; req: RegReq }[];
  /** Completed request ids and their answers, so a duplicate request gets the same reply. */
  done: Map<string, RegRep>;
  seq: number;
}

const QUEUE_MAX = 1000;

function majority(c: ClientConfig): number {
  return Math.floor(c.replicas.length / 2) + 1;
}

export const clientMachine: Machine<ClientConfig, ClientState, RegMsg, RegReq, RegRep> = {
  role: 'client',
  init: (cfg) => ({ cfg, op: null, queue: [], done: new Map(), seq: 0 }),
  // The client library keeps nothing durable: a restarted client forgets its operations, which
  // the history then shows as calls without returns (indeterminate), as for a real client.
  recover: (cfg) => ({ cfg, op: null, queue: [], done: new Map(), seq: 0 }),
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
        break;
      case 'client': {
        const prev = s.done.get(input.reqId);
        if (prev) {
          out.push(reply(input.reqId, prev));
          break;
        }
        if (s.op?.reqId === input.reqId || s.queue.some((q) => q.reqId === input.reqId)) break;
        assert(s.queue.length < QUEUE_MAX, 'client queue over its limit');
        s.queue.push({ reqId: input.reqId, req: input.body });
        if (s.op === null) beginNext(s, ctx, out);
        break;
      }
      case 'message':
        onReply(s, input.from, input.msg, ctx, out);
        break;
      case 'timer':
        if (input.timer === 'retransmit' && s.op !== null && s.cfg.variant !== 'no-retransmit') {
          broadcast(s, ctx, out, true);
          out.push(setTimer('retransmit', s.cfg.retransmitUs));
        }
        if (input.timer === 'giveUp' && s.op !== null) {
          // The timeout-commit bug: silence is taken for success.
          const op = s.op;
          complete(s, ctx, out, { ok: true, value: op.req.op === 'write' ? op.req.value : op.best.value });
        }
        break;
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function beginNext(s: ClientState, ctx: Ctx, out: Eff[]): void {
  const next = s.queue.shift();
  if (!next) return;
  const op: Op = {
    reqId: next.reqId,
    req: next.req,
    phase: 'query',
    opId: `${ctx.self}:${++s.seq}`,
    acked: [],
    best: { ts: TS0, value: null },
    put: null,
  };
  s.op = op;
  if (s.cfg.variant === 'timeout-commit') out.push(setTimer('giveUp', s.cfg.giveUpUs));
  if (s.cfg.variant === 'wallclock-ts' && next.req.op === 'write') {
    // The bug: no query phase; the local clock orders writes.
    startUpdate(s, ctx, out, { ts: { n: ctx.nowUs, w: ctx.self }, value: next.req.value });
    return;
  }
  broadcast(s, ctx, out, false);
  out.push(setTimer('retransmit', s.cfg.retransmitUs));
}

function startUpdate(s: ClientState, ctx: Ctx, out: Eff[], put: { ts: Ts; value: string | null }): void {
  const op = s.op!;
  op.phase = 'update';
  op.opId = `${ctx.self}:${++s.seq}`;
  op.acked = [];
  op.put = put;
  broadcast(s, ctx, out, false);
  out.push(setTimer('retransmit', s.cfg.retransmitUs));
}

function broadcast(s: ClientState, ctx: Ctx, out: Eff[], onlyMissing: boolean): void {
  const op = s.op!;
  for (const r of s.cfg.replicas) {
    if (onlyMissing && op.acked.includes(r)) continue;
    if (op.phase === 'query') out.push(send(r, { type: 'get', opId: op.opId }));
    else out.push(send(r, { type: 'put', opId: op.opId, ts: op.put!.ts, value: op.put!.value, sentAtUs: ctx.nowUs }));
  }
}

function onReply(s: ClientState, from: string, msg: RegMsg, ctx: Ctx, out: Eff[]): void {
  const op = s.op;
  if (op === null || !('opId' in msg) || msg.opId !== op.opId) return; // stale or stray
  const v = s.cfg.variant;
  if (msg.type === 'getAck' && op.phase === 'query') {
    if (!op.acked.includes(from)) {
      op.acked.push(from);
      if (tsLess(op.best.ts, msg.ts)) op.best = { ts: msg.ts, value: msg.value };
    } else if (v === 'count-acks') op.acked.push(from);
    if (v === 'read-one' && op.req.op === 'read') return complete(s, ctx, out, { ok: true, value: op.best.value });
    if (op.acked.length < majority(s.cfg)) return;
    if (op.req.op === 'write') {
      return startUpdate(s, ctx, out, { ts: { n: op.best.ts.n + 1, w: ctx.self }, value: op.req.value });
    }
    return startUpdate(s, ctx, out, { ts: op.best.ts, value: op.best.value });
  }
  if (msg.type === 'putAck' && op.phase === 'update') {
    if (!op.acked.includes(from)) op.acked.push(from);
    else if (v === 'count-acks') op.acked.push(from);
    if (op.acked.length < majority(s.cfg)) return;
    return complete(s, ctx, out, { ok: true, value: op.req.op === 'read' ? op.put!.value : op.req.value });
  }
}

function complete(s: ClientState, ctx: Ctx, out: Eff[], rep: RegRep): void {
  const op = s.op!;
  s.done.set(op.reqId, rep);
  out.push(reply(op.reqId, rep));
  out.push(cancelTimer('retransmit'), cancelTimer('giveUp'));
  s.op = null;
  beginNext(s, ctx, out);
}
