/**
 * The view model: one pass over a trace's records (from any source: simulator, explorer, real
 * runtime) builds the compact index the viewer draws from and the Perfetto exporter converts.
 * Bulky parts of records (states, message bodies, effects) stay in the trace text; the model
 * keeps record indices, so the browser parses one record when the user selects it.
 *
 * Coordinates. Every drawable thing has two positions: `p`, its place in event order (step k is
 * at p = k; anything between steps k-1 and k is at k - 0.5), and `t`, its time relative to the
 * first record (virtual µs for the simulator, wall-clock µs for real runs, step indices for
 * explorer counterexamples). The viewer draws either axis.
 *
 * Columns are plain number arrays (one entry per step, message, arrow, timer), so the model is
 * cheap to ship as JSON and to turn into typed arrays in the browser. Strings are interned.
 *
 * Pure TypeScript without Node or DOM APIs: the browser client imports the types and constants.
 */
import { brief, defaultMessageLabel, genericTagger, isObj, messageKind, type OpView, type RequestTagger, type StepView, type SystemLens } from './lens.ts';

export const MODEL_FORMAT = 'halfmoon-view';
export const MODEL_VERSION = 1;

export const INPUT_KINDS = ['start', 'restart', 'message', 'timer', 'client', 'response', 'other'] as const;
export type InputKindName = (typeof INPUT_KINDS)[number];
export const IK_START = 0;
export const IK_RESTART = 1;
export const IK_MESSAGE = 2;
export const IK_TIMER = 3;
export const IK_CLIENT = 4;
export const IK_RESPONSE = 5;
export const IK_OTHER = 6;

/** Step flags. */
export const SF_STATE = 1; // the record holds the state after the step
export const SF_VIOLATION = 2; // a violation is attributed to this step
export const SF_FATAL = 4; // the step returned a fatal effect

/** Arrow kinds: how one copy of a message ended. */
export const AK_DELIVERED = 0;
export const AK_DUPLICATE = 1; // a second delivery of a duplicated message
export const AK_LOST = 2; // lost on the way: partitioned, stale connection, receiver down
export const AK_DROPPED = 3; // dropped (or blocked by a partition) when it was sent
export const AK_IN_FLIGHT = 4; // still in flight when the trace ended

/** Arrow flags, from the fates the network decided at send time. */
export const AF_REORDERED = 1;
export const AF_DELAYED = 2;
export const AF_DUPLICATED = 4;

/** Lane interval kinds. */
export const LANE_DOWN = 0;
export const LANE_PAUSED = 1;
export const LANE_HALTED = 2;

export interface ViewNode {
  readonly id: string;
  readonly role: string;
  readonly driver: boolean;
}

export interface ViewMeta {
  readonly file: string;
  readonly source: string;
  readonly system: string | null;
  readonly variant: string | null;
  readonly scenario: string | null;
  readonly seed: number | null;
  readonly replay: string | null;
  readonly outcome: string | null;
  readonly traceHash: string | null;
  /** "us" (virtual or wall-clock microseconds) or "step" (explorer step indices). */
  readonly timeUnit: 'us' | 'step';
  readonly clock: 'virtual' | 'wall' | 'steps';
  /** Absolute time of t = 0 in the trace's own unit (the first record's, for wall clocks). */
  readonly t0: number;
  readonly tEnd: number;
  readonly pEnd: number;
  readonly records: number;
  readonly hasStates: boolean;
  readonly hasNet: boolean;
  readonly msgIdMode: 'ids' | 'content';
  readonly faultCounts: Readonly<Record<string, unknown>> | null;
  readonly report: Readonly<Record<string, unknown>> | null;
  readonly syncLatencyUs: number;
}

export interface StepCols {
  rec: number[];
  /** The trace's own step index (`i`), or -1. */
  i: number[];
  t: number[];
  node: number[];
  kind: number[];
  label: number[];
  /** Message index delivered by this step, or -1. */
  msg: number[];
  /** Request (string index), or -1. */
  req: number[];
  /** Record index of the node's state before the step (boot or previous step), or -1. */
  prev: number[];
  flags: number[];
  nEff: number[];
  /** Handling time in the trace's time unit (synced persists delay later effects), >= 0. */
  dur: number[];
}

export interface MsgCols {
  /** The trace's message id (negative for ids the viewer made up by matching contents). */
  id: number[];
  from: number[];
  /** Receiver node, or -1 when unknown. */
  to: number[];
  /** Sending step, or -1. */
  send: number[];
  /** Index of the sending effect in that step's effects, or -1. */
  eff: number[];
  label: number[];
  kind: number[];
  req: number[];
}

export interface ArrowCols {
  msg: number[];
  from: number[];
  to: number[];
  p0: number[];
  t0: number[];
  p1: number[];
  t1: number[];
  kind: number[];
  flags: number[];
  /** Delivering step for delivered copies, else -1. */
  step: number[];
  /** The fate (string index) for lost or dropped copies, else -1. */
  fate: number[];
}

export interface TimerCols {
  node: number[];
  set: number[];
  fire: number[];
  name: number[];
}

export interface ViewFault {
  readonly kind: string;
  readonly nodes: number[];
  readonly p: number;
  readonly t: number;
  readonly rec: number;
  readonly detail: Record<string, unknown>;
  readonly refused: string | null;
  readonly text: string;
}

export interface LaneCols {
  node: number[];
  kind: number[];
  p0: number[];
  t0: number[];
  p1: number[];
  t1: number[];
}

export interface SpanCols {
  p0: number[];
  t0: number[];
  p1: number[];
  t1: number[];
}

export interface NetMark {
  readonly fate: string;
  readonly from: number;
  readonly to: number;
  readonly p: number;
  readonly t: number;
}

export interface ViewOp {
  readonly reqId: string;
  readonly client: number;
  readonly node: number;
  readonly input: unknown;
  output: unknown;
  readonly callT: number;
  callStep: number;
  retT: number;
  retStep: number;
}

