/**
 * Export to the Chrome / Perfetto JSON trace-event format, so a run opens in ui.perfetto.dev and
 * chrome://tracing. The mapping (see /work/shared/reference/ecosystem.md §4):
 *
 *   the cluster                 pid 1, named by a process_name M event
 *   a node                      tid = node index + 1, named "<id> (<role>)", sorted in trace order
 *   one step (handler)          X slice, dur = simulated handling time (synced persists), at least
 *                               1 µs, cut short where the node's next step begins; name = the input
 *   a message copy delivered    flow: s inside the sending slice, f (bp "e") inside the delivering one
 *   a timer set and fired       flow on the node's own thread (cat "timer")
 *   a dropped or lost copy      thread instant on the sender (dropped) or receiver (lost)
 *   crash, restart, pause, ...  thread instants on the node; partition, heal, link faults: global
 *   a violation                 global instant, plus its step's slice carries args.violation
 *   a client operation          async slice b/e (cat "op", id = request id) on the client's process
 *   in-flight messages, down nodes, pending operations: C counters
 *
 * Time: `ts` in microseconds from the first record (virtual µs for the simulator, wall-clock µs
 * for real runs); explorer step indices become STEP_US apart. Steps that share a microsecond are
 * spread across it in step order (exact time in args.t). A delivered copy whose receiver logged it
 * before its sender (wall clocks of different hosts) gets no arrow, only its slices.
 */
import { AK_DELIVERED, AK_DROPPED, AK_DUPLICATE, AK_LOST, INPUT_KINDS, LANE_DOWN, type ViewModel } from './model.ts';

export interface TraceEvent {
  name?: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  id?: number | string;
  bp?: 'e';
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

export interface PerfettoTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns' | 'ms';
  otherData: Record<string, unknown>;
}

const PID = 1;
/** Shortest slice drawn, in µs: long enough for flow ends to sit strictly inside it. */
const MIN_SLICE_US = 1;
/** Explorer step indices are spread this many µs apart. */
const STEP_US = 1000;

