/**
 * The register lens (`src/register/*`): labels quorum messages with their operation id and
 * timestamp, attributes every get/put and acknowledgement to the client request it serves
 * (through the client library's operation ids), and summarises a step as a register person
 * would: which (timestamp, value) a replica holds, which phase an operation is in and which
 * replicas have answered it.
 */
import { brief, genericTagger, isObj, str, type OpView, type RequestTagger, type StepView, type SummaryInput, type SummaryRow, type SummarySection, type SystemLens } from '../lens.ts';

function ts(v: unknown): string {
  if (!isObj(v)) return '?';
  return `(${String(v.n)},${typeof v.w === 'string' && v.w !== '' ? v.w : '-'})`;
}

function val(v: unknown): string {
  return v === null || v === undefined ? '⊥' : typeof v === 'string' ? v : brief(v, 24);
}

function tsEq(a: unknown, b: unknown): boolean {
  return isObj(a) && isObj(b) && a.n === b.n && a.w === b.w;
}

function tsLess(a: unknown, b: unknown): boolean {
  if (!isObj(a) || !isObj(b)) return false;
  const an = Number(a.n);
  const bn = Number(b.n);
  return an < bn || (an === bn && String(a.w) < String(b.w));
}

function requestLabel(body: unknown): string | null {
  if (!isObj(body)) return null;
  if (body.op === 'read') return 'read';
  if (body.op === 'write') return `write ${val(body.value)}`;
  if (body.ok === true) return `ok ${val(body.value)}`;
  return null;
}

function label(msg: unknown): string | null {
  if (!isObj(msg)) return null;
  const op = str(msg.opId) ?? '?';
  switch (msg.type) {
    case 'get':
      return `get ${op}`;
    case 'getAck':
      return `getAck ${op} ${ts(msg.ts)}=${val(msg.value)}`;
    case 'put':
      return `put ${op} ${ts(msg.ts)}=${val(msg.value)}`;
    case 'putAck':
      return `putAck ${op}`;
    default:
      return null;
  }
}

/**
 * Operation ids ("c0:7") name one phase of one request; the client's state says which request
 * (`op.reqId`, `op.opId`). Without states (explorer traces), the ids a client sends in a step that
 * serves a known request are attributed to it, up to the reply that completes it.
 */
function tagger(): RequestTagger {
  const generic = genericTagger();
  const opReq = new Map<string, string>();
  return {
    message(msg) {
      if (isObj(msg) && typeof msg.opId === 'string') return opReq.get(msg.opId) ?? null;
      return generic.message(msg, '', '');
    },
    step(step: StepView, before: unknown) {
      const inp = step.input;
      let req: string | null = null;
      if (inp && inp.type === 'message' && isObj(inp.msg) && typeof inp.msg.opId === 'string') req = opReq.get(inp.msg.opId) ?? null;
      if (req === null) req = generic.step(step, before);
      if (step.role === 'client') {
        const after = isObj(step.state) ? step.state.op : undefined;
        if (isObj(after) && typeof after.opId === 'string' && typeof after.reqId === 'string') opReq.set(after.opId, after.reqId);
        if (after === undefined && req !== null) {
          for (const e of step.effects) {
            if (e.type === 'reply') break;
            if (e.type === 'send' && isObj(e.msg) && typeof e.msg.opId === 'string' && !opReq.has(e.msg.opId)) opReq.set(e.msg.opId, req);
          }
        }
        if (req === null && isObj(before) && isObj(before.op) && typeof before.op.reqId === 'string') req = before.op.reqId;
      }
      return req;
    },
  };
}

