/**
 * A validator for the Chrome / Perfetto JSON trace-event format ("Trace Event Format", the
 * format `chrome://tracing` and ui.perfetto.dev load), for the phases our exporter writes and
 * their neighbours: B/E and X duration slices, i/I instants, C counters, b/n/e async events,
 * s/t/f flows and M metadata.
 *
 * It checks what the format requires and what Perfetto's JSON importer silently drops or
 * mangles when it is wrong (`src/trace_processor/importers/json/json_trace_parser_impl.cc`):
 * - fields per phase: name, pid/tid, `ts` as a finite non-negative number of microseconds, `dur`
 *   on X, `id` (number or hex string) and `cat` on flows and async events, scopes on instants,
 *   numeric counter values, known metadata names with their argument;
 * - slices nest on each thread: B/E pairs match as a stack (names agree), and together with X
 *   slices they never partially overlap (Perfetto moves overlaps to a broken track);
 * - flows: per (cat, name, id), one `s`, any `t`, then one `f`, in time order; a flow's start
 *   and steps sit inside a slice on their thread, and an `f` with `bp: "e"` inside one too, or
 *   the importer cannot bind the arrow;
 * - async b/e pairs match per (cat, id); metadata does not name a thread twice differently.
 *
 * Returns a list of problems, empty when the trace is valid. Pure; used by tests and by
 * `halfmoon export --perfetto` as a self-check before it writes.
 */

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'b', 'n', 'e', 's', 't', 'f', 'M']);
const METADATA = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index', 'process_labels']);
const TOP_KEYS = new Set(['traceEvents', 'displayTimeUnit', 'otherData', 'metadata']);
const PROBLEMS_MAX = 200;
/** Largest `ts` accepted: microseconds must stay exact in a double. */
const TS_MAX = 2 ** 53;

type Ev = Record<string, unknown>;

interface Interval {
  readonly start: number;
  readonly end: number;
  readonly what: string;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function validId(v: unknown): boolean {
  return (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && /^(0x)?[0-9a-fA-F]{1,16}$/.test(v));
}

export function validateTraceEvents(doc: unknown): string[] {
  const problems: string[] = [];
  const bad = (msg: string) => {
    if (problems.length < PROBLEMS_MAX) problems.push(msg);
  };
  let events: unknown[];
  if (Array.isArray(doc)) events = doc;
  else if (isObj(doc)) {
    if (!Array.isArray(doc.traceEvents)) return ['the top level must be an array of events or an object with a "traceEvents" array'];
    events = doc.traceEvents;
    for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) bad(`unknown top-level key "${k}"`);
    if (doc.displayTimeUnit !== undefined && doc.displayTimeUnit !== 'ms' && doc.displayTimeUnit !== 'ns') bad(`displayTimeUnit must be "ms" or "ns", got ${JSON.stringify(doc.displayTimeUnit)}`);
    if (doc.otherData !== undefined && !isObj(doc.otherData)) bad('otherData must be an object');
  } else return ['the top level must be an array of events or an object with a "traceEvents" array'];

  const slices = new Map<string, Interval[]>(); // per thread: X and matched B/E
  const beByThread = new Map<string, { ev: Ev; at: number }[]>();
  const flows: { ev: Ev; at: number }[] = [];
  const asyncs: { ev: Ev; at: number }[] = [];
  const threadNames = new Map<string, string>();

