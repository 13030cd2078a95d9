/**
 * A user's own system, written against halfmoon's public API only: chain replication (van
 * Renesse and Schneider, OSDI'04) of one register. Writes enter at the head, which orders them
 * (a sequence number per write) and passes them down the chain; the tail applies them and
 * acknowledges to the client. Reads go to the tail. Clients retransmit until answered, and the
 * head de-duplicates retransmitted writes, so a lost or late message never applies a write twice.
 *
 * The broken variant `ack-at-head` acknowledges a write as soon as the head has it, before the
 * tail does: a read that follows the acknowledgement at the tail can still see the older value,
 * which the linearizability checker reports.
 *
 * Load it with `halfmoon <command> --plugin chain.ts`, or list it in a scenario's `plugins:`.
 */
import { cancelTimer, defineSystem, linearizabilityChecker, livenessChecker, registerDriverDone, registerDriverMachine, registerSpec, reply, send, setTimer, type Effect, type Machine, type NodeSpec, type RegDriverState } from 'halfmoon';

type Msg =
  | { type: 'write'; id: string; value: string; client: string }
  | { type: 'update'; id: string; seq: number; value: string; client: string }
  | { type: 'ack'; id: string }
  | { type: 'read'; id: string; client: string }
  | { type: 'value'; id: string; value: string | null };
type Req = { op: 'read' } | { op: 'write'; value: string };
type Rep = { ok: boolean; value: string | null };

interface ReplicaConfig {
  readonly chain: readonly string[];
  readonly variant: string | null;
}
interface ReplicaState {
  readonly cfg: ReplicaConfig;
  seq: number;
  value: string | null;
  /** At the head: write id -> its sequence number and value (de-duplicates retransmissions). */
  ordered: Record<string, { seq: number; value: string }>;
  nextSeq: number;
}

const replica: Machine<ReplicaConfig, ReplicaState, Msg, Req, Rep> = {
  role: 'replica',
  init: (cfg) => ({ cfg, seq: 0, value: null, ordered: {}, nextSeq: 1 }),
  // No disk: a restarted replica starts empty (this example runs without crashes).
  recover: (cfg) => ({ cfg, seq: 0, value: null, ordered: {}, nextSeq: 1 }),
  step(s, input, ctx) {
    if (input.type !== 'message') return { state: s, effects: [] };
    const { chain, variant } = s.cfg;
    const me = chain.indexOf(ctx.self);
    const next = chain[me + 1];
    const out: Effect<Msg>[] = [];
    const m = input.msg;
    switch (m.type) {
      case 'write': {
        // Only the head receives writes; it orders each write id once.
        let o = s.ordered[m.id];
        if (!o) {
          o = { seq: s.nextSeq++, value: m.value };
          s.ordered[m.id] = o;
        }
        if (variant === 'ack-at-head') out.push(send(m.client, { type: 'ack', id: m.id }));
        out.push(...apply(s, { type: 'update', id: m.id, seq: o.seq, value: o.value, client: m.client }, next, variant));
        break;
      }
      case 'update':
        out.push(...apply(s, m, next, variant));
        break;
      case 'read':
        // Only the tail answers reads: it holds exactly the acknowledged writes.
        out.push(send(m.client, { type: 'value', id: m.id, value: s.value }));
        break;
      default:
        break;
    }
    return { state: s, effects: out };
  },
};

/** Applies an update (in sequence order, once) and passes it on; the tail acknowledges. */
function apply(s: ReplicaState, u: Extract<Msg, { type: 'update' }>, next: string | undefined, variant: string | null): Effect<Msg>[] {
  if (u.seq > s.seq) {
    s.seq = u.seq;
    s.value = u.value;
  }
  if (next !== undefined) return [send(next, u)];
  return variant === 'ack-at-head' ? [] : [send(u.client, { type: 'ack', id: u.id })];
}