function replicaRows(s: SummaryInput): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const b = s.before;
  const a = s.step.state;
  const inp = s.step.input;
  const msg = inp && inp.type === 'message' && isObj(inp.msg) ? inp.msg : null;
  const lost = s.crashed;
  if (inp && inp.type === 'restart' && isObj(lost) && isObj(a)) {
    const back = tsLess(a.ts, lost.ts);
    rows.push({ text: `recovered ${ts(a.ts)} = ${val(a.value)} from disk; before the crash it held ${ts(lost.ts)} = ${val(lost.value)}`, tone: back ? 'warn' : 'good' });
    if (back) rows.push({ text: 'the crash lost acknowledged writes: the recovered timestamp is older', tone: 'warn' });
  } else if (isObj(b) && isObj(a)) {
    if (tsEq(b.ts, a.ts) && b.value === a.value) rows.push({ text: `holds ${ts(a.ts)} = ${val(a.value)} (unchanged)`, tone: 'info' });
    else rows.push({ text: `register ${ts(b.ts)} = ${val(b.value)} → ${ts(a.ts)} = ${val(a.value)}`, tone: 'change' });
    if (tsLess(a.ts, b.ts)) rows.push({ text: 'the timestamp went backwards', tone: 'warn' });
  } else if (isObj(a)) rows.push({ text: `holds ${ts(a.ts)} = ${val(a.value)}`, tone: 'info' });
  if (msg && msg.type === 'put' && isObj(b) && isObj(a)) {
    const applied = !(tsEq(b.ts, a.ts) && b.value === a.value);
    const acked = s.step.effects.some((e) => e.type === 'send' && isObj(e.msg) && e.msg.type === 'putAck');
    if (!applied && acked && tsLess(b.ts, msg.ts)) rows.push({ text: `acknowledged put ${ts(msg.ts)} = ${val(msg.value)} without applying it, although it is newer`, tone: 'warn' });
    else if (!applied) rows.push({ text: `kept its value: the put's ${ts(msg.ts)} is not newer`, tone: 'info' });
  }
  let ackAt = -1;
  let syncAt = -1;
  s.step.effects.forEach((e, i) => {
    if (e.type === 'persist') {
      if (e.sync === true) syncAt = i;
      else rows.push({ text: `persisted ${String(e.key)} without sync: a crash may lose it`, tone: 'warn' });
    }
    if (e.type === 'send' && isObj(e.msg) && e.msg.type === 'putAck' && ackAt < 0) ackAt = i;
  });
  if (syncAt >= 0) rows.push({ text: ackAt >= 0 && ackAt < syncAt ? 'acknowledged before the sync' : 'synced the register before acknowledging', tone: ackAt >= 0 && ackAt < syncAt ? 'warn' : 'good' });
  return rows;
}

function clientRows(s: SummaryInput): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const a = isObj(s.step.state) ? s.step.state : null;
  const b = isObj(s.before) ? s.before : null;
  const cfg = a && isObj(a.cfg) ? a.cfg : b && isObj(b.cfg) ? b.cfg : null;
  const quorum = cfg && Array.isArray(cfg.replicas) ? Math.floor(cfg.replicas.length / 2) + 1 : null;
  const describe = (op: Record<string, unknown>): string => {
    const acked = Array.isArray(op.acked) ? op.acked.map(String) : [];
    const req = isObj(op.req) ? requestLabel(op.req) ?? brief(op.req) : '?';
    return `${String(op.reqId)} ${req}: ${String(op.phase)} phase ${String(op.opId)}, answers from [${acked.join(', ')}]${quorum ? ` of ${quorum} needed` : ''}, best ${ts(isObj(op.best) ? op.best.ts : null)} = ${val(isObj(op.best) ? op.best.value : null)}`;
  };
  const bop = b && isObj(b.op) ? b.op : null;
  const aop = a && isObj(a.op) ? a.op : null;
  if (bop && (!aop || aop.reqId !== bop.reqId)) {
    // The answers it finished on: those it had plus the one this step delivered.
    const inp = s.step.input;
    const answers = new Set(Array.isArray(bop.acked) ? bop.acked.map(String) : []);
    if (inp && inp.type === 'message' && isObj(inp.msg) && inp.msg.opId === bop.opId && typeof inp.from === 'string') answers.add(inp.from);
    const short = quorum !== null && answers.size < quorum && s.step.input?.type !== 'timer';
    rows.push({
      text: `finished ${String(bop.reqId)} in its ${String(bop.phase)} phase on answers from [${[...answers].join(', ')}]${quorum !== null ? `, ${short ? 'fewer than' : 'with'} the quorum of ${quorum}` : ''}`,
      tone: short ? 'warn' : 'change',
      req: String(bop.reqId),
    });
    if (s.step.input?.type === 'timer') rows.push({ text: `gave up waiting (timer ${String(s.step.input.timer)}) and answered anyway`, tone: 'warn' });
  }
  if (aop) {
    const changed = !bop || bop.reqId !== aop.reqId || bop.phase !== aop.phase || brief(bop.acked, 400) !== brief(aop.acked, 400);
    rows.push({ text: describe(aop), tone: changed ? 'change' : 'info', req: String(aop.reqId) });
    if (Array.isArray(aop.acked) && new Set(aop.acked).size !== aop.acked.length) rows.push({ text: 'the same replica is counted twice towards the quorum', tone: 'warn' });
  } else if (a) rows.push({ text: 'idle: no operation in progress', tone: 'info' });
  if (a && Array.isArray(a.queue) && a.queue.length > 0) rows.push({ text: `${a.queue.length} operation(s) queued behind it`, tone: 'info' });
  for (const e of s.step.effects) {
    if (e.type === 'reply') rows.push({ text: `answered ${String(e.reqId)}: ${requestLabel(e.body) ?? brief(e.body)}`, tone: 'change', req: String(e.reqId) });
  }
  return rows;
}