  events.forEach((raw, at) => {
    const where = `event ${at}`;
    if (!isObj(raw)) return bad(`${where}: not an object`);
    const ev = raw;
    const ph = ev.ph;
    if (typeof ph !== 'string' || !PHASES.has(ph)) return bad(`${where}: unknown or unsupported phase ${JSON.stringify(ph)}`);
    const w = `${where} (ph ${ph}${typeof ev.name === 'string' ? ` "${ev.name}"` : ''})`;
    if (ph !== 'E' && typeof ev.name !== 'string') bad(`${w}: "name" must be a string`);
    if (ev.name !== undefined && typeof ev.name !== 'string') bad(`${w}: "name" must be a string`);
    if (!isInt(ev.pid)) bad(`${w}: "pid" must be a non-negative integer`);
    const threadScoped = ph === 'B' || ph === 'E' || ph === 'X' || ph === 's' || ph === 't' || ph === 'f' || ((ph === 'i' || ph === 'I') && (ev.s === undefined || ev.s === 't'));
    if ((threadScoped || (ph === 'M' && String(ev.name).startsWith('thread_'))) && !isInt(ev.tid)) bad(`${w}: "tid" must be a non-negative integer`);
    if (ev.tid !== undefined && !isInt(ev.tid)) bad(`${w}: "tid" must be a non-negative integer`);
    if (ph !== 'M') {
      if (typeof ev.ts !== 'number' || !Number.isFinite(ev.ts) || ev.ts < 0 || ev.ts > TS_MAX) bad(`${w}: "ts" must be a finite, non-negative number of microseconds`);
    } else if (ev.ts !== undefined && (typeof ev.ts !== 'number' || !Number.isFinite(ev.ts))) bad(`${w}: "ts" must be a number when present`);
    if (ev.cat !== undefined && typeof ev.cat !== 'string') bad(`${w}: "cat" must be a string`);
    if (ev.args !== undefined && !isObj(ev.args)) bad(`${w}: "args" must be an object`);
    const thread = `${String(ev.pid)}/${String(ev.tid)}`;
    const ts = typeof ev.ts === 'number' ? ev.ts : 0;
    switch (ph) {
      case 'X': {
        if (typeof ev.dur !== 'number' || !Number.isFinite(ev.dur) || ev.dur < 0) {
          bad(`${w}: an X slice needs a finite, non-negative "dur"`);
          break;
        }
        push(slices, thread, { start: ts, end: ts + ev.dur, what: w });
        break;
      }
      case 'B':
      case 'E':
        push(beByThread, thread, { ev, at });
        break;
      case 'i':
      case 'I':
        if (ev.s !== undefined && ev.s !== 'g' && ev.s !== 'p' && ev.s !== 't') bad(`${w}: instant scope "s" must be "g", "p" or "t"`);
        break;
      case 'C': {
        if (!isObj(ev.args) || Object.keys(ev.args).length === 0) {
          bad(`${w}: a counter needs "args" with at least one series`);
          break;
        }
        for (const [k, v] of Object.entries(ev.args)) {
          const okNum = typeof v === 'number' && Number.isFinite(v);
          const okStr = typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
          if (!okNum && !okStr) bad(`${w}: counter series "${k}" must be a number`);
        }
        break;
      }
      case 's':
      case 't':
      case 'f':
        if (!validId(ev.id)) bad(`${w}: a flow event needs an "id" (non-negative integer or hex string)`);
        if (typeof ev.cat !== 'string') bad(`${w}: a flow event needs a "cat" (flows match on cat, name and id)`);
        if (ev.bp !== undefined && ev.bp !== 'e') bad(`${w}: "bp" must be "e" when present`);
        if (ph === 's' && ev.bp !== undefined) bad(`${w}: "bp" applies to flow steps and ends, not starts`);
        flows.push({ ev, at });
        break;
      case 'b':
      case 'n':
      case 'e':
        if (ev.id === undefined && !isObj(ev.id2)) bad(`${w}: an async event needs an "id"`);
        else if (ev.id !== undefined && typeof ev.id !== 'string' && !isInt(ev.id)) bad(`${w}: an async "id" must be a string or a non-negative integer`);
        if (typeof ev.cat !== 'string') bad(`${w}: an async event needs a "cat" (async events match on cat and id)`);
        if (ph !== 'n') asyncs.push({ ev, at });
        break;
      case 'M': {
        const name = String(ev.name);
        if (!METADATA.has(name)) {
          bad(`${w}: unknown metadata name "${name}"`);
          break;
        }
        const args = isObj(ev.args) ? ev.args : null;
        if (name.endsWith('_name') && (!args || typeof args.name !== 'string')) bad(`${w}: ${name} needs args.name as a string`);
        if (name.endsWith('_sort_index') && (!args || typeof args.sort_index !== 'number' || !Number.isInteger(args.sort_index))) bad(`${w}: ${name} needs args.sort_index as an integer`);
        if (name === 'process_labels' && (!args || typeof args.labels !== 'string')) bad(`${w}: process_labels needs args.labels as a string`);
        if (name === 'thread_name' && args && typeof args.name === 'string') {
          const had = threadNames.get(thread);
          if (had !== undefined && had !== args.name) bad(`${w}: thread ${thread} is named twice ("${had}", "${args.name}")`);
          threadNames.set(thread, args.name);
        }
        break;
      }
    }
  });

  // B/E: a stack per thread, in time order (stable: file order breaks ties).
  for (const [thread, list] of beByThread) {
    list.sort((a, b) => (a.ev.ts as number) - (b.ev.ts as number) || a.at - b.at);
    const stack: { ev: Ev; at: number }[] = [];
    for (const x of list) {
      if (x.ev.ph === 'B') {
        stack.push(x);
        continue;
      }
      const open = stack.pop();
      if (!open) {
        bad(`event ${x.at} (ph E): ends a slice on thread ${thread}, but none is open`);
        continue;
      }
      if (typeof x.ev.name === 'string' && x.ev.name !== open.ev.name) bad(`event ${x.at} (ph E "${x.ev.name}"): ends "${String(open.ev.name)}" (event ${open.at}) on thread ${thread}: B/E do not nest`);
      if (typeof x.ev.cat === 'string' && typeof open.ev.cat === 'string' && x.ev.cat !== open.ev.cat) bad(`event ${x.at} (ph E): its cat "${x.ev.cat}" differs from its B's "${open.ev.cat}"`);
      push(slices, thread, { start: open.ev.ts as number, end: x.ev.ts as number, what: `event ${open.at} (ph B "${String(open.ev.name)}")` });
    }
    for (const open of stack) bad(`event ${open.at} (ph B "${String(open.ev.name)}"): never ended on thread ${thread}`);
  }

