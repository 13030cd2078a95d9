/**
 * The Halfmoon lens (`src/halfmoon/*`, `src/systems/halfmoon.ts`): engines run workflow
 * executions against the shared log and the store. It labels log and store traffic with the
 * operation and the record it carries, attributes every step to the workflow request it serves
 * (from the runtime's own history records), and summarises an engine step as a workflow person
 * reads it: which execution (instance, step, cursor) moved, which log records it appended or read,
 * which user operations it ran, and how executions ended.
 */
import { brief, genericTagger, isObj, str, type RequestTagger, type StepView, type SummaryInput, type SummaryRow, type SummarySection, type SystemLens } from '../lens.ts';

/** Shortens a 16-hex-digit display bigint: "0x0000000000000012" -> "0x12". */
function hex(v: unknown): string {
  if (typeof v !== 'string' || !v.startsWith('0x')) return String(v);
  const t = v.slice(2).replace(/^0+(?=.)/, '');
  return `0x${t}`;
}

/** The record a condAppend carries, from its JSON payload; null when it is not one of ours. */
function payloadRecord(data: unknown): Record<string, unknown> | null {
  if (typeof data !== 'string') return null;
  try {
    const env = JSON.parse(data) as unknown;
    return isObj(env) && isObj(env.rec) ? env.rec : null;
  } catch {
    return null;
  }
}

function recText(rec: Record<string, unknown>): string {
  const where = rec.table !== null && rec.table !== undefined ? ` ${String(rec.table)}/${String(rec.key)}` : '';
  return `${String(rec.kind)} ${String(rec.iid)}#${String(rec.step)}${where}`;
}

function label(msg: unknown): string | null {
  if (!isObj(msg)) return null;
  const req = isObj(msg.req) ? msg.req : null;
  const rep = isObj(msg.rep) ? msg.rep : null;
  switch (msg.type) {
    case 'reflog.req': {
      if (!req) return 'log request';
      const rec = payloadRecord(req.data);
      return `${String(req.op)}${rec ? ` ${recText(rec)}` : ''}`;
    }
    case 'reflog.rep':
      return rep ? `${String(rep.code)}${rep.seqnum ? ` @${hex(rep.seqnum)}` : rep.seq ? ` @${hex(rep.seq)}` : ''}` : 'log reply';
    case 'wf.store.req':
      return req ? `store ${String(req.op)} ${String(req.row ?? '')}` : 'store request';
    case 'wf.store.rep':
      return rep ? `store ${String(rep.op)}${rep.found === false ? ' (none)' : rep.value !== undefined ? ` = ${brief(rep.value, 24)}` : ''}` : 'store reply';
    default:
      return null;
  }
}

function requestLabel(body: unknown): string | null {
  if (!isObj(body)) return null;
  if (typeof body.fn === 'string') return `${body.fn} ${String(body.mode ?? '')}`.trim();
  if (body.ok === true) return `ok ${brief(body.output, 40)}`;
  if (body.ok === false) return `error ${String(body.error)}`;
  return null;
}

/** The runtime's history events among a step's effects. */
function events(step: StepView): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const e of step.effects) if (e.type === 'record' && isObj(e.event) && typeof e.event.ev === 'string') out.push(e.event);
  return out;
}

function tagger(): RequestTagger {
  const generic = genericTagger();
  return {
    message: (msg, from, to) => generic.message(msg, from, to),
    step(step, before) {
      for (const ev of events(step)) if (typeof ev.requestId === 'string') return ev.requestId;
      return generic.step(step, before);
    },
  };
}

/** An engine's executions, keyed by execution key, from its (display-encoded) state. */
function executions(state: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const guest = isObj(state) && isObj(state.guest) ? state.guest : isObj(state) ? state : null;
  const execs = guest ? guest.execs : null;
  const list = Array.isArray(execs) ? execs.map((p) => (Array.isArray(p) ? p[1] : p)) : isObj(execs) ? Object.values(execs) : [];
  for (const x of list) if (isObj(x) && typeof x.key === 'string') out.set(x.key, x);
  return out;
}