export interface ViewViolation {
  readonly invariant: string;
  readonly message: string;
  readonly eventIndex: number | null;
  readonly node: string | null;
  readonly input: unknown;
  readonly rec: number;
  /** The step it is attributed to, or -1 for a judgement on the whole history. */
  step: number;
  /** Where the viewer opens: the step, or the return of the first operation it names. */
  focus: number;
  /** Request ids its message (or the lens's explanation) names, the one to open on first. */
  reqs: string[];
  /** The system lens's concrete witness, when it found one (e.g. a stale read). */
  explanation: string | null;
  /** Steps that lead to it, in order (its causal past, or the steps of the operations it names). */
  lead: number[];
  readonly p: number;
  readonly t: number;
}

export interface ViewModel {
  readonly format: typeof MODEL_FORMAT;
  readonly v: typeof MODEL_VERSION;
  readonly meta: ViewMeta;
  readonly nodes: ViewNode[];
  readonly strings: string[];
  readonly steps: StepCols;
  readonly msgs: MsgCols;
  readonly arrows: ArrowCols;
  readonly timers: TimerCols;
  readonly faults: ViewFault[];
  readonly lanes: LaneCols;
  readonly partitions: SpanCols;
  readonly netMarks: NetMark[];
  readonly ops: ViewOp[];
  /** Restart steps and the record of the node's last state before the crash (what it lost). */
  readonly restarts: { step: number[]; lost: number[] };
  readonly violations: ViewViolation[];
  /** Message kinds present (string indices), for the filter. */
  readonly kinds: number[];
  readonly warnings: string[];
}

/** How many steps the lead-up of a step-anchored violation shows. */
export const LEAD_STEPS_MAX = 40;
/** How many steps the lead-up of a history-level violation shows. */
export const LEAD_OP_STEPS_MAX = 400;
const WARNINGS_MAX = 20;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

interface PendingFate {
  readonly id: number;
  readonly fate: string;
  readonly p: number;
  readonly t: number;
  readonly from: number;
  readonly to: number;
}

/** Builds a model from records fed in order. */
export class ModelBuilder {
  private readonly strings: string[] = [];
  private readonly stringIdx = new Map<string, number>();
  private readonly nodes: ViewNode[] = [];
  private readonly nodeIdx = new Map<string, number>();
  private readonly steps: StepCols = { rec: [], i: [], t: [], node: [], kind: [], label: [], msg: [], req: [], prev: [], flags: [], nEff: [], dur: [] };
  private readonly msgs: MsgCols = { id: [], from: [], to: [], send: [], eff: [], label: [], kind: [], req: [] };
  private readonly timers: TimerCols = { node: [], set: [], fire: [], name: [] };
  private readonly faults: ViewFault[] = [];
  private readonly lanes: LaneCols = { node: [], kind: [], p0: [], t0: [], p1: [], t1: [] };
  private readonly partitions: SpanCols = { p0: [], t0: [], p1: [], t1: [] };
  private readonly netMarks: NetMark[] = [];
  private readonly ops: ViewOp[] = [];
  private readonly opByReq = new Map<string, number>();
  private readonly violations: ViewViolation[] = [];
  private readonly warnings: string[] = [];
  private warned = 0;
  private readonly kindSet = new Set<number>();

  private header: Record<string, unknown> = {};
  private end: Record<string, unknown> | null = null;
  private readonly lens: SystemLens | null;
  private readonly tagger: RequestTagger;
  private readonly source: string;
  private readonly timeUnit: 'us' | 'step';
  private readonly clock: 'virtual' | 'wall' | 'steps';
  private readonly syncLatencyUs: number;

  private records = 0;
  private lastT = 0;
  private tMin = Infinity;
  private stepsSorted = true;
  private hasStates = false;
  private hasNet = false;
  private idMode: 'ids' | 'content' | null = null;
  private syntheticIds = 0;

  private readonly msgById = new Map<number, number>();
  private readonly contentQueue = new Map<string, number[]>();
  private readonly contentLast = new Map<string, number>();
  private readonly stepMsgRaw: number[] = []; // raw delivered msg id per step, NaN when none
  private readonly fates: PendingFate[] = [];
  private readonly reqOrigin = new Map<string, number>();
  private readonly lastStateRec: number[] = [];
  private readonly lastState: unknown[] = [];
  private readonly lastStepOf: number[] = [];
  private readonly preCrashRec: number[] = [];
  private readonly restarts = { step: [] as number[], lost: [] as number[] };
  private readonly timersArmed: Map<string, number>[] = [];
  private readonly down: number[] = []; // open interval index per node, -1 none
  private readonly paused: number[] = [];
  private partitionDepth = 0;
  private partitionOpen = -1;
  private readonly pendingCall = new Map<number, number[]>(); // client node -> op indices
  private readonly pendingRet = new Map<number, number[]>();
  private readonly violationStepCand: number[] = [];
  private fatalWatch: { v: number; node: number } | null = null;
  private readonly historyCount = { n: 0 };

  constructor(
    header: Record<string, unknown>,
    private readonly file: string,
    lens: SystemLens | null,
  ) {
    this.header = header;
    this.lens = lens;
    this.tagger = lens?.tagger ? lens.tagger() : genericTagger();
    this.source = typeof header.source === 'string' ? header.source : 'sim';
    const unit = header.timeUnit;
    this.timeUnit = unit === 'us' || unit === 'step' ? unit : this.source === 'explore' ? 'step' : 'us';
    const clock = header.clock;
    this.clock = this.timeUnit === 'step' ? 'steps' : clock === 'wall' || clock === 'virtual' ? clock : this.source === 'real' ? 'wall' : 'virtual';
    const scen = isObj(header.scenario) ? header.scenario : null;
    const disk = scen && isObj(scen.disk) ? scen.disk : null;
    this.syncLatencyUs = num(disk?.syncLatencyUs) ?? 0;
    if (Array.isArray(header.nodes)) {
      for (const n of header.nodes) {
        if (isObj(n) && typeof n.id === 'string') this.addNode(n.id, typeof n.role === 'string' ? n.role : '?', n.driver === true);
      }
    }
    this.records = 1;
  }

  private warn(msg: string): void {
    this.warned++;
    if (this.warnings.length < WARNINGS_MAX) this.warnings.push(msg);
  }