  // Slices on one thread must nest: no partial overlaps.
  const index = new Map<string, SliceIndex>();
  for (const [thread, list] of slices) {
    list.sort((a, b) => a.start - b.start || b.end - a.end);
    index.set(thread, sliceIndex(list));
    const stack: Interval[] = [];
    for (const s of list) {
      while (stack.length && s.start >= stack[stack.length - 1]!.end) stack.pop();
      const top = stack[stack.length - 1];
      if (top && s.end > top.end) bad(`${s.what}: overlaps ${top.what} on thread ${thread} without nesting ([${s.start}, ${s.end}] vs [${top.start}, ${top.end}])`);
      else stack.push(s);
    }
  }

  // Flows: s, t*, f per (cat, name, id), in time order; bound to enclosing slices.
  const byFlow = new Map<string, { ev: Ev; at: number }[]>();
  for (const f of flows) push(byFlow, `${String(f.ev.cat)}\u0000${String(f.ev.name)}\u0000${String(f.ev.id)}`, f);
  for (const list of byFlow.values()) {
    list.sort((a, b) => (a.ev.ts as number) - (b.ev.ts as number) || a.at - b.at);
    let open: { ev: Ev; at: number } | null = null;
    for (const x of list) {
      const w = `event ${x.at} (ph ${String(x.ev.ph)} "${String(x.ev.name)}" id ${String(x.ev.id)})`;
      if (x.ev.ph === 's') {
        if (open) bad(`${w}: starts flow ${String(x.ev.id)} again before event ${open.at}'s start of it ended`);
        open = x;
      } else if (!open) bad(`${w}: flow ${x.ev.ph === 'f' ? 'end' : 'step'} without a start before it`);
      else if (x.ev.ph === 'f') open = null;
      const thread = `${String(x.ev.pid)}/${String(x.ev.tid)}`;
      const ts = x.ev.ts as number;
      const ix = index.get(thread) ?? EMPTY_INDEX;
      const encl = enclosed(ix, ts);
      if (x.ev.ph === 'f' && x.ev.bp !== 'e') {
        if (!(ix.starts.length > 0 && ix.starts[ix.starts.length - 1]! >= ts)) bad(`${w}: a flow end without bp "e" binds to the next slice on thread ${thread}, and there is none`);
      } else if (!encl) bad(`${w}: not inside any slice on thread ${thread}, so the flow arrow cannot bind to one`);
    }
    if (open) bad(`event ${open.at} (ph s "${String(open.ev.name)}" id ${String(open.ev.id)}): flow never ends`);
  }

  // Async b/e: per (cat, id), e closes the latest open b.
  const byAsync = new Map<string, { ev: Ev; at: number }[]>();
  for (const a of asyncs) push(byAsync, `${String(a.ev.pid)}\u0000${String(a.ev.cat)}\u0000${String(a.ev.id ?? JSON.stringify(a.ev.id2))}`, a);
  for (const list of byAsync.values()) {
    list.sort((a, b) => (a.ev.ts as number) - (b.ev.ts as number) || a.at - b.at);
    const stack: { ev: Ev; at: number }[] = [];
    for (const x of list) {
      if (x.ev.ph === 'b') stack.push(x);
      else {
        const open = stack.pop();
        if (!open) bad(`event ${x.at} (ph e id ${String(x.ev.id)}): ends an async slice that is not open`);
        else if (typeof x.ev.name === 'string' && x.ev.name !== open.ev.name) bad(`event ${x.at} (ph e "${x.ev.name}"): ends "${String(open.ev.name)}" (event ${open.at}): async slices do not nest`);
      }
    }
    for (const open of stack) bad(`event ${open.at} (ph b "${String(open.ev.name)}" id ${String(open.ev.id)}): async slice never ended`);
  }
  if (problems.length === PROBLEMS_MAX) problems.push(`… stopped after ${PROBLEMS_MAX} problems`);
  return problems;
}

/** Slices of one thread sorted by start, with the running maximum of their ends. */
interface SliceIndex {
  readonly starts: number[];
  readonly maxEnd: number[];
}

const EMPTY_INDEX: SliceIndex = { starts: [], maxEnd: [] };

function sliceIndex(sorted: readonly Interval[]): SliceIndex {
  const starts: number[] = [];
  const maxEnd: number[] = [];
  let m = -Infinity;
  for (const s of sorted) {
    m = Math.max(m, s.end);
    starts.push(s.start);
    maxEnd.push(m);
  }
  return { starts, maxEnd };
}

/** Is `ts` inside some slice [start, end)? Binary search for the last slice starting at or before it. */
function enclosed(ix: SliceIndex, ts: number): boolean {
  let lo = 0;
  let hi = ix.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ix.starts[mid]! <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && ix.maxEnd[lo - 1]! > ts;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
