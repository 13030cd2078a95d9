/**
 * Feeding a trace's records into the view model, one at a time: steps (their delivered message,
 * timers, sends and request), boots, network fates, faults (lane intervals, partitions), history
 * (client operations) and violations. `ModelBuilder` (`model.ts`) extends this with `finish`,
 * which resolves what needs the whole trace (deliveries, arrows, violation lead-ups). Split from
 * model.ts along that seam; the state both halves share is the protected fields below.
 */
import { brief, defaultMessageLabel, genericTagger, isObj, messageKind, type RequestTagger, type StepView, type SystemLens } from './lens.ts';
import { IK_CLIENT, IK_RESPONSE, IK_MESSAGE, IK_OTHER, IK_RESTART, IK_START, IK_TIMER, INPUT_KINDS, type InputKindName, LANE_DOWN, LANE_HALTED, LANE_PAUSED, type LaneCols, type MsgCols, type NetMark, SF_FATAL, SF_STATE, type SpanCols, type StepCols, type TimerCols, type ViewFault, type ViewNode, type ViewOp, type ViewViolation } from './model-types.ts';

const WARNINGS_MAX = 20;

export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export interface PendingFate {
  readonly id: number;
  readonly fate: string;
  readonly p: number;
  readonly t: number;
  readonly from: number;
  readonly to: number;
}

/** The first half of the model builder: feeding records one at a time (`ModelBuilder` finishes). */
export abstract class ModelIngest {
  protected readonly strings: string[] = [];
  protected readonly stringIdx = new Map<string, number>();
  protected readonly nodes: ViewNode[] = [];
  protected readonly nodeIdx = new Map<string, number>();
  protected readonly steps: StepCols = { rec: [], i: [], t: [], node: [], kind: [], label: [], msg: [], req: [], prev: [], flags: [], nEff: [], dur: [] };
  protected readonly msgs: MsgCols = { id: [], from: [], to: [], send: [], eff: [], label: [], kind: [], req: [] };
  protected readonly timers: TimerCols = { node: [], set: [], fire: [], name: [] };
  protected readonly faults: ViewFault[] = [];
  protected readonly lanes: LaneCols = { node: [], kind: [], p0: [], t0: [], p1: [], t1: [] };
  protected readonly partitions: SpanCols = { p0: [], t0: [], p1: [], t1: [] };
  protected readonly netMarks: NetMark[] = [];
  protected readonly ops: ViewOp[] = [];
  protected readonly opByReq = new Map<string, number>();
  protected readonly violations: ViewViolation[] = [];
  protected readonly warnings: string[] = [];
  protected warned = 0;
  protected readonly kindSet = new Set<number>();

  protected header: Record<string, unknown> = {};
  protected end: Record<string, unknown> | null = null;
  protected readonly lens: SystemLens | null;
  protected readonly tagger: RequestTagger;
  protected readonly source: string;
  protected readonly timeUnit: 'us' | 'step';
  protected readonly clock: 'virtual' | 'wall' | 'steps';
  protected readonly syncLatencyUs: number;

  protected records = 0;
  protected lastT = 0;
  protected tMin = Infinity;
  protected stepsSorted = true;
  protected hasStates = false;
  protected hasNet = false;
  protected idMode: 'ids' | 'content' | null = null;
  protected syntheticIds = 0;

  protected readonly msgById = new Map<number, number>();
  protected readonly contentQueue = new Map<string, number[]>();
  protected readonly contentLast = new Map<string, number>();
  protected readonly stepMsgRaw: number[] = []; // raw delivered msg id per step, NaN when none
  protected readonly fates: PendingFate[] = [];
  protected readonly reqOrigin = new Map<string, number>();
  protected readonly lastStateRec: number[] = [];
  protected readonly lastState: unknown[] = [];
  protected readonly lastStepOf: number[] = [];
  protected readonly preCrashRec: number[] = [];
  protected readonly restarts = { step: [] as number[], lost: [] as number[] };
  protected readonly timersArmed: Map<string, number>[] = [];
  protected readonly down: number[] = []; // open interval index per node, -1 none
  protected readonly paused: number[] = [];
  protected partitionDepth = 0;
  protected partitionOpen = -1;
  protected readonly pendingCall = new Map<number, number[]>(); // client node -> op indices
  protected readonly pendingRet = new Map<number, number[]>();
  protected readonly violationStepCand: number[] = [];
  protected fatalWatch: { v: number; node: number } | null = null;
  protected readonly historyCount = { n: 0 };

  constructor(
    header: Record<string, unknown>,
    protected readonly file: string,
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

  protected warn(msg: string): void {
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

  protected addNode(id: string, role: string, driver: boolean): number {
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
  protected nodeOf(v: unknown): number {
    if (typeof v !== 'string') return -1;
    const i = this.nodeIdx.get(v);
    return i !== undefined ? i : this.addNode(v, '?', false);
  }

  protected get pHere(): number {
    return this.steps.rec.length - 0.5;
  }

  protected timeOf(rec: Record<string, unknown>): number {
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

  protected addBoot(r: Record<string, unknown>, rec: number): void {
    const n = this.nodeOf(r.node);
    if (n < 0) return this.warn(`record ${rec}: boot without a node`);
    this.noteTime(this.timeOf(r));
    if ('state' in r) {
      this.lastStateRec[n] = rec;
      this.lastState[n] = r.state;
      this.hasStates = true;
    }
  }

  protected noteTime(t: number): void {
    this.lastT = t;
    if (t < this.tMin) this.tMin = t;
  }

  protected addStep(r: Record<string, unknown>, rec: number): void {
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

  protected clientOf(input: Record<string, unknown>): number {
    const reqId = typeof input.reqId === 'string' ? input.reqId : null;
    const o = reqId === null ? undefined : this.reqOrigin.get(reqId);
    return o ?? -1;
  }

  protected contentKey(from: number, to: number, tag: string, body: unknown): string {
    return `${from}>${to}:${tag}:${JSON.stringify(body) ?? 'undefined'}`;
  }

  protected inputLabel(kind: number, input: Record<string, unknown> | null): string {
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
  protected timersOnStep(n: number, k: number, kind: number, input: Record<string, unknown> | null, effects: Record<string, unknown>[]): void {
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
  protected sendsOf(n: number, k: number, effects: Record<string, unknown>[], ids: unknown[] | null, stepReq: number): void {
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

  protected addNet(r: Record<string, unknown>): void {
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

  protected openLane(n: number, kind: number, t: number): number {
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

  protected closeLane(i: number, t: number): void {
    this.lanes.p1[i] = this.pHere;
    this.lanes.t1[i] = t;
  }

  protected addFault(r: Record<string, unknown>, rec: number): void {
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

  protected faultText(kind: string, nodes: number[], d: Record<string, unknown>, refused: string | null): string {
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

  protected addHistory(r: Record<string, unknown>): void {
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

  protected queue(m: Map<number, number[]>, k: number, v: number): void {
    const q = m.get(k);
    if (q) q.push(v);
    else m.set(k, [v]);
  }

  /** History calls and returns belong to the next step of their client (see sim/trace.ts). */
  protected attachHistory(n: number, k: number): void {
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

  protected addViolation(r: Record<string, unknown>, rec: number): void {
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
}