  intern(s: string): number {
    let i = this.stringIdx.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIdx.set(s, i);
    }
    return i;
  }

  private addNode(id: string, role: string, driver: boolean): number {
    const have = this.nodeIdx.get(id);
    if (have !== undefined) return have;
    const i = this.nodes.length;
    this.nodes.push({ id, role, driver });
    this.nodeIdx.set(id, i);
    this.lastStateRec.push(-1);
    this.lastState.push(undefined);
    this.lastStepOf.push(-1);
    this.preCrashRec.push(-1);
    this.timersArmed.push(new Map());
    this.down.push(-1);
    this.paused.push(-1);
    return i;
  }

  /** A node named by a record; unknown names get a lane of their own. */
  private nodeOf(v: unknown): number {
    if (typeof v !== 'string') return -1;
    const i = this.nodeIdx.get(v);
    return i !== undefined ? i : this.addNode(v, '?', false);
  }

  private get pHere(): number {
    return this.steps.rec.length - 0.5;
  }

  private timeOf(rec: Record<string, unknown>): number {
    const t = num(rec.t);
    if (t !== null) return t;
    if (rec.type === 'step') {
      const i = num(rec.i);
      if (i !== null && this.timeUnit === 'step') return i;
    }
    const tu = num(rec.timeUs);
    if (tu !== null) return tu;
    return this.lastT;
  }

  /** Feeds one record (the header excluded); `rec` is its index among the trace's records. */
  add(r: Record<string, unknown>, rec: number): void {
    this.records++;
    switch (r.type) {
      case 'step':
        return this.addStep(r, rec);
      case 'boot':
        return this.addBoot(r, rec);
      case 'net':
        return this.addNet(r);
      case 'fault':
        return this.addFault(r, rec);
      case 'history':
        return this.addHistory(r);
      case 'violation':
        return this.addViolation(r, rec);
      case 'end':
        this.end = r;
        return;
      case 'header':
        return this.warn(`record ${rec}: a second header (ignored)`);
      default:
        return; // other record types are for other readers
    }
  }

  private addBoot(r: Record<string, unknown>, rec: number): void {
    const n = this.nodeOf(r.node);
    if (n < 0) return this.warn(`record ${rec}: boot without a node`);
    this.noteTime(this.timeOf(r));
    if ('state' in r) {
      this.lastStateRec[n] = rec;
      this.lastState[n] = r.state;
      this.hasStates = true;
    }
  }

  private noteTime(t: number): void {
    this.lastT = t;
    if (t < this.tMin) this.tMin = t;
  }

  private addStep(r: Record<string, unknown>, rec: number): void {
    const n = this.nodeOf(r.node);
    if (n < 0) return this.warn(`record ${rec}: step without a node (skipped)`);
    const k = this.steps.rec.length;
    const t = this.timeOf(r);
    if (k > 0 && t < this.steps.t[k - 1]!) this.stepsSorted = false;
    this.noteTime(t);
    const input = isObj(r.input) ? r.input : null;
    const effects = Array.isArray(r.effects) ? (r.effects.filter(isObj) as Record<string, unknown>[]) : [];
    const hasState = 'state' in r;
    if (hasState) this.hasStates = true;
    const node = this.nodes[n]!;
    const view: StepView = { node: node.id, role: node.role, input, effects, state: hasState ? r.state : undefined };
    const before = this.lastState[n];

    // The delivered message, by id or (for traces without ids) by content.
    const kindName = input && typeof input.type === 'string' ? input.type : 'other';
    let kind = INPUT_KINDS.indexOf(kindName as InputKindName);
    if (kind < 0) kind = IK_OTHER;
    let rawMsg = NaN;
    const msgId = num(r.msgId);
    if (msgId !== null) {
      rawMsg = msgId;
      this.idMode ??= 'ids';
    } else if (input && (kind === IK_MESSAGE || kind === IK_CLIENT || kind === IK_RESPONSE) && this.idMode === 'content') {
      const from = kind === IK_CLIENT ? this.clientOf(input) : this.nodeOf(input.from);
      const key = this.contentKey(from, n, kind === IK_MESSAGE ? 'm' : kind === IK_CLIENT ? 'q' : 'r', kind === IK_MESSAGE ? input.msg : input.body);
      const q = this.contentQueue.get(key);
      const m = q && q.length ? q.shift()! : this.contentLast.get(key);
      if (m !== undefined) {
        this.contentLast.set(key, m);
        rawMsg = this.msgs.id[m]!;
      }
    }

    const reqName = this.tagger.step(view, before);
    // A step no lens could attribute serves the request of the message it delivered (a log or
    // store answering an engine), so a request filter follows an operation across services.
    const delivered = Number.isNaN(rawMsg) ? undefined : this.msgById.get(rawMsg);
    const req = reqName !== null ? this.intern(reqName) : delivered !== undefined ? this.msgs.req[delivered]! : -1;
    let flags = hasState ? SF_STATE : 0;
    let dur = 0;
    for (const e of effects) {
      if (e.type === 'fatal') flags |= SF_FATAL;
      if (e.type === 'persist' && e.sync === true) dur += this.syncLatencyUs;
    }
    const s = this.steps;
    s.rec.push(rec);
    s.i.push(num(r.i) ?? -1);
    s.t.push(t);
    s.node.push(n);
    s.kind.push(kind);
    s.label.push(this.intern(this.inputLabel(kind, input)));
    s.msg.push(-1);
    s.req.push(req);
    s.prev.push(this.lastStateRec[n]!);
    s.flags.push(flags);
    s.nEff.push(effects.length);
    s.dur.push(this.timeUnit === 'us' ? dur : 0);
    this.stepMsgRaw.push(rawMsg);

    if (kind === IK_RESTART && this.preCrashRec[n]! >= 0) {
      this.restarts.step.push(k);
      this.restarts.lost.push(this.preCrashRec[n]!);
      this.preCrashRec[n] = -1;
    }
    this.timersOnStep(n, k, kind, input, effects);
    this.sendsOf(n, k, effects, Array.isArray(r.msgIds) ? r.msgIds : null, req);
    this.attachHistory(n, k);
    if (this.fatalWatch && this.fatalWatch.node === n && flags & SF_FATAL) this.violationStepCand[this.fatalWatch.v] = k;
    this.fatalWatch = null;

    this.lastStepOf[n] = k;
    this.lastStateRec[n] = hasState ? rec : -1;
    this.lastState[n] = hasState ? r.state : undefined;
    if (flags & SF_FATAL) this.openLane(n, LANE_HALTED, t);
  }

  private clientOf(input: Record<string, unknown>): number {
    const reqId = typeof input.reqId === 'string' ? input.reqId : null;
    const o = reqId === null ? undefined : this.reqOrigin.get(reqId);
    return o ?? -1;
  }

  private contentKey(from: number, to: number, tag: string, body: unknown): string {
    return `${from}>${to}:${tag}:${JSON.stringify(body) ?? 'undefined'}`;
  }

  private inputLabel(kind: number, input: Record<string, unknown> | null): string {
    if (!input) return '?';
    switch (kind) {
      case IK_START:
        return 'start';
      case IK_RESTART:
        return 'restart';
      case IK_MESSAGE:
        return this.lens?.label?.(input.msg) ?? defaultMessageLabel(input.msg);
      case IK_TIMER:
        return `timer ${String(input.timer)}`;
      case IK_CLIENT:
        return `${String(input.reqId)} ${this.lens?.requestLabel?.(input.body) ?? brief(input.body, 40)}`;
      case IK_RESPONSE:
        return `${String(input.reqId)} → ${this.lens?.requestLabel?.(input.body) ?? brief(input.body, 40)}`;
      default:
        return typeof input.type === 'string' ? input.type : '?';
    }
  }

  /** Links timer fires to the step that armed them, mirroring the simulator's timer rules. */
  private timersOnStep(n: number, k: number, kind: number, input: Record<string, unknown> | null, effects: Record<string, unknown>[]): void {
    const armed = this.timersArmed[n]!;
    if (kind === IK_TIMER && input && typeof input.timer === 'string') {
      const set = armed.get(input.timer);
      armed.delete(input.timer);
      const tm = this.timers;
      tm.node.push(n);
      tm.set.push(set ?? -1);
      tm.fire.push(k);
      tm.name.push(this.intern(input.timer));
    }
    if (kind === IK_START || kind === IK_RESTART) armed.clear();
    for (const e of effects) {
      if (e.type === 'setTimer' && typeof e.timer === 'string') armed.set(e.timer, k);
      else if (e.type === 'cancelTimer' && typeof e.timer === 'string') armed.delete(e.timer);
    }
  }

  /** Registers the messages a step sent, tying each to its id (or, without ids, to its content). */
  private sendsOf(n: number, k: number, effects: Record<string, unknown>[], ids: unknown[] | null, stepReq: number): void {
    const sendish: number[] = [];
    effects.forEach((e, j) => {
      if (e.type === 'send' || e.type === 'request' || e.type === 'reply') sendish.push(j);
    });
    if (sendish.length === 0) return;
    if (this.idMode === null) this.idMode = ids !== null ? 'ids' : 'content';
    let assign: (number | null)[];
    if (this.idMode === 'ids') {
      const idList = (ids ?? []).filter((x): x is number => typeof x === 'number');
      if (idList.length === sendish.length) assign = idList;
      else {
        // The simulator sends no reply for a request nobody issued; mirror that to line ids up.
        let q = 0;
        assign = sendish.map((j) => {
          const e = effects[j]!;
          if (e.type === 'reply' && !(typeof e.reqId === 'string' && this.reqOrigin.has(e.reqId))) return null;
          return q < idList.length ? idList[q++]! : null;
        });
      }
    } else {
      assign = sendish.map(() => -1 - this.syntheticIds++);
    }
    sendish.forEach((j, q) => {
      const e = effects[j]!;
      const id = assign[q];
      if (e.type === 'request' && typeof e.reqId === 'string') this.reqOrigin.set(e.reqId, n);
      if (id === null || id === undefined) return;
      let to = -1;
      let content: unknown;
      let label: string;
      let kind: string;
      let tag: string;
      if (e.type === 'send') {
        to = this.nodeOf(e.to);
        content = e.msg;
        label = this.lens?.label?.(e.msg) ?? defaultMessageLabel(e.msg);
        kind = messageKind(e.msg);
        tag = 'm';
      } else if (e.type === 'request') {
        to = this.nodeOf(e.to);
        content = e.body;
        label = `${String(e.reqId)} ${this.lens?.requestLabel?.(e.body) ?? brief(e.body, 40)}`;
        kind = 'request';
        tag = 'q';
      } else {
        to = typeof e.reqId === 'string' ? (this.reqOrigin.get(e.reqId) ?? -1) : -1;
        content = e.body;
        label = `${String(e.reqId)} → ${this.lens?.requestLabel?.(e.body) ?? brief(e.body, 40)}`;
        kind = 'response';
        tag = 'r';
      }
      const reqName = e.type === 'send' ? this.tagger.message(e.msg, this.nodes[n]!.id, to >= 0 ? this.nodes[to]!.id : '') : typeof e.reqId === 'string' ? e.reqId : null;
      const m = this.msgs.id.length;
      const M = this.msgs;
      M.id.push(id);
      M.from.push(n);
      M.to.push(to);
      M.send.push(k);
      M.eff.push(j);
      M.label.push(this.intern(label));
      const ki = this.intern(kind);
      M.kind.push(ki);
      this.kindSet.add(ki);
      M.req.push(reqName !== null ? this.intern(reqName) : stepReq);
      this.msgById.set(id, m);
      if (this.idMode === 'content' && to >= 0) {
        const key = this.contentKey(n, to, tag, content);
        const q0 = this.contentQueue.get(key);
        if (q0) q0.push(m);
        else this.contentQueue.set(key, [m]);
      }
    });
  }

  private addNet(r: Record<string, unknown>): void {
    this.hasNet = true;
    const t = this.timeOf(r);
    this.noteTime(t);
    const fate = typeof r.fate === 'string' ? r.fate : '?';
    const from = this.nodeOf(r.from);
    const to = this.nodeOf(r.to);
    const id = num(r.msgId);
    if (id !== null) this.fates.push({ id, fate, p: this.pHere, t, from, to });
    else this.netMarks.push({ fate, from, to, p: this.pHere, t });
  }

  private openLane(n: number, kind: number, t: number): number {
    const L = this.lanes;
    const i = L.node.length;
    L.node.push(n);
    L.kind.push(kind);
    L.p0.push(this.pHere);
    L.t0.push(t);
    L.p1.push(NaN);
    L.t1.push(NaN);
    return i;
  }

  private closeLane(i: number, t: number): void {
    this.lanes.p1[i] = this.pHere;
    this.lanes.t1[i] = t;
  }

  private addFault(r: Record<string, unknown>, rec: number): void {
    const t = this.timeOf(r);
    this.noteTime(t);
    const kind = typeof r.kind === 'string' ? r.kind : '?';
    const nodes = Array.isArray(r.nodes) ? r.nodes.map((x) => this.nodeOf(x)).filter((x) => x >= 0) : [];
    const detail = isObj(r.detail) ? r.detail : {};
    const refused = typeof detail.refused === 'string' ? detail.refused : null;
    this.faults.push({ kind, nodes, p: this.pHere, t, rec, detail, refused, text: this.faultText(kind, nodes, detail, refused) });
    if (refused !== null) return;
    switch (kind) {
      case 'crash':
        for (const n of nodes) {
          if (this.paused[n]! >= 0) this.closeLane(this.paused[n]!, t);
          this.paused[n] = -1;
          if (this.down[n]! < 0) this.down[n] = this.openLane(n, LANE_DOWN, t);
          if (this.lastStateRec[n]! >= 0) this.preCrashRec[n] = this.lastStateRec[n]!;
          this.timersArmed[n]!.clear();
          this.lastStateRec[n] = -1;
          this.lastState[n] = undefined;
        }
        return;
      case 'restart':
        for (const n of nodes) {
          if (this.down[n]! >= 0) this.closeLane(this.down[n]!, t);
          this.down[n] = -1;
        }
        return;
      case 'pause':
        for (const n of nodes) if (this.paused[n]! < 0) this.paused[n] = this.openLane(n, LANE_PAUSED, t);
        return;
      case 'resume':
        for (const n of nodes) {
          if (this.paused[n]! >= 0) this.closeLane(this.paused[n]!, t);
          this.paused[n] = -1;
        }
        return;
      case 'partition':
        if (this.partitionDepth++ === 0) {
          const P = this.partitions;
          this.partitionOpen = P.p0.length;
          P.p0.push(this.pHere);
          P.t0.push(t);
          P.p1.push(NaN);
          P.t1.push(NaN);
        }
        return;
      case 'heal': {
        // A heal with `links` ends one timed partition; a bare heal (scripted) heals everything.
        const all = typeof detail.links !== 'number';
        if (this.partitionDepth > 0) this.partitionDepth = all ? 0 : this.partitionDepth - 1;
        if (this.partitionDepth === 0 && this.partitionOpen >= 0) {
          this.partitions.p1[this.partitionOpen] = this.pHere;
          this.partitions.t1[this.partitionOpen] = t;
          this.partitionOpen = -1;
        }
        return;
      }
      default:
        return;
    }
  }

  private faultText(kind: string, nodes: number[], d: Record<string, unknown>, refused: string | null): string {
    const names = nodes.map((n) => this.nodes[n]!.id);
    let s: string;
    if (kind === 'partition' && Array.isArray(d.groups)) {
      const groups = d.groups.map((g) => (Array.isArray(g) ? g.join(',') : String(g))).join(' | ');
      s = `partition (${String(d.mode ?? '')}) ${groups}`;
    } else if (kind === 'pause' && typeof d.durationUs === 'number') s = `pause ${names.join(',')} for ${d.durationUs} µs`;
    else if (kind === 'clockSkew') s = `clock skew ${names.join(',')} ${String(d.skewUs)} µs`;
    else if (kind === 'clockDrift') s = `clock drift ${names.join(',')} ${typeof d.ppm === 'number' ? d.ppm.toFixed(0) : String(d.ppm)} ppm`;
    else if (kind === 'linkFault') s = `link fault ${names.join('↔')} ${brief(d, 60)}`;
    else if (kind === 'crash' && typeof d.unsyncedLost === 'number' && d.unsyncedLost > 0) s = `crash ${names.join(',')} (lost ${d.unsyncedLost} unsynced write(s))`;
    else s = names.length ? `${kind} ${names.join(',')}` : kind;
    return refused !== null ? `${s} (refused: ${refused})` : s;
  }

  private addHistory(r: Record<string, unknown>): void {
    this.historyCount.n++;
    const kind = r.kind;
    if (kind !== 'call' && kind !== 'ret') return;
    const reqId = typeof r.reqId === 'string' ? r.reqId : null;
    if (reqId === null) return;
    const t = this.timeOf(r);
    this.noteTime(t);
    const client = this.nodeOf(r.client);
    if (kind === 'call') {
      const o = this.ops.length;
      this.ops.push({ reqId, client, node: this.nodeOf(r.node), input: r.body ?? null, output: null, callT: t, callStep: -1, retT: -1, retStep: -1 });
      this.opByReq.set(reqId, o);
      this.intern(reqId);
      this.queue(this.pendingCall, client, o);
    } else {
      const o = this.opByReq.get(reqId);
      if (o === undefined) return;
      const op = this.ops[o]!;
      if (op.retT >= 0) return; // a duplicate response
      op.retT = t;
      op.output = r.body ?? null;
      this.queue(this.pendingRet, client, o);
    }
  }

  private queue(m: Map<number, number[]>, k: number, v: number): void {
    const q = m.get(k);
    if (q) q.push(v);
    else m.set(k, [v]);
  }

  /** History calls and returns belong to the next step of their client (see sim/trace.ts). */
  private attachHistory(n: number, k: number): void {
    const calls = this.pendingCall.get(n);
    if (calls) {
      for (const o of calls) this.ops[o]!.callStep = k;
      this.pendingCall.delete(n);
    }
    const rets = this.pendingRet.get(n);
    if (rets) {
      for (const o of rets) this.ops[o]!.retStep = k;
      this.pendingRet.delete(n);
    }
  }

  private addViolation(r: Record<string, unknown>, rec: number): void {
    const t = num(r.timeUs) ?? this.lastT;
    const node = typeof r.node === 'string' ? r.node : null;
    const v = this.violations.length;
    this.violations.push({
      invariant: typeof r.invariant === 'string' ? r.invariant : '?',
      message: typeof r.message === 'string' ? r.message : brief(r, 200),
      eventIndex: num(r.eventIndex),
      node,
      input: r.input ?? null,
      rec,
      step: -1,
      focus: -1,
      reqs: [],
      explanation: null,
      lead: [],
      p: this.pHere,
      t,
    });
    const n = node === null ? -1 : this.nodeOf(node);
    this.violationStepCand.push(n >= 0 ? this.lastStepOf[n]! : -1);
    // A fatal effect's violation is written before the step that returned it.
    if (n >= 0) this.fatalWatch = { v, node: n };
  }

  /** Everything fed: resolves messages, arrows, violations; returns the model. */
  finish(): ViewModel {
    const end = this.end;
    // Violations only the end record lists (a source that writes no violation records).
    if (this.violations.length === 0 && end && Array.isArray(end.violations)) {
      for (const v of end.violations) if (isObj(v)) this.addViolation(v, -1);
    }
    const perm = this.stepsSorted ? null : this.sortSteps();
    this.resolveDeliveries();
    if (this.historyCount.n === 0) this.opsFromSteps();
    const t0 = this.clock === 'wall' && Number.isFinite(this.tMin) ? this.tMin : 0;
    const stepsN = this.steps.rec.length;
    const lastStepT = stepsN ? this.steps.t[stepsN - 1]! : 0;
    const endT = num(end?.simulatedTimeUs);
    const tEndAbs = Math.max(lastStepT, this.lastT, this.clock === 'virtual' && endT !== null ? endT : -Infinity);
    const pEnd = stepsN - 0.5;
    this.closeOpen(pEnd, tEndAbs);
    const arrows = this.buildArrows(pEnd, tEndAbs);
    if (perm) this.repositionByTime();
    this.resolveViolations();
    if (t0 !== 0) this.shiftTime(t0, arrows);
    const h = this.header;
    const scen = isObj(h.scenario) ? h.scenario : null;
    if (this.warned > this.warnings.length) this.warnings.push(`… and ${this.warned - this.warnings.length} more warning(s)`);
    return {
      format: MODEL_FORMAT,
      v: MODEL_VERSION,
      meta: {
        file: this.file,
        source: this.source,
        system: typeof h.system === 'string' ? h.system : scen && typeof scen.system === 'string' ? scen.system : null,
        variant: typeof h.variant === 'string' ? h.variant : scen && typeof scen.variant === 'string' ? scen.variant : null,
        scenario: scen && typeof scen.name === 'string' ? scen.name : typeof h.scenario === 'string' ? h.scenario : null,
        seed: num(h.seed),
        replay: typeof h.replay === 'string' ? h.replay : null,
        outcome: end && typeof end.outcome === 'string' ? end.outcome : this.violations.length ? 'violation' : null,
        traceHash: end && typeof end.traceHash === 'string' ? end.traceHash : null,
        timeUnit: this.timeUnit,
        clock: this.clock,
        t0,
        tEnd: tEndAbs - t0,
        pEnd,
        records: this.records,
        hasStates: this.hasStates,
        hasNet: this.hasNet,
        msgIdMode: this.idMode ?? 'ids',
        faultCounts: end && isObj(end.faults) ? end.faults : null,
        report: end && isObj(end.report) ? end.report : null,
        syncLatencyUs: this.syncLatencyUs,
      },
      nodes: this.nodes,
      strings: this.strings,
      steps: this.steps,
      msgs: this.msgs,
      arrows,
      timers: this.timers,
      faults: this.faults,
      lanes: this.lanes,
      partitions: this.partitions,
      netMarks: this.netMarks,
      ops: this.ops,
      restarts: this.restarts,
      violations: this.violations,
      kinds: [...this.kindSet].sort((a, b) => this.strings[a]!.localeCompare(this.strings[b]!)),
      warnings: this.warnings,
    };
  }

  /** Real runs may interleave nodes' records out of time order: order steps by time, stably. */
  private sortSteps(): number[] {
    const s = this.steps;
    const n = s.rec.length;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => s.t[a]! - s.t[b]! || a - b);
    const where = new Array<number>(n);
    order.forEach((old, neu) => (where[old] = neu));
    for (const key of Object.keys(s) as (keyof StepCols)[]) permute(s[key], order);
    permute(this.stepMsgRaw, order);
    const re = (x: number) => (x >= 0 ? where[x]! : x);
    this.msgs.send.forEach((x, i) => (this.msgs.send[i] = re(x)));
    this.timers.set.forEach((x, i) => (this.timers.set[i] = re(x)));
    this.timers.fire.forEach((x, i) => (this.timers.fire[i] = re(x)));
    this.restarts.step.forEach((x, i) => (this.restarts.step[i] = re(x)));
    for (const o of this.ops) {
      o.callStep = re(o.callStep);
      o.retStep = re(o.retStep);
    }
    this.violationStepCand.forEach((x, i) => (this.violationStepCand[i] = re(x)));
    this.warn('steps were not in time order; the viewer orders them by time');
    return where;
  }

  /** Event-order positions of things between steps, recomputed from their times (after sorting). */
  private repositionByTime(): void {
    const ts = this.steps.t;
    const pos = (t: number): number => {
      let lo = 0;
      let hi = ts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ts[mid]! <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo - 0.5;
    };
    replaceAll(this.faults, (f) => ({ ...f, p: pos(f.t) }));
    replaceAll(this.netMarks, (m) => ({ ...m, p: pos(m.t) }));
    const L = this.lanes;
    L.p0.forEach((_, i) => {
      L.p0[i] = pos(L.t0[i]!);
      L.p1[i] = pos(L.t1[i]!);
    });
    const P = this.partitions;
    P.p0.forEach((_, i) => {
      P.p0[i] = pos(P.t0[i]!);
      P.p1[i] = pos(P.t1[i]!);
    });
  }

  private resolveDeliveries(): void {
    const s = this.steps;
    for (let k = 0; k < s.rec.length; k++) {
      const raw = this.stepMsgRaw[k]!;
      if (Number.isNaN(raw)) continue;
      const m = this.msgById.get(raw);
      if (m === undefined) continue;
      s.msg[k] = m;
      if (this.msgs.to[m]! < 0) this.msgs.to[m] = s.node[k]!;
    }
  }

  /** Explorer traces may carry no history: client operations from the driver's requests instead. */
  private opsFromSteps(): void {
    const M = this.msgs;
    const s = this.steps;
    for (let m = 0; m < M.id.length; m++) {
      if (this.strings[M.kind[m]!] !== 'request') continue;
      const label = this.strings[M.label[m]!]!;
      const reqId = label.split(' ')[0]!;
      const k = M.send[m]!;
      this.opByReq.set(reqId, this.ops.length);
      this.ops.push({ reqId, client: M.from[m]!, node: M.to[m]!, input: null, output: null, callT: k >= 0 ? s.t[k]! : 0, callStep: k, retT: -1, retStep: -1 });
    }
    for (let k = 0; k < s.rec.length; k++) {
      if (s.kind[k] !== IK_RESPONSE) continue;
      const reqId = this.strings[s.label[k]!]!.split(' ')[0]!;
      const o = this.opByReq.get(reqId);
      if (o === undefined || this.ops[o]!.retStep >= 0) continue;
      this.ops[o]!.retStep = k;
      this.ops[o]!.retT = s.t[k]!;
    }
  }

  private closeOpen(pEnd: number, tEnd: number): void {
    const L = this.lanes;
    for (let i = 0; i < L.p1.length; i++) {
      if (Number.isNaN(L.p1[i]!)) {
        L.p1[i] = pEnd;
        L.t1[i] = tEnd;
      }
    }
    const P = this.partitions;
    for (let i = 0; i < P.p1.length; i++) {
      if (Number.isNaN(P.p1[i]!)) {
        P.p1[i] = pEnd;
        P.t1[i] = tEnd;
      }
    }
  }

  /** One arrow per copy of every message: delivered, duplicated, lost, dropped or in flight. */
  private buildArrows(pEnd: number, tEnd: number): ArrowCols {
    const A: ArrowCols = { msg: [], from: [], to: [], p0: [], t0: [], p1: [], t1: [], kind: [], flags: [], step: [], fate: [] };
    const M = this.msgs;
    const s = this.steps;
    const nMsgs = M.id.length;
    const delivered: number[][] = Array.from({ length: nMsgs }, () => []);
    for (let k = 0; k < s.rec.length; k++) if (s.msg[k]! >= 0) delivered[s.msg[k]!]!.push(k);
    const fatesOf: PendingFate[][] = Array.from({ length: nMsgs }, () => []);
    for (const f of this.fates) {
      const m = this.msgById.get(f.id);
      if (m === undefined) this.netMarks.push({ fate: f.fate, from: f.from, to: f.to, p: f.p, t: f.t });
      else fatesOf[m]!.push(f);
    }
    const push = (m: number, p1: number, t1: number, kind: number, flags: number, step: number, fate: number) => {
      const k0 = M.send[m]!;
      A.msg.push(m);
      A.from.push(M.from[m]!);
      A.to.push(M.to[m]!);
      A.p0.push(k0);
      A.t0.push(s.t[k0]!);
      A.p1.push(p1);
      A.t1.push(t1);
      A.kind.push(kind);
      A.flags.push(flags);
      A.step.push(step);
      A.fate.push(fate);
    };
    for (let m = 0; m < nMsgs; m++) {
      const k0 = M.send[m]!;
      if (k0 < 0 || M.to[m]! < 0) continue;
      let flags = 0;
      let dropped: PendingFate | null = null;
      const lost: PendingFate[] = [];
      for (const f of fatesOf[m]!) {
        const atSend = f.p < k0;
        if (f.fate === 'duplicate') flags |= AF_DUPLICATED;
        else if (f.fate === 'reorder') flags |= AF_REORDERED;
        else if (f.fate === 'delay') flags |= AF_DELAYED;
        else if (atSend && (f.fate === 'drop' || f.fate === 'partitioned')) dropped = f;
        else lost.push(f);
      }
      if (dropped) {
        push(m, k0 + 0.35, s.t[k0]!, AK_DROPPED, flags, -1, this.intern(dropped.fate));
        continue;
      }
      const ds = delivered[m]!;
      ds.forEach((k, j) => push(m, k, s.t[k]!, j === 0 ? AK_DELIVERED : AK_DUPLICATE, flags, k, -1));
      for (const f of lost) push(m, f.p, f.t, AK_LOST, flags, -1, this.intern(f.fate));
      const copies = flags & AF_DUPLICATED ? 2 : 1;
      for (let c = ds.length + lost.length; c < copies; c++) push(m, pEnd, tEnd, AK_IN_FLIGHT, flags, -1, -1);
    }
    return A;
  }

  private resolveViolations(): void {
    const s = this.steps;
    const byI = new Map<number, number>();
    for (let k = 0; k < s.i.length; k++) if (s.i[k]! >= 0) byI.set(s.i[k]!, k);
    const reqNames = new Set<string>(this.ops.map((o) => o.reqId));
    for (const r of s.req) if (r >= 0) reqNames.add(this.strings[r]!);
    this.violations.forEach((v, vi) => {
      const cand = this.violationStepCand[vi] ?? -1;
      let step = -1;
      if (v.invariant === 'machine-assertion' && cand >= 0) step = cand;
      else if (v.eventIndex !== null && byI.has(v.eventIndex - 1) && this.source !== 'explore') step = byI.get(v.eventIndex - 1)!;
      else if (v.eventIndex !== null && byI.has(v.eventIndex) && this.source === 'explore') step = byI.get(v.eventIndex)!;
      else if (cand >= 0) step = cand;
      else if (v.rec >= 0 && v.eventIndex !== null) step = Math.min(s.rec.length - 1, Math.max(0, Math.ceil(v.p) - 1));
      v.step = step;
      if (step >= 0) s.flags[step]! |= SF_VIOLATION;
      v.reqs = mentionedRequests(v.message, reqNames);
      if (step < 0 && this.lens?.explain) {
        const ex = this.lens.explain(v, this.opViews());
        if (ex) {
          v.explanation = ex.text;
          v.reqs = [...new Set([...ex.reqs, ...v.reqs])];
        }
      }
      if (step >= 0) {
        v.lead = this.causalPast(step, LEAD_STEPS_MAX);
        v.focus = step;
      } else {
        v.lead = this.stepsOfRequests(v.reqs, LEAD_OP_STEPS_MAX);
        const first = v.reqs.length ? this.opByReq.get(v.reqs[0]!) : undefined;
        const op = first === undefined ? null : this.ops[first]!;
        // Open on the step that answered the operation (its node's reply), else its return or call.
        const answered = op && op.retStep >= 0 && s.msg[op.retStep]! >= 0 ? this.msgs.send[s.msg[op.retStep]!]! : -1;
        v.focus = op ? (answered >= 0 ? answered : op.retStep >= 0 ? op.retStep : op.callStep) : v.lead.length ? v.lead[v.lead.length - 1]! : s.rec.length - 1;
      }
    });
  }

  private opViews(): OpView[] {
    return this.ops.map((o) => ({ reqId: o.reqId, node: o.node >= 0 ? this.nodes[o.node]!.id : '?', input: o.input, output: o.output, callT: o.callT, retT: o.retT }));
  }

  /**
   * The last `max` steps of a step's causal past (happens-before): earlier steps of the same node,
   * the sends of the messages it received, the steps that armed the timers that fired.
   */
  causalPast(step: number, max: number): number[] {
    const s = this.steps;
    const prevOfNode = new Int32Array(step + 1).fill(-1);
    const last = new Int32Array(this.nodes.length).fill(-1);
    for (let k = 0; k <= step; k++) {
      prevOfNode[k] = last[s.node[k]!]!;
      last[s.node[k]!] = k;
    }
    const timerSet = new Map<number, number>();
    for (let i = 0; i < this.timers.fire.length; i++) if (this.timers.fire[i]! <= step) timerSet.set(this.timers.fire[i]!, this.timers.set[i]!);
    const marked = new Uint8Array(step + 1);
    marked[step] = 1;
    const out: number[] = [];
    const mark = (k: number) => {
      if (k >= 0 && k <= step) marked[k] = 1;
    };
    for (let k = step; k >= 0 && out.length < max; k--) {
      if (!marked[k]) continue;
      out.push(k);
      mark(prevOfNode[k]!);
      const m = s.msg[k]!;
      if (m >= 0) mark(this.msgs.send[m]!);
      const ts = timerSet.get(k);
      if (ts !== undefined) mark(ts);
    }
    return out.reverse();
  }

  private stepsOfRequests(reqs: string[], max: number): number[] {
    if (reqs.length === 0) return [];
    const want = new Set(reqs.map((r) => this.stringIdx.get(r)).filter((x): x is number => x !== undefined));
    const s = this.steps;
    const out: number[] = [];
    for (let k = 0; k < s.req.length; k++) if (want.has(s.req[k]!)) out.push(k);
    for (const r of reqs) {
      const o = this.opByReq.get(r);
      if (o === undefined) continue;
      const op = this.ops[o]!;
      if (op.callStep >= 0) out.push(op.callStep);
      if (op.retStep >= 0) out.push(op.retStep);
    }
    const uniq = [...new Set(out)].sort((a, b) => a - b);
    return uniq.length > max ? uniq.slice(uniq.length - max) : uniq;
  }

  private shiftTime(t0: number, A: ArrowCols): void {
    const sub = (col: number[]) => {
      for (let i = 0; i < col.length; i++) col[i] = col[i]! - t0;
    };
    sub(this.steps.t);
    sub(A.t0);
    sub(A.t1);
    sub(this.lanes.t0);
    sub(this.lanes.t1);
    sub(this.partitions.t0);
    sub(this.partitions.t1);
    replaceAll(this.faults, (x) => ({ ...x, t: x.t - t0 }));
    replaceAll(this.netMarks, (x) => ({ ...x, t: x.t - t0 }));
    for (const o of this.ops) {
      (o as { callT: number }).callT = o.callT - t0;
      if (o.retT >= 0) o.retT -= t0;
    }
    replaceAll(this.violations, (x) => ({ ...x, t: x.t - t0 }));
  }
}