function execText(x: Record<string, unknown>): string {
  const ops = Array.isArray(x.ops) ? x.ops.length : 0;
  const op = isObj(x.op) && isObj(x.op.op) ? `, at operation #${String(x.op.ordinal)} ${String(x.op.op.kind)}${x.op.op.key ? ` ${String(x.op.op.table)}/${String(x.op.op.key)}` : ''}` : '';
  return `${String(x.iid)} (${String(x.fn)}, ${String(x.mode)}${x.top === false ? ', child' : ''}): stage ${String(x.stage)}, step ${String(x.n)}, cursor ${hex(x.c)}, ${ops} op(s) done${op}${x.pending ? `, waiting on ${String(x.pending)}` : ''}`;
}

function eventRow(ev: Record<string, unknown>): SummaryRow | null {
  const req = str(ev.requestId) ?? undefined;
  const base = { ...(req ? { req } : {}) };
  switch (ev.ev) {
    case 'execStart':
      return { ...base, text: `started execution ${String(ev.exec)} of ${String(ev.iid)} (${String(ev.mode)}${ev.top === false ? ', child' : ''})`, tone: 'change' };
    case 'logOp': {
      const rec = isObj(ev.rec) ? ` ${recText(ev.rec)}` : '';
      const seq = ev.seq ? ` at ${hex(ev.seq)}` : '';
      const wrote = String(ev.op).toLowerCase().includes('append');
      return { ...base, text: `log ${String(ev.op)} → ${String(ev.code)}${seq}:${rec || ' (no record)'} [${String(ev.stage)}]`, tone: wrote ? 'change' : 'info' };
    }
    case 'storeOp':
      return { ...base, text: `store ${String(ev.op)} [${String(ev.stage)}]`, tone: 'info' };
    case 'wfOp':
      return { ...base, text: `operation #${String(ev.ordinal)}: ${String(ev.kind)}${ev.key ? ` ${String(ev.table)}/${String(ev.key)}` : ''} = ${brief(ev.value, 40)}${ev.async ? ' (async)' : ''}`, tone: 'change' };
    case 'execEnd':
      return { ...base, text: `execution ${String(ev.exec)} ended: ${String(ev.outcome)}${ev.reason ? ` (${String(ev.reason)})` : ''}, output ${brief(ev.output, 40)}`, tone: ev.outcome === 'done' ? 'good' : 'warn' };
    default:
      return { ...base, text: `${String(ev.ev)} ${brief(ev, 100)}`, tone: 'info' };
  }
}

function summarize(s: SummaryInput): SummarySection[] {
  const out: SummarySection[] = [];
  const rows = events(s.step)
    .map(eventRow)
    .filter((r): r is SummaryRow => r !== null);
  if (rows.length) out.push({ title: 'workflow events', rows });
  const before = executions(s.before);
  const after = executions(s.step.state);
  const moved: SummaryRow[] = [];
  for (const [k, x] of after) {
    const b = before.get(k);
    if (b && brief(b, 100_000) === brief(x, 100_000)) continue;
    moved.push({ text: `${b ? '' : 'new: '}${execText(x)}`, tone: 'change', ...(typeof x.requestId === 'string' ? { req: x.requestId } : {}) });
  }
  for (const [k, b] of before) if (!after.has(k)) moved.push({ text: `gone: ${String(b.iid)} (execution ${k})`, tone: 'info', ...(typeof b.requestId === 'string' ? { req: b.requestId } : {}) });
  if (moved.length) out.push({ title: 'executions', rows: moved });
  else if (after.size && s.step.role === 'engine') out.push({ title: 'executions', rows: [{ text: `${after.size} execution(s) in progress, none moved`, tone: 'info' }] });
  return out;
}

export const halfmoonLens: SystemLens = { system: 'halfmoon', label, requestLabel, tagger, summarize };
