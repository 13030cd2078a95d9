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
import { isObj, type OpView, type SystemLens } from './lens.ts';
import { ModelIngest, num, type PendingFate } from './model-ingest.ts';
import { AF_DELAYED, AF_DUPLICATED, AF_REORDERED, AK_DELIVERED, AK_DROPPED, AK_DUPLICATE, IK_RESPONSE, AK_IN_FLIGHT, AK_LOST, type ArrowCols, LEAD_OP_STEPS_MAX, LEAD_STEPS_MAX, MODEL_FORMAT, MODEL_VERSION, SF_VIOLATION, type StepCols, type ViewModel } from './model-types.ts';

export * from './model-types.ts';

/** Builds a model from records fed in order (`add`), then `finish`. */
export class ModelBuilder extends ModelIngest {
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
  protected sortSteps(): number[] {
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
  protected repositionByTime(): void {
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

  protected resolveDeliveries(): void {
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
  protected opsFromSteps(): void {
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

  protected closeOpen(pEnd: number, tEnd: number): void {
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
  protected buildArrows(pEnd: number, tEnd: number): ArrowCols {
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

  protected resolveViolations(): void {
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

  protected opViews(): OpView[] {
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

  protected stepsOfRequests(reqs: string[], max: number): number[] {
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

  protected shiftTime(t0: number, A: ArrowCols): void {
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