/** Reorders `col` in place: new position j holds old position order[j]. */
function permute<T>(col: T[], order: readonly number[]): void {
  const copy = col.slice();
  for (let j = 0; j < order.length; j++) col[j] = copy[order[j]!]!;
}

/** Replaces every element of an array of read-only records, in place (no argument spreading). */
function replaceAll<T>(arr: T[], f: (x: T) => T): void {
  for (let i = 0; i < arr.length; i++) arr[i] = f(arr[i]!);
}

/** Request ids named in a violation message, in order of first mention. */
export function mentionedRequests(message: string, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const m of message.matchAll(/[A-Za-z0-9_#:.\-/]+/g)) {
    let tok = m[0];
    while (tok.length > 0 && !known.has(tok) && /[.:\-/]$/.test(tok)) tok = tok.slice(0, -1);
    if (known.has(tok) && !seen.has(tok)) {
      seen.add(tok);
      out.push(tok);
    }
  }
  return out;
}

/** Builds a model from parsed records; `records[0]` is the header. */
export function buildModel(records: readonly Record<string, unknown>[], file: string, lens: SystemLens | null): ViewModel {
  const b = new ModelBuilder(records[0] ?? {}, file, lens);
  for (let i = 1; i < records.length; i++) b.add(records[i]!, i);
  return b.finish();
}