interface ClientConfig {
  readonly head: string;
  readonly tail: string;
  readonly retransmitUs: number;
}
interface ClientState {
  cfg: ClientConfig;
  /** The operation in flight: the driver's request id, what it asks, and how often it was sent. */
  pending: { reqId: string; req: Req; sent: number } | null;
}

const client: Machine<ClientConfig, ClientState, Msg, Req, Rep> = {
  role: 'client',
  init: (cfg) => ({ cfg, pending: null }),
  recover: (cfg) => ({ cfg, pending: null }),
  step(s, input, ctx) {
    const out: Effect<Msg, Req, Rep>[] = [];
    const transmit = () => {
      const p = s.pending!;
      p.sent++;
      const id = p.reqId;
      out.push(p.req.op === 'write' ? send(s.cfg.head, { type: 'write', id, value: p.req.value, client: ctx.self }) : send(s.cfg.tail, { type: 'read', id, client: ctx.self }));
      out.push(setTimer(`retransmit:${id}`, s.cfg.retransmitUs));
    };
    switch (input.type) {
      case 'client':
        s.pending = { reqId: input.reqId, req: input.body, sent: 0 };
        transmit();
        break;
      case 'timer':
        if (s.pending && input.timer === `retransmit:${s.pending.reqId}` && s.pending.sent < 50) transmit();
        break;
      case 'message': {
        const m = input.msg;
        if (!s.pending || (m.type !== 'ack' && m.type !== 'value') || m.id !== s.pending.reqId) break;
        const body: Rep = m.type === 'ack' ? { ok: true, value: null } : { ok: true, value: m.value };
        out.push(cancelTimer(`retransmit:${s.pending.reqId}`), reply(s.pending.reqId, body));
        s.pending = null;
        break;
      }
      default:
        break;
    }
    return { state: s, effects: out };
  },
};

export interface ChainParams {
  replicas: number;
  clients: number;
  opsPerClient: number;
  readRatio: number;
  thinkUsMax: number;
  retransmitUs: number;
  livenessBoundUs: number;
}

export const chainSystem = defineSystem<ChainParams>({
  name: 'chain',
  description: 'chain replication of one register (a plugin: examples/own-system/chain.ts)',
  defaults: { replicas: 3, clients: 2, opsPerClient: 2, readRatio: 0.5, thinkUsMax: 1000, retransmitUs: 20_000, livenessBoundUs: 2_000_000 },
  shrinkable: ['opsPerClient', 'clients'],
  variants: [{ name: 'ack-at-head', description: 'the head acknowledges a write before the tail has it', exposedBy: 'chain.yaml: a read at the tail right after an acknowledged write' }],
  validate(p) {
    for (const [k, lo, hi] of [['replicas', 1, 9], ['clients', 1, 16], ['opsPerClient', 0, 10_000], ['thinkUsMax', 0, 10_000_000], ['retransmitUs', 1, 10_000_000]] as const) {
      const v = p[k];
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`params.${k}: an integer in [${lo}, ${hi}], got ${v}`);
    }
  },
  build(p, variant) {
    const chain = Array.from({ length: p.replicas }, (_, i) => `n${i}`);
    const clients = Array.from({ length: p.clients }, (_, i) => `cl${i}`);
    const nodes: NodeSpec[] = [
      ...chain.map((id) => ({ id, role: 'replica', machine: replica, config: { chain, variant } })),
      ...clients.map((id) => ({ id, role: 'client', machine: client, config: { head: chain[0]!, tail: chain[chain.length - 1]!, retransmitUs: p.retransmitUs }, faultable: false })),
      { id: 'driver', role: 'driver', machine: registerDriverMachine, config: { clients, opsPerClient: p.opsPerClient, readRatio: p.readRatio, thinkUsMax: p.thinkUsMax, script: null }, driver: true },
    ];
    return {
      nodes,
      invariants: [],
      checkers: [linearizabilityChecker(registerSpec), livenessChecker(p.livenessBoundUs)],
      done: (view) => registerDriverDone(view.state('driver') as RegDriverState | undefined),
    };
  },
});