export function toPerfetto(model: ViewModel): PerfettoTrace {
  const m = model;
  const S = m.steps;
  const str = m.strings;
  const scale = m.meta.timeUnit === 'step' ? STEP_US : 1;
  const minDur = m.meta.timeUnit === 'step' ? STEP_US / 2 : MIN_SLICE_US;
  const meta: TraceEvent[] = [];
  const ev: TraceEvent[] = [];
  const title = `halfmoon ${m.meta.scenario ?? m.meta.file}${m.meta.seed !== null ? ` seed ${m.meta.seed}` : ''} (${m.meta.source})`;
  meta.push({ name: 'process_name', ph: 'M', pid: PID, args: { name: title } });
  m.nodes.forEach((n, i) => {
    meta.push({ name: 'thread_name', ph: 'M', pid: PID, tid: i + 1, args: { name: `${n.id} (${n.role})` } });
    meta.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: i + 1, args: { sort_index: i } });
  });

  // Slices, computed in integer nanoseconds so that float rounding never makes slices touch. Steps
  // sharing a microsecond are spread across it in step order, so every step starts strictly after
  // the one before it (on any node); a slice lasts its handling time but ends before the next step
  // of its node starts, so slices never overlap. Flow ends sit in the first part of a slice, before
  // the next step of any node, which keeps every send before its delivery.
  const n = S.rec.length;
  const nsPerUnit = scale * 1000;
  const tsNs = new Float64Array(n);
  const durNs = new Float64Array(n);
  const widthNs = new Float64Array(n);
  const anchor = new Float64Array(n);
  for (let k = 0; k < n; ) {
    let j = k;
    while (j < n && S.t[j] === S.t[k]) j++;
    const width = Math.max(Math.floor(nsPerUnit / (j - k)), 1);
    const base = Math.round(S.t[k]! * nsPerUnit);
    for (let r = k; r < j; r++) {
      tsNs[r] = base + (r - k) * width;
      widthNs[r] = width;
    }
    k = j;
  }
  const nextStart = new Float64Array(m.nodes.length).fill(Infinity);
  for (let k = n - 1; k >= 0; k--) {
    const node = S.node[k]!;
    const want = Math.max(Math.round(S.dur[k]! * nsPerUnit), minDur * 1000);
    const gap = nextStart[node]! - tsNs[k]!;
    durNs[k] = Math.max(1, Math.min(want, gap > 1 ? gap - 1 : gap));
    anchor[k] = (tsNs[k]! + Math.floor(Math.min(durNs[k]!, widthNs[k]!) / 2)) / 1000;
    nextStart[node] = tsNs[k]!;
  }
  const ts = (k: number) => tsNs[k]! / 1000;
  const dur = (k: number) => durNs[k]! / 1000;
  const mid = (k: number) => anchor[k]!;
  const violationAt = new Map<number, string>();
  for (const v of m.violations) if (v.step >= 0) violationAt.set(v.step, `${v.invariant}: ${v.message}`);
  for (let k = 0; k < n; k++) {
    const args: Record<string, unknown> = { step: k, t: S.t[k]!, record: S.rec[k]! };
    if (S.i[k]! >= 0) args.i = S.i[k]!;
    if (S.req[k]! >= 0) args.request = str[S.req[k]!]!;
    args.effects = S.nEff[k]!;
    const v = violationAt.get(k);
    if (v !== undefined) args.violation = v;
    ev.push({ name: str[S.label[k]!]!, cat: INPUT_KINDS[S.kind[k]!] ?? 'other', ph: 'X', ts: ts(k), dur: dur(k), pid: PID, tid: S.node[k]! + 1, args });
  }

  // Messages: a flow per delivered copy; instants for copies that never arrived.
  const A = m.arrows;
  const counter: { t: number; d: number }[] = [];
  let flowId = 1;
  for (let a = 0; a < A.msg.length; a++) {
    const msg = A.msg[a]!;
    const send = m.msgs.send[msg]!;
    const label = str[m.msgs.label[msg]!]!;
    const kindName = str[m.msgs.kind[msg]!]!;
    const kind = A.kind[a]!;
    if ((kind === AK_DELIVERED || kind === AK_DUPLICATE) && mid(A.step[a]!) > mid(send)) {
      const recv = A.step[a]!;
      const id = flowId++;
      const args = { message: label, msgId: m.msgs.id[msg]!, duplicate: kind === AK_DUPLICATE };
      ev.push({ name: kindName, cat: 'msg', ph: 's', id, ts: mid(send), pid: PID, tid: A.from[a]! + 1, args });
      ev.push({ name: kindName, cat: 'msg', ph: 'f', bp: 'e', id, ts: mid(recv), pid: PID, tid: A.to[a]! + 1, args });
      counter.push({ t: mid(send), d: 1 }, { t: mid(recv), d: -1 });
    } else if (kind === AK_DROPPED) {
      const fate = str[A.fate[a]!] ?? 'drop';
      ev.push({ name: `${fate}: ${label} → ${m.nodes[A.to[a]!]!.id}`, cat: 'net', ph: 'i', s: 't', ts: mid(send), pid: PID, tid: A.from[a]! + 1, args: { message: label, fate } });
    } else if (kind === AK_LOST) {
      const fate = str[A.fate[a]!] ?? 'lost';
      const t = Math.max(A.t1[a]! * scale, mid(send));
      ev.push({ name: `${fate}: ${label} from ${m.nodes[A.from[a]!]!.id}`, cat: 'net', ph: 'i', s: 't', ts: t, pid: PID, tid: A.to[a]! + 1, args: { message: label, fate } });
      counter.push({ t: mid(send), d: 1 }, { t, d: -1 });
    } else {
      counter.push({ t: mid(send), d: 1 });
    }
  }

  // Timers: a flow on the node's own thread from the step that armed it to the one it woke.
  const T = m.timers;
  for (let i = 0; i < T.fire.length; i++) {
    const set = T.set[i]!;
    const fire = T.fire[i]!;
    if (set < 0 || set === fire) continue;
    const id = flowId++;
    const name = str[T.name[i]!]!;
    ev.push({ name, cat: 'timer', ph: 's', id, ts: mid(set), pid: PID, tid: T.node[i]! + 1 });
    ev.push({ name, cat: 'timer', ph: 'f', bp: 'e', id, ts: mid(fire), pid: PID, tid: T.node[i]! + 1 });
  }

  // Faults and violations.
  const GLOBAL = new Set(['partition', 'heal', 'linkFault', 'linkHeal']);
  for (const f of m.faults) {
    const t = f.t * scale;
    const args = { detail: f.detail, ...(f.refused !== null ? { refused: f.refused } : {}) };
    if (GLOBAL.has(f.kind) || f.nodes.length === 0) ev.push({ name: f.text, cat: 'fault', ph: 'i', s: 'g', ts: t, pid: PID, args });
    else for (const node of f.nodes) ev.push({ name: f.text, cat: 'fault', ph: 'i', s: 't', ts: t, pid: PID, tid: node + 1, args });
  }
  for (const v of m.violations) {
    const t = v.step >= 0 ? mid(v.step) : v.t * scale;
    ev.push({ name: `violation: ${v.invariant}`, cat: 'violation', ph: 'i', s: 'g', ts: t, pid: PID, args: { message: v.message, requests: v.reqs } });
  }

  // Client operations as async slices.
  const endUs = Math.max(m.meta.tEnd * scale, n ? (tsNs[n - 1]! + durNs[n - 1]!) / 1000 : 0);
  const pending: { t: number; d: number }[] = [];
  m.ops.forEach((o, i) => {
    const tid = (o.node >= 0 ? o.node : o.client) + 1;
    const name = o.reqId;
    const callT = o.callStep >= 0 ? mid(o.callStep) : o.callT * scale;
    const retT = o.retStep >= 0 ? mid(o.retStep) : o.retT >= 0 ? o.retT * scale : endUs;
    const id = `op${i}`;
    ev.push({ name, cat: 'op', ph: 'b', id, ts: callT, pid: PID, tid, args: { input: o.input } });
    ev.push({ name, cat: 'op', ph: 'e', id, ts: Math.max(retT, callT), pid: PID, tid, args: { output: o.output, returned: o.retT >= 0 } });
    pending.push({ t: callT, d: 1 });
    if (o.retT >= 0) pending.push({ t: Math.max(retT, callT), d: -1 });
  });

  // Counters.
  pushCounter(ev, 'messages in flight', counter);
  pushCounter(ev, 'operations pending', pending);
  const down: { t: number; d: number }[] = [];
  const L = m.lanes;
  for (let i = 0; i < L.node.length; i++) {
    if (L.kind[i] !== LANE_DOWN) continue;
    down.push({ t: L.t0[i]! * scale, d: 1 });
    if (L.t1[i]! < m.meta.tEnd) down.push({ t: L.t1[i]! * scale, d: -1 });
  }
  pushCounter(ev, 'nodes down', down);

  // Stable order by time: metadata first, then events; ties keep emission order (slice before flow).
  const order = ev.map((_, i) => i).sort((a, b) => ev[a]!.ts! - ev[b]!.ts! || a - b);
  return {
    traceEvents: [...meta, ...order.map((i) => ev[i]!)],
    displayTimeUnit: 'ns',
    otherData: {
      source: m.meta.source,
      system: m.meta.system,
      scenario: m.meta.scenario,
      variant: m.meta.variant,
      seed: m.meta.seed,
      outcome: m.meta.outcome,
      traceHash: m.meta.traceHash,
      timeUnit: m.meta.timeUnit === 'step' ? `explorer steps, ${STEP_US} us apart` : m.meta.clock === 'wall' ? 'wall-clock us from the first record' : 'virtual us',
      replay: m.meta.replay,
    },
  };
}

/** One counter series from +/- changes: a C event per distinct time where the value changed. */
function pushCounter(ev: TraceEvent[], name: string, changes: { t: number; d: number }[]): void {
  if (changes.length === 0) return;
  changes.sort((a, b) => a.t - b.t);
  let v = 0;
  let last = NaN;
  for (let i = 0; i < changes.length; i++) {
    v += changes[i]!.d;
    const t = changes[i]!.t;
    if (i + 1 < changes.length && changes[i + 1]!.t === t) continue;
    if (v === last) continue;
    ev.push({ name, ph: 'C', ts: t, pid: PID, args: { value: v } });
    last = v;
  }
}
