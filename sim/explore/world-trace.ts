/**
 * Explorer worlds as simulator-format traces, for the viewer and for replay: boot records, one
 * step record per action with the input, effects and new state, history records, faults, and
 * message ids (one per send, a delivery naming the oldest id of its content still in flight).
 */
import { assertNever } from '../../src/core/assert.ts';
import type { Effect, NodeId } from '../../src/core/contract.ts';
import type { NodeSpec } from '../../src/core/system.ts';
import type { TraceAdapter } from './model.ts';
import { A_DELIVER, A_DUP, type Hist, type Packet, PKT_MSG, PKT_REP, PKT_REQ, packetKey, pktKey, type WAction, type World } from './world-state.ts';

/** What the trace adapter needs from its model. */
export interface TraceHost {
  readonly specs: readonly NodeSpec[];
  indexOf(id: NodeId): number;
  originIndex(h: Hist | null, reqId: string): number;
}

export function worldTrace(m: TraceHost): TraceAdapter<World, WAction> {
  const id = (n: number) => m.specs[n]!.id;
  // Message ids for the viewer, one per send in effect order; a delivery names the oldest id of
  // its content still in flight (a duplicate delivers it again under the same id). Reset by boot.
  let inFlight = new Map<string, number[]>();
  let nextId = 0;
  const sentIds = (prev: World, node: number, effects: readonly Effect[]): number[] => {
    const ids: number[] = [];
    for (const e of effects) {
      let key: string | null = null;
      if (e.type === 'send') key = packetKey(PKT_MSG, node, m.indexOf(e.to), '', e.msg);
      else if (e.type === 'request') key = packetKey(PKT_REQ, node, m.indexOf(e.to), e.reqId, e.body);
      else if (e.type === 'reply') {
        const origin = m.originIndex(prev.hist, e.reqId);
        if (origin >= 0) key = packetKey(PKT_REP, node, origin, e.reqId, e.body);
      }
      if (key === null) continue;
      const msgId = nextId++;
      ids.push(msgId);
      const q = inFlight.get(key);
      if (q) q.push(msgId);
      else inFlight.set(key, [msgId]);
    }
    return ids;
  };
  const delivered = (p: Packet, keep: boolean): number | undefined => {
    const q = inFlight.get(pktKey(p));
    if (!q || q.length === 0) return undefined;
    return keep ? q[0] : q.shift();
  };
  return {
    nodes: () => m.specs.map((s) => ({ id: s.id, role: s.role, driver: s.driver ?? false })),
    boot(w) {
      inFlight = new Map();
      nextId = 0;
      return m.specs.map((s, i) => ({ type: 'boot', t: 0, node: s.id, state: w.slots[i]!.state }));
    },
    step(prev, a, next, i) {
      const v = next.via;
      if (v === null) return [];
      const t = next.nowUs > 0 ? next.nowUs : i + 1;
      const out: Record<string, unknown>[] = [];
      switch (v.kind) {
        case 'crash':
          out.push({ type: 'fault', t, kind: 'crash', nodes: [id(v.node)], detail: v.detail });
          break;
        case 'drop': {
          const msgId = delivered(a.pkt!, false);
          out.push({ type: 'net', t, fate: 'drop', from: v.detail.from, to: v.detail.to, ...(msgId !== undefined ? { msgId } : {}) });
          out.push({ type: 'fault', t, kind: 'drop', nodes: [v.detail.from, v.detail.to], detail: {} });
          break;
        }
        case 'restart':
          out.push({ type: 'fault', t, kind: 'restart', nodes: [id(v.node)], detail: {} });
          out.push({ type: 'boot', t, node: id(v.node), state: next.slots[v.node]!.state });
          break;
        case 'duplicate':
          out.push({ type: 'fault', t, kind: 'duplicate', nodes: [id(v.node)], detail: {} });
          break;
        case 'step':
          break;
        default:
          assertNever(v.kind, 'via');
      }
      // History records come before the step they belong to (a ret before the driver's response).
      for (const ev of v.events) if (ev.kind !== 'fault') out.push({ type: 'history', ...ev });
      const threw = next.violation !== null && next.violation.invariant === 'machine-assertion';
      if (v.input !== null && !threw) {
        const s = next.slots[v.node]!;
        const msgId = a.pkt !== null && (a.k === A_DELIVER || a.k === A_DUP) ? delivered(a.pkt, a.k === A_DUP) : undefined;
        const msgIds = sentIds(prev, v.node, v.effects);
        out.push({ type: 'step', i, t, node: id(v.node), input: v.input, effects: v.effects, ...(s.up ? { state: s.state } : {}), ...(msgId !== undefined ? { msgId } : {}), ...(msgIds.length > 0 ? { msgIds } : {}) });
      }
      if (next.violation !== null) out.push({ type: 'violation', ...next.violation, eventIndex: i, timeUs: t, ...(threw && v.input !== null ? { input: v.input } : {}) });
      return out;
    },
  };
}