function driverRows(s: SummaryInput): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const e of s.step.effects) {
    if (e.type === 'request') rows.push({ text: `issued ${String(e.reqId)} (${requestLabel(e.body) ?? brief(e.body)}) to ${String(e.to)}`, tone: 'change', req: String(e.reqId) });
  }
  const inp = s.step.input;
  if (inp && inp.type === 'response') rows.push({ text: `${String(inp.reqId)} returned ${requestLabel(inp.body) ?? brief(inp.body)}`, tone: 'change', req: String(inp.reqId) });
  const a = isObj(s.step.state) ? s.step.state : null;
  if (a && typeof a.completed === 'number') rows.push({ text: `${a.completed} operation(s) completed so far`, tone: 'info' });
  return rows;
}

function summarize(s: SummaryInput): SummarySection[] {
  let rows: SummaryRow[];
  switch (s.step.role) {
    case 'replica':
      rows = replicaRows(s);
      break;
    case 'client':
      rows = clientRows(s);
      break;
    case 'driver':
      rows = driverRows(s);
      break;
    default:
      rows = [];
  }
  const out: SummarySection[] = rows.length ? [{ title: `register ${s.step.role}`, rows }] : [];
  if (s.op) {
    const o = s.op;
    out.push({
      title: 'client operation',
      rows: [
        {
          text: `${o.reqId} on ${o.node}: ${requestLabel(o.input) ?? brief(o.input)} → ${o.retT < 0 ? 'never returned' : requestLabel(o.output) ?? brief(o.output)}`,
          req: o.reqId,
          tone: 'info',
        },
      ],
    });
  }
  return out;
}

/**
 * A stale read, the simplest witness against linearizability: read R returned the value of write
 * W1 (or the initial ⊥), yet another write W2 began after W1 returned and returned before R began,
 * so W2 must be ordered between them and R should have seen W2 or later. Writes write unique values
 * (the driver makes them so), which ties a read to the write it saw. The earliest such read is
 * reported, with the latest overwriting W2. Returns null when no stale read exists (the violation
 * is then of another shape, and the checker's own message stands).
 */
function explain(v: { invariant: string }, ops: readonly OpView[]): { text: string; reqs: string[] } | null {
  if (v.invariant !== 'linearizability') return null;
  const isWrite = (o: OpView) => isObj(o.input) && o.input.op === 'write';
  const writes = ops.filter((o) => isWrite(o) && o.retT >= 0);
  const byValue = new Map<unknown, OpView>();
  for (const o of ops) if (isWrite(o) && isObj(o.input)) byValue.set(o.input.value, o);
  let best: { r: OpView; w1: OpView | null; w2: OpView } | null = null;
  for (const r of ops) {
    if (!isObj(r.input) || r.input.op !== 'read' || r.retT < 0 || !isObj(r.output)) continue;
    const seen = r.output.value ?? null;
    const w1 = seen === null ? null : (byValue.get(seen) ?? null);
    if (seen !== null && (w1 === null || w1.retT < 0)) continue;
    let w2: OpView | null = null;
    for (const w of writes) {
      if (w === w1 || w.retT >= r.callT) continue;
      if (w1 !== null && w.callT <= w1.retT) continue;
      if (w2 === null || w.retT > w2.retT) w2 = w;
    }
    if (w2 && (best === null || r.retT < best.r.retT)) best = { r, w1, w2 };
  }
  if (!best) return null;
  const { r, w1, w2 } = best;
  const w2v = isObj(w2.input) ? val(w2.input.value) : '?';
  const seen = isObj(r.output) ? val(r.output.value) : '?';
  const text =
    `stale read: ${r.reqId} on ${r.node} read ${seen} (called at ${r.callT} µs), but ${w2.reqId} had written ${w2v} ` +
    `and returned at ${w2.retT} µs, after ${w1 ? `${w1.reqId} (which wrote ${seen}) returned at ${w1.retT} µs` : 'the register was initialised'}`;
  return { text, reqs: w1 ? [r.reqId, w2.reqId, w1.reqId] : [r.reqId, w2.reqId] };
}

export const registerLens: SystemLens = { system: 'register', label, requestLabel, tagger, summarize, explain };
