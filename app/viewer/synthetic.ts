/**
 * A synthetic trace of any length, for testing and benchmarking the viewer at scale without
 * simulating a real system for minutes: nodes that tick on timers and gossip counters, with
 * dropped messages, crashes and restarts, partitions and heals, and a driver issuing operations.
 * It writes exactly the record shapes the simulator writes (sim/trace.ts), deterministically
 * (a fixed linear congruential generator, no ambient randomness).
 */
import { TRACE_FORMAT, TRACE_VERSION } from '../../sim/trace.ts';

export interface SyntheticOptions {
  readonly steps: number;
  readonly nodes?: number;
  readonly seed?: number;
  /** Record node states (the simulator's default when tracing). */
  readonly states?: boolean;
}

export function syntheticTraceLines(opts: SyntheticOptions): string[] {
  const nNodes = opts.nodes ?? 8;
  const states = opts.states ?? true;
  let x = (opts.seed ?? 1) >>> 0 || 1;
  const rand = (n: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return Math.floor((x / 0x1_0000_0000) * n);
  };
  const ids = Array.from({ length: nNodes }, (_, i) => `n${i}`);
  const out: string[] = [];
  const w = (r: Record<string, unknown>) => out.push(JSON.stringify(r));
  w({ type: 'header', format: TRACE_FORMAT, version: TRACE_VERSION, source: 'sim', system: 'synthetic', variant: null, seed: opts.seed ?? 1, nodes: [...ids.map((id) => ({ id, role: 'peer', driver: false })), { id: 'driver', role: 'driver', driver: true }], replay: null });
  const count = new Array<number>(nNodes).fill(0);
  const inbox: { id: number; from: number; msg: Record<string, unknown> }[][] = ids.map(() => []);
  const up = new Array<boolean>(nNodes).fill(true);
  let msg = 0;
  let t = 0;
  let step = 0;
  let partitioned = false;
  let downNode = -1;
  let downUntil = 0;
  let op = 0;
  let openOp: string | null = null;
  const state = (i: number) => ({ count: count[i], inbox: inbox[i]!.length });
  for (let i = 0; i < nNodes; i++) if (states) w({ type: 'boot', t: 0, node: ids[i], state: state(i) });
  while (step < opts.steps) {
    t += 1 + rand(20);
    if (step > 0 && step % 5000 === 0) {
      partitioned = !partitioned;
      if (partitioned) w({ type: 'fault', t, kind: 'partition', nodes: ids, detail: { mode: 'symmetric', groups: [ids.slice(0, nNodes / 2), ids.slice(nNodes / 2)] } });
      else w({ type: 'fault', t, kind: 'heal', nodes: [], detail: {} });
    }
    if (downNode < 0 && step > 0 && step % 7000 === 0) {
      downNode = rand(nNodes);
      downUntil = step + 150;
      up[downNode] = false;
      w({ type: 'fault', t, kind: 'crash', nodes: [ids[downNode]], detail: { unsyncedLost: 0 } });
      for (const m of inbox[downNode]!) w({ type: 'net', t, fate: 'down', from: ids[m.from], to: ids[downNode], msgId: m.id });
      inbox[downNode] = [];
    }
    if (downNode >= 0 && step >= downUntil) {
      const n = downNode;
      up[n] = true;
      downNode = -1;
      w({ type: 'fault', t, kind: 'restart', nodes: [ids[n]], detail: {} });
      if (states) w({ type: 'boot', t, node: ids[n], state: state(n) });
      w({ type: 'step', i: step++, t, node: ids[n], input: { type: 'restart' }, effects: [{ type: 'setTimer', timer: 'tick', delayUs: 50 }], ...(states ? { state: state(n) } : {}) });
      continue;
    }
    if (step % 50 === 0 && openOp === null) {
      openOp = `op${op++}`;
      w({ type: 'history', kind: 'call', t, reqId: openOp, client: 'driver', node: ids[0], body: { op: 'read' } });
      w({ type: 'step', i: step++, t, node: 'driver', input: { type: 'timer', timer: 'next' }, effects: [{ type: 'setTimer', timer: 'next', delayUs: 100 }], ...(states ? { state: { ops: op } } : {}) });
      continue;
    }
    if (step % 50 === 25 && openOp !== null) {
      w({ type: 'history', kind: 'ret', t, reqId: openOp, client: 'driver', node: ids[0], body: { ok: true } });
      w({ type: 'step', i: step++, t, node: 'driver', input: { type: 'timer', timer: 'ret' }, effects: [], ...(states ? { state: { ops: op } } : {}) });
      openOp = null;
      continue;
    }
    const n = rand(nNodes);
    if (!up[n]) continue;
    const m = inbox[n]!.shift();
    const effects: Record<string, unknown>[] = [];
    const msgIds: number[] = [];
    const to = (n + 1 + rand(nNodes - 1)) % nNodes;
    const blocked = partitioned && n < nNodes / 2 !== to < nNodes / 2;
    const sendCount = m ? rand(2) : 1;
    for (let s = 0; s < sendCount; s++) {
      const id = msg++;
      const body = { type: m ? 'ack' : 'gossip', n: count[n]! + 1 };
      effects.push({ type: 'send', to: ids[to], msg: body });
      msgIds.push(id);
      if (blocked) w({ type: 'net', t, fate: 'partitioned', from: ids[n], to: ids[to], msgId: id });
      else if (rand(50) === 0) w({ type: 'net', t, fate: 'drop', from: ids[n], to: ids[to], msgId: id });
      else if (!up[to]) w({ type: 'net', t, fate: 'down', from: ids[n], to: ids[to], msgId: id });
      else inbox[to]!.push({ id, from: n, msg: body });
    }
    if (!m) effects.push({ type: 'setTimer', timer: 'tick', delayUs: 50 });
    count[n]!++;
    const rec: Record<string, unknown> = {
      type: 'step',
      i: step++,
      t,
      node: ids[n],
      input: m ? { type: 'message', from: ids[m.from], msg: m.msg } : { type: 'timer', timer: 'tick' },
      effects,
    };
    if (m) rec.msgId = m.id;
    if (msgIds.length) rec.msgIds = msgIds;
    if (states) rec.state = state(n);
    w(rec);
  }
  w({ type: 'end', outcome: 'done', events: step, simulatedTimeUs: t, traceHash: '0000000000000000', violations: [], faults: {}, report: {}, decisions: null });
  return out;
}
