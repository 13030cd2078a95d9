/**
 * The workflow runtime (issue 4 §2): one per function node, composed onto the node's log engine
 * (src/core/compose.ts). It runs function instances as executions:
 *
 *   begin (engine invocation context) -> catch-up of the step stream -> the protocol's begin
 *   (Intent, or the callee's start cursor) -> the handler, operation by operation -> the
 *   protocol's finish (Done, or the callee's InvokeResult) -> reply -> end.
 *
 * Every step is an operation program (steps.ts) re-run against its recorded micro-results, and
 * the handler itself is re-run against its recorded operation results (program.ts), so an
 * execution's whole progress is plain data in this machine's state. A crash of the node loses
 * every execution on it; clients retry top-level requests with the same request id, whose
 * re-execution catches up from the log and replays.
 *
 * Function crashes (issue 4 §6, `wf-crash-storm`): before and after every log and store
 * operation the runtime may ask `ctx.maybe("crash:<when>:<op>")`; a yes kills the execution on
 * the spot, with whatever it sent already in flight, exactly as a worker crash would.
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Ctx, Effect, Machine, NodeId } from '../core/contract.ts';
import { cancelTimer, persist, record, reply, request, send, setTimer } from '../core/contract.ts';
import { type LogReply, type LogRequest, payloadBytes } from '../boki/api.ts';
import { type FunctionRegistry, runFunction, type UserOp } from './program.ts';
import { rulesFor } from './protocols.ts';
import { decodeRecord, type Envelope, intentTag, type Json, type Mode, rowKeyOf, type StepRecord, type TagScheme } from './records.ts';
import { AbortExec, catchUp, type ChildResult, type ChildSpec, type Loaded, type Micro, MicroSuspend, OpIO, type OpNote, type ProtocolEnv, type Scratch } from './steps.ts';
import type { StoreMsg, StoreRep } from './store.ts';
import { freshRecovery, recoveryAnswer, type RecoveryConfig, recoveryDrain, type RecoveryIo, type RecoveryState, recoveryTick } from './recovery.ts';
import { reconcileKey } from './reconcile.ts';

export interface RuntimeConfig {
  readonly workload: string;
  readonly store: NodeId;
  readonly book: number;
  readonly tags: TagScheme;
  readonly variant: string | null;
  readonly mirrorBase: boolean;
  /** Probability that a function crashes at each crash point (0 disables injection). */
  readonly crashProbability: number;
  /** Function crashes are injected only before this time (node-local µs): faults stop. */
  readonly crashUntilUs: number;
  /** The recovery driver for abandoned async invocations (recovery.ts). */
  readonly recovery: RecoveryConfig;
  /** A store request unanswered this long is sent again. */
  readonly storeTimeoutUs: number;
  /**
   * The function-to-engine IPC round trip charged to every data-path log call (append,
   * conditional append, overwrite, reads), in µs; 0 (the default) makes calls free. The runtime
   * is composed onto its engine, so without it a log read answered from the local index costs
   * nothing, while the prototype pays an IPC hop each way (the Boki log's own calibration, in
   * scenarios/log-smoke.yaml, charges 50 µs each way).
   */
  readonly ipcUs?: number;
}

export interface WfRequest {
  readonly requestId: string;
  readonly fn: string;
  readonly input: Json;
  readonly mode: Mode;
}

/** Requests of the switching coordinator (switching.ts) to a function node. */
export type CoordRequest =
  /** How many async invocations in these modes are unfinished (answered by a recovery driver). */
  | { readonly coord: 'drain'; readonly modes: readonly Mode[] }
  /** Reconcile every key an HM-W write left newer than its key stream (W -> R). */
  | { readonly coord: 'reconcile'; readonly parallelism: number };

/**
 * The answer to a workflow request: its output, and the read and write counts of the top-level
 * function (the switching controller weighs the read ratio with them).
 */
export type WfReply =
  | { readonly ok: true; readonly output: Json; readonly reads?: number; readonly writes?: number }
  | { readonly ok: false; readonly error: string };

/** History events the runtime records (see proofs/exactly-once.ts). */
export type RuntimeEvent =
  | {
      readonly ev: 'execStart';
      readonly exec: string;
      readonly iid: string;
      /** '' for a callee re-run by the recovery driver: its path is its caller's plus `ordinal`. */
      readonly path: string;
      readonly requestId: string;
      readonly mode: Mode;
      readonly top: boolean;
      readonly callerIid: string | null;
      readonly ordinal: number;
    }
  | {
      readonly ev: 'wfOp';
      readonly exec: string;
      readonly iid: string;
      readonly path: string;
      readonly requestId: string;
      readonly ordinal: number;
      readonly kind: 'read' | 'write' | 'invoke';
      readonly table: string | null;
      readonly key: string | null;
      readonly value: Json;
      readonly async: boolean;
      readonly note: OpNote;
    }
  | {
      readonly ev: 'execEnd';
      readonly exec: string;
      readonly iid: string;
      readonly path: string;
      readonly requestId: string;
      readonly outcome: 'done' | 'aborted' | 'crashed' | 'fatal';
      readonly output: Json;
      readonly reason: string | null;
      readonly top: boolean;
      readonly replayedDone: boolean;
    }
  | {
      readonly ev: 'logOp';
      readonly exec: string;
      readonly requestId: string;
      readonly path: string;
      readonly op: LogRequest['op'];
      readonly code: LogReply['code'];
      readonly seq: bigint | null;
      readonly tags: readonly bigint[];
      /** What was appended or overwritten (values left out, outputs kept for C4/C5). */
      readonly rec: RecSummary | null;
      readonly stage: Stage;
      readonly opKind: UserOp['kind'] | null;
      /** Payload bytes the call wrote (append, condAppend, overwrite; 0 for reads), for storage accounting. */
      readonly bytes: number;
      /** How long the call took, on this node's clock: the log's service time as the function saw it. */
      readonly waitUs: number;
    }
  | { readonly ev: 'storeOp'; readonly exec: string; readonly requestId: string; readonly path: string; readonly op: string; readonly stage: Stage }
  /** A recovery round began, or ended (clean: nothing new, nothing outstanding). */
  | { readonly ev: 'recoveryRound'; readonly stage: 'start' | 'end'; readonly clean: boolean };

export type RuntimeMsg = StoreMsg;

export interface RecSummary {
  readonly kind: StepRecord['kind'];
  readonly iid: string;
  readonly step: number;
  readonly post: boolean;
  readonly marker: boolean;
  readonly table: string | null;
  readonly key: string | null;
  readonly version: bigint | null;
  readonly output: Json | undefined;
}

/** The summary of a record's payload the checkers use (values left out, outputs kept). */
export function summarizeData(data: string): RecSummary | null {
  const env = decodeRecord(data);
  return env === null ? null : summarizeEnv(env);
}

export function summarizeEnv(env: Envelope): RecSummary {
  const r = env.rec;
  return {
    kind: r.kind,
    iid: r.iid,
    step: r.step,
    post: env.post === true,
    marker: env.marker === true,
    table: 'table' in r && r.table !== undefined ? r.table : null,
    key: 'key' in r && r.key !== undefined ? r.key : null,
    version: r.kind === 'PostWrite' || r.kind === 'Marker' ? r.version : null,
    output: r.kind === 'Done' || r.kind === 'InvokeResult' ? r.output : undefined,
  };
}

type Stage = 'begin' | 'catchup' | 'start' | 'run' | 'op' | 'finish' | 'end' | 'system' | 'over';

export interface Exec {
  readonly id: number;
  readonly key: string;
  readonly iid: string;
  readonly path: string;
  readonly requestId: string;
  readonly reqId: string | null;
  readonly fn: string;
  readonly input: Json;
  readonly mode: Mode;
  readonly top: boolean;
  readonly caller: { readonly exec: number; readonly iid: string; readonly step: number; readonly async: boolean } | null;
  readonly startCursor: bigint;
  /** The engine invocation context of this execution, and of its caller (read-your-writes). */
  readonly inv: string;
  readonly parentInv: string | null;
  stage: Stage;
  n: number;
  c: bigint;
  w: number;
  catchFrom: bigint;
  fsm: Map<number, Loaded>;
  post: Map<number, Loaded>;
  doneOutput: { output: Json } | null;
  foreign: number;
  ops: UserOp[];
  results: Json[];
  /** The current program: its micro-results so far, and the user operation it implements. */
  micro: unknown[];
  op: { readonly op: UserOp; readonly ordinal: number } | null;
  /** Request id (log/store) or "child:<id>" the execution waits on, or null. */
  pending: string | null;
  output: Json;
  /** A system execution (the reconciler) instead of a workflow instance. */
  readonly system: SystemTask | null;
}

/** System work run as executions: the reconciler's base-row scan, and one key's reconciliation. */
export type SystemTask = { readonly kind: 'scan'; readonly job: number } | { readonly kind: 'key'; readonly job: number; readonly row: string };

interface ReconcileJob {
  readonly reqId: string;
  readonly parallelism: number;
  rows: string[];
  next: number;
  active: number;
  markers: number;
}

export interface RuntimeState {
  readonly cfg: RuntimeConfig;
  /**
   * The node's incarnation: a counter kept on disk and bumped (synced) at every boot, so execution
   * keys, invocation ids and store request ids never repeat across restarts, and answers to a
   * previous incarnation's requests are never mistaken for this one's.
   */
  nonce: number;
  nextExec: number;
  nextReq: number;
  execs: Map<number, Exec>;
  /** Outstanding log/store request -> execution id (-1: nobody waits; -2: the recovery driver), issued at `sinceUs`. */
  waiting: Map<string, { exec: number; micro: Micro; sinceUs: number }>;
  /** Log calls held back by the IPC delay (`cfg.ipcUs`), by request id, sent when their timer fires. */
  inIpc: Map<string, LogRequest>;
  recovery: RecoveryState | null;
  jobs: Map<number, ReconcileJob>;
  nextJob: number;
  /** Store requests awaiting an answer, kept to retransmit on timeout. */
  storeOut: Map<string, StoreMsg>;
}

const RECOVERY_EXEC = -2;

type Eff = Effect<RuntimeMsg, LogRequest, WfReply, RuntimeEvent>;

/** Executions alive on one node, at most; beyond it new requests are refused (back-pressure). */
export const EXECS_MAX = 100_000;
/** Program advances per input, at most; a program that never suspends is a bug. */
const ADVANCES_MAX = 1_000_000;

const registries = new Map<string, FunctionRegistry>();

/** Workloads register their functions by name; the runtime's state names the workload. */
export function registerWorkload(name: string, fns: FunctionRegistry): void {
  registries.set(name, fns);
}

export function workloadFunctions(name: string): FunctionRegistry {
  const r = registries.get(name);
  assert(r !== undefined, `unknown workload ${name}`);
  return r;
}

function envOf(cfg: RuntimeConfig): ProtocolEnv {
  return { tags: cfg.tags, variant: cfg.variant, mirrorBase: cfg.mirrorBase, intentTag: intentTag(cfg.tags) };
}

const envCache = new WeakMap<RuntimeConfig, ProtocolEnv>();
function env(cfg: RuntimeConfig): ProtocolEnv {
  let e = envCache.get(cfg);
  if (!e) {
    e = envOf(cfg);
    envCache.set(cfg, e);
  }
  return e;
}

function fresh(cfg: RuntimeConfig): RuntimeState {
  return { cfg, nonce: 0, nextExec: 0, nextReq: 0, execs: new Map(), waiting: new Map(), inIpc: new Map(), recovery: null, jobs: new Map(), nextJob: 0, storeOut: new Map() };
}

function recoveryIo(s: RuntimeState, ctx: Ctx, out: Eff[]): RecoveryIo {
  return {
    log(call) {
      const id = `L${s.nextReq++}`;
      s.waiting.set(id, { exec: RECOVERY_EXEC, micro: { m: 'log', call }, sinceUs: ctx.nowUs });
      out.push(request(ctx.self, id, { ...call, inv: `${ctx.self}:${s.nonce.toString(16)}:recovery` } as LogRequest));
    },
    respawn(e) {
      // Same instance id, same start cursor and caller slot: the callee replays what it logged.
      const child = newExec(
        s,
        ctx,
        { iid: e.calleeIid, path: '', requestId: '', reqId: null, fn: e.fn, input: e.input, mode: e.mode, caller: { exec: -1, iid: e.callerIid, step: e.step, async: true }, startCursor: e.seq, parentInv: null, ordinal: e.ordinal },
        out,
      );
      advance(s, child, ctx, out);
    },
    rearm() {
      // A drain query that arrived during a partial round gets a full round right away.
      const waiting = (s.recovery?.drainWaiters.length ?? 0) > 0;
      out.push(setTimer('recovery', waiting ? 1 : s.cfg.recovery.intervalUs));
    },
    answerDrain(reqId, pending) {
      out.push(reply(reqId, { ok: true, output: { pending } }));
    },
    round(stage, clean) {
      out.push(record({ ev: 'recoveryRound', stage, clean }));
    },
  };
}

export const runtimeMachine: Machine<RuntimeConfig, RuntimeState, RuntimeMsg, WfRequest | LogRequest, WfReply | LogReply, RuntimeEvent> = {
  role: 'runtime',
  init: (cfg) => fresh(cfg),
  recover: (cfg, _self, disk) => {
    const s = fresh(cfg);
    const n = disk.get('incarnation');
    s.nonce = typeof n === 'number' ? n : 0;
    return s;
  },
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
        s.nonce++;
        out.push(persist('incarnation', s.nonce, true));
        if (s.cfg.recovery.enabled) {
          s.recovery = freshRecovery();
          const id = `L${s.nextReq++}`;
          s.waiting.set(id, { exec: RECOVERY_EXEC, micro: { m: 'log', call: { op: 'begin', book: s.cfg.book, parent: null } }, sinceUs: ctx.nowUs });
          out.push(request<LogRequest>(ctx.self, id, { op: 'begin', inv: `${ctx.self}:${s.nonce.toString(16)}:recovery`, book: s.cfg.book, parent: null }));
        }
        break;
      case 'client': {
        const body = input.body as WfRequest | CoordRequest;
        if ('coord' in body) {
          coordRequest(s, input.reqId, body, ctx, out);
          break;
        }
        const req = body;
        if (s.execs.size >= EXECS_MAX) {
          out.push(reply(input.reqId, { ok: false, error: 'overloaded' }));
          break;
        }
        const iid = s.cfg.variant === 'random-top-level-id' ? `r:${req.requestId}:${ctx.randomU32('iid').toString(16)}` : `r:${req.requestId}`;
        const ex = newExec(s, ctx, { iid, path: req.requestId, requestId: req.requestId, reqId: input.reqId, fn: req.fn, input: req.input, mode: req.mode, caller: null, startCursor: 0n, parentInv: null, ordinal: -1 }, out);
        advance(s, ex, ctx, out);
        break;
      }
      case 'response': {
        const w = s.waiting.get(input.reqId);
        if (!w) break;
        s.waiting.delete(input.reqId);
        const rep = input.body as LogReply;
        if (w.exec === RECOVERY_EXEC) {
          if (s.recovery) recoveryAnswer(s.recovery, rep, s.cfg.tags, env(s.cfg).intentTag, s.cfg.recovery.afterUs, recoveryIo(s, ctx, out));
          break;
        }
        const ex = s.execs.get(w.exec);
        if (!ex || ex.pending !== input.reqId) break;
        if (w.micro.m === 'log') {
          const call = w.micro.call;
          out.push(
            record({
              ev: 'logOp',
              exec: ex.key,
              requestId: ex.requestId,
              path: ex.path,
              op: call.op,
              code: rep.code,
              seq: rep.code === 'APPEND_OK' ? rep.seqnum : rep.code === 'READ_OK' ? rep.record.seqnum : null,
              tags: 'tags' in call ? call.tags : 'tag' in call ? [call.tag] : [],
              rec: w.micro.env !== undefined ? summarizeEnv(w.micro.env) : 'data' in call && (call.op === 'append' || call.op === 'condAppend' || call.op === 'overwrite') ? summarizeData(call.data) : null,
              stage: ex.stage,
              opKind: ex.op?.op.kind ?? null,
              bytes: 'data' in call ? payloadBytes(call.data) : 0,
              waitUs: ctx.nowUs - w.sinceUs,
            }),
          );
        }
        complete(s, ex, rep, ctx, out, w.micro);
        break;
      }
      case 'message': {
        const m = input.msg;
        if (m.type !== 'wf.store.rep') break;
        const w = s.waiting.get(m.id);
        if (!w) break;
        s.waiting.delete(m.id);
        s.storeOut.delete(m.id);
        out.push(cancelTimer(`store:${m.id}`));
        const ex = s.execs.get(w.exec);
        if (!ex || ex.pending !== m.id) break;
        complete(s, ex, m.rep, ctx, out, w.micro);
        break;
      }
      case 'timer':
        if (input.timer === 'recovery' && s.recovery) recoveryTick(s.recovery, ctx.nowUs, env(s.cfg).intentTag, recoveryIo(s, ctx, out));
        else if (input.timer.startsWith(IPC_TIMER)) ipcDone(s, input.timer.slice(IPC_TIMER.length), ctx, out);
        else if (input.timer.startsWith('store:')) {
          const id = input.timer.slice(6);
          const msg = s.storeOut.get(id);
          if (msg && s.waiting.has(id)) {
            out.push(send(s.cfg.store, msg));
            out.push(setTimer(input.timer, s.cfg.storeTimeoutUs));
          } else s.storeOut.delete(id);
        }
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

interface NewExec {
  iid: string;
  path: string;
  requestId: string;
  reqId: string | null;
  fn: string;
  input: Json;
  mode: Mode;
  caller: Exec['caller'];
  startCursor: bigint;
  parentInv: string | null;
  /** A callee's invoke ordinal in its caller (-1 for top-level). */
  ordinal: number;
  system?: SystemTask;
}

function newExec(s: RuntimeState, ctx: Ctx, n: NewExec, out: Eff[]): Exec {
  const id = s.nextExec++;
  const key = `${ctx.self}:${s.nonce.toString(16)}:${id}`;
  const ex: Exec = {
    id,
    key,
    iid: n.iid,
    path: n.path,
    requestId: n.requestId,
    reqId: n.reqId,
    fn: n.fn,
    input: n.input,
    mode: n.mode,
    top: n.caller === null,
    caller: n.caller,
    startCursor: n.startCursor,
    inv: key,
    parentInv: n.parentInv,
    stage: 'begin',
    n: 0,
    c: 0n,
    w: 0,
    catchFrom: 0n,
    fsm: new Map(),
    post: new Map(),
    doneOutput: null,
    foreign: 0,
    ops: [],
    results: [],
    micro: [],
    op: null,
    pending: null,
    output: null,
    system: n.system ?? null,
  };
  s.execs.set(id, ex);
  if (ex.system !== null) return ex; // system work is not a workflow instance: nothing to record
  out.push(record({ ev: 'execStart', exec: key, iid: ex.iid, path: ex.path, requestId: ex.requestId, mode: ex.mode, top: ex.top, callerIid: n.caller?.iid ?? null, ordinal: n.ordinal }));
  return ex;
}

function scratchOf(s: RuntimeState, ex: Exec): Scratch {
  return {
    ex,
    env: env(s.cfg),
    n: ex.n,
    c: ex.c,
    w: ex.w,
    catchFrom: ex.catchFrom,
    fsmAdd: new Map(),
    postAdd: new Map(),
    doneOutput: ex.doneOutput,
    foreign: ex.foreign,
    note: {},
  };
}

function commit(ex: Exec, x: Scratch): void {
  ex.n = x.n;
  ex.c = x.c;
  ex.w = x.w;
  ex.catchFrom = x.catchFrom;
  for (const [k, v] of x.fsmAdd) ex.fsm.set(k, v);
  for (const [k, v] of x.postAdd) ex.post.set(k, v);
  ex.doneOutput = x.doneOutput;
  ex.foreign = x.foreign;
}

/** Runs the execution's current program (or moves to the next) until it waits or ends. */
function advance(s: RuntimeState, ex: Exec, ctx: Ctx, out: Eff[]): void {
  const fns = workloadFunctions(s.cfg.workload);
  for (let guard = 0; guard < ADVANCES_MAX; guard++) {
    if (ex.pending !== null || ex.stage === 'over') return;
    if (ex.stage === 'run') {
      const fn = fns[ex.fn];
      if (!fn) return kill(s, ex, ctx, out, 'fatal', `unknown function ${ex.fn}`);
      const r = runFunction(fn, ex.input, ex.ops, ex.results);
      if (r.status === 'error') return kill(s, ex, ctx, out, 'fatal', r.error);
      if (r.status === 'done') {
        ex.output = r.output;
        ex.stage = 'finish';
        ex.micro = [];
        continue;
      }
      ex.op = { op: r.op, ordinal: r.ordinal };
      ex.stage = 'op';
      ex.micro = [];
      continue;
    }
    const io = new OpIO(ex.micro);
    const x = scratchOf(s, ex);
    let result: Json = null;
    try {
      result = runProgram(io, x, ex);
    } catch (e) {
      if (e instanceof MicroSuspend) {
        if (!issue(s, ex, e.micro, ctx, out)) return;
        continue;
      }
      if (e instanceof AbortExec) return kill(s, ex, ctx, out, e.fatal ? 'fatal' : 'aborted', e.reason);
      throw e;
    }
    commit(ex, x);
    ex.micro = [];
    if (!finishProgram(s, ex, x, result, ctx, out)) return;
  }
  throw new Error(`execution ${ex.key} advanced ${ADVANCES_MAX} times in one input`);
}

function runProgram(io: OpIO, x: Scratch, ex: Exec): Json {
  const rules = rulesFor(ex.mode);
  switch (ex.stage) {
    case 'begin': {
      const r = io.log({ op: 'begin', book: 0, parent: ex.parentInv });
      if (r.code !== 'OK') {
        // The caller's context may be gone (an async callee outliving its caller): start afresh.
        const r2 = io.log({ op: 'begin', book: 0, parent: null });
        if (r2.code !== 'OK') io.abort(`begin failed: ${r2.code}`);
      }
      return null;
    }
    case 'catchup':
      catchUp(io, x);
      return null;
    case 'start':
      rules.begin(io, x);
      return null;
    case 'op': {
      const { op, ordinal } = ex.op!;
      switch (op.kind) {
        case 'read':
          return rules.read(io, x, op.table, op.key);
        case 'write':
          rules.write(io, x, op.table, op.key, op.value);
          return null;
        case 'invoke':
          return rules.invoke(io, x, op.fn, op.input, op.async, ordinal);
        default:
          return assertNever(op, 'user op');
      }
    }
    case 'finish':
      rules.finish(io, x, ex.output);
      return null;
    case 'end': {
      io.log({ op: 'end' });
      return null;
    }
    case 'system': {
      const t = ex.system!;
      if (t.kind === 'scan') {
        const r = io.store({ op: 'scanBase', minS: 0n });
        return r.op === 'scanBase' ? [...r.rows] : [];
      }
      const { table, key } = rowKeyOf(t.row);
      return reconcileKey(io, x.env.tags, table, key, `reconciler:${ex.key}`).markers;
    }
    case 'run':
    case 'over':
      throw new Error(`no program for stage ${ex.stage}`);
    default:
      return assertNever(ex.stage, 'stage');
  }
}

/** Moves past a finished program; false when the execution is over. */
function finishProgram(s: RuntimeState, ex: Exec, x: Scratch, result: Json, ctx: Ctx, out: Eff[]): boolean {
  switch (ex.stage) {
    case 'begin':
      ex.stage = ex.system !== null ? 'system' : 'catchup';
      return true;
    case 'system':
      ex.stage = 'end';
      systemDone(s, ex.system!, result, ctx, out);
      return true;
    case 'catchup':
      if (ex.top && ex.doneOutput !== null) {
        // A completed instance returns its recorded output (spec §6.3).
        ex.output = ex.doneOutput.output;
        if (ex.reqId !== null) out.push(reply(ex.reqId, { ok: true, output: ex.output }));
        end(ex, out, 'done', null, true);
        ex.stage = 'end';
        return true;
      }
      ex.stage = 'start';
      return true;
    case 'start':
      ex.stage = 'run';
      return true;
    case 'op': {
      const { op, ordinal } = ex.op!;
      ex.ops.push(op);
      ex.results.push(result);
      out.push(
        record({
          ev: 'wfOp',
          exec: ex.key,
          iid: ex.iid,
          path: ex.path,
          requestId: ex.requestId,
          ordinal,
          kind: op.kind,
          table: op.kind === 'invoke' ? null : op.table,
          key: op.kind === 'invoke' ? null : op.key,
          value: op.kind === 'write' ? op.value : op.kind === 'invoke' ? (op.async ? null : result) : result,
          async: op.kind === 'invoke' && op.async,
          note: x.note,
        }),
      );
      ex.op = null;
      ex.stage = 'run';
      return true;
    }
    case 'finish': {
      if (ex.top) {
        if (ex.reqId !== null) out.push(reply(ex.reqId, { ok: true, output: ex.output, ...opCounts(ex) }));
      } else if (ex.caller && !ex.caller.async) {
        const parent = s.execs.get(ex.caller.exec);
        const res: ChildResult = { output: ex.output, cursor: ex.c, cw: ex.w };
        if (parent && parent.pending === `child:${ex.id}`) {
          parent.pending = null;
          parent.micro.push(res);
          end(ex, out, 'done', null, false);
          ex.stage = 'end';
          advance(s, parent, ctx, out);
          return true;
        }
      }
      end(ex, out, 'done', null, false);
      ex.stage = 'end';
      return true;
    }
    case 'end':
      ex.stage = 'over';
      s.execs.delete(ex.id);
      return false;
    case 'run':
    case 'over':
      return false;
    default:
      return assertNever(ex.stage, 'stage');
  }
}

function opCounts(ex: Exec): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const o of ex.ops) {
    if (o.kind === 'read') reads++;
    else if (o.kind === 'write') writes++;
  }
  return { reads, writes };
}

function end(ex: Exec, out: Eff[], outcome: 'done' | 'aborted' | 'crashed' | 'fatal', reason: string | null, replayedDone: boolean): void {
  if (ex.system !== null) return;
  out.push(record({ ev: 'execEnd', exec: ex.key, iid: ex.iid, path: ex.path, requestId: ex.requestId, outcome, output: outcome === 'done' ? ex.output : null, reason, top: ex.top, replayedDone }));
}

/** Ends an execution early. Its in-flight requests still take effect; nobody hears the answers. */
function kill(s: RuntimeState, ex: Exec, ctx: Ctx, out: Eff[], outcome: 'aborted' | 'crashed' | 'fatal', reason: string): void {
  end(ex, out, outcome, reason, false);
  ex.stage = 'over';
  ex.pending = null;
  s.execs.delete(ex.id);
  // Free the engine's invocation context (housekeeping, not a protocol action).
  const id = `L${s.nextReq++}`;
  out.push(request<LogRequest>(ctx.self, id, { op: 'end', inv: ex.inv }));
  // A synchronous invocation that failed fails its caller, whose re-execution re-invokes the
  // same callee id (spec §6.1 step 3).
  if (ex.caller && !ex.caller.async) {
    const parent = s.execs.get(ex.caller.exec);
    if (parent && parent.pending === `child:${ex.id}`) kill(s, parent, ctx, out, 'aborted', `callee ${ex.iid} failed: ${reason}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The switching coordinator's requests

function coordRequest(s: RuntimeState, reqId: string, req: CoordRequest, ctx: Ctx, out: Eff[]): void {
  switch (req.coord) {
    case 'drain':
      if (s.recovery === null) {
        out.push(reply(reqId, { ok: false, error: 'no recovery driver on this node' }));
        return;
      }
      recoveryDrain(s.recovery, reqId, req.modes, ctx.nowUs, env(s.cfg).intentTag, recoveryIo(s, ctx, out));
      return;
    case 'reconcile': {
      const job = s.nextJob++;
      s.jobs.set(job, { reqId, parallelism: Math.max(1, req.parallelism), rows: [], next: 0, active: 1, markers: 0 });
      advance(s, systemExec(s, ctx, { kind: 'scan', job }, out), ctx, out);
      return;
    }
    default:
      assertNever(req, 'coordinator request');
  }
}

function systemExec(s: RuntimeState, ctx: Ctx, task: SystemTask, out: Eff[]): Exec {
  return newExec(
    s,
    ctx,
    { iid: 'reconciler', path: 'sys:reconcile', requestId: 'sys:reconcile', reqId: null, fn: '', input: null, mode: 'TRANS', caller: null, startCursor: 0n, parentInv: null, ordinal: -1, system: task },
    out,
  );
}

/** A system execution finished: feed the job (start more key reconciliations, or answer). */
function systemDone(s: RuntimeState, task: SystemTask, result: Json, ctx: Ctx, out: Eff[]): void {
  const job = s.jobs.get(task.job);
  if (!job) return;
  job.active--;
  if (task.kind === 'scan') job.rows = (result as string[]) ?? [];
  else job.markers += typeof result === 'number' ? result : 0;
  while (job.active < job.parallelism && job.next < job.rows.length) {
    const row = job.rows[job.next++]!;
    job.active++;
    advance(s, systemExec(s, ctx, { kind: 'key', job: task.job, row }, out), ctx, out);
  }
  if (job.active === 0 && job.next >= job.rows.length) {
    s.jobs.delete(task.job);
    out.push(reply(job.reqId, { ok: true, output: { keys: job.rows.length, markers: job.markers } }));
  }
}

function crashPoint(s: RuntimeState, ctx: Ctx, when: 'before' | 'after', what: string): boolean {
  const p = s.cfg.crashProbability;
  return p > 0 && ctx.nowUs < s.cfg.crashUntilUs && ctx.maybe(`crash:${when}:${what}`, p);
}

function microName(m: Micro): string {
  return m.m === 'log' ? m.call.op : m.m === 'store' ? m.req.op : m.m;
}

const IPC_TIMER = 'ipc:';

/**
 * The IPC delay of a log call is over: hand it to the engine. The whole round trip is charged
 * before the call, so the engine answers within the step as before; ordering moves by half a hop.
 */
function ipcDone(s: RuntimeState, id: string, ctx: Ctx, out: Eff[]): void {
  const req = s.inIpc.get(id);
  if (req === undefined) return;
  s.inIpc.delete(id);
  // An execution killed meanwhile (a function crash, an abort) never made the call.
  const w = s.waiting.get(id);
  const ex = w === undefined ? undefined : s.execs.get(w.exec);
  if (ex === undefined || ex.pending !== id) {
    s.waiting.delete(id);
    return;
  }
  out.push(request(ctx.self, id, req));
}

/** Starts a micro-operation; true if it completed at once (the caller re-runs the program). */
function issue(s: RuntimeState, ex: Exec, m: Micro, ctx: Ctx, out: Eff[]): boolean {
  switch (m.m) {
    case 'random':
      ex.micro.push(ctx.randomU32(m.label));
      return true;
    case 'log': {
      if (m.call.op !== 'begin' && m.call.op !== 'end' && crashPoint(s, ctx, 'before', m.call.op)) {
        kill(s, ex, ctx, out, 'crashed', `function crash before ${m.call.op}`);
        return false;
      }
      const id = `L${s.nextReq++}`;
      s.waiting.set(id, { exec: ex.id, micro: m, sinceUs: ctx.nowUs });
      ex.pending = id;
      const req = { ...m.call, inv: ex.inv } as LogRequest;
      const ipcUs = s.cfg.ipcUs ?? 0;
      if (ipcUs > 0 && req.op !== 'begin' && req.op !== 'end') {
        assert(s.inIpc.size < EXECS_MAX, 'IPC queue bounded by the executions alive');
        s.inIpc.set(id, req);
        out.push(setTimer(IPC_TIMER + id, ipcUs));
      } else out.push(request(ctx.self, id, req));
      return false;
    }
    case 'store': {
      if (crashPoint(s, ctx, 'before', m.req.op)) {
        kill(s, ex, ctx, out, 'crashed', `function crash before store ${m.req.op}`);
        return false;
      }
      const id = `${ctx.self}:${s.nonce.toString(16)}:${s.nextReq++}`;
      s.waiting.set(id, { exec: ex.id, micro: m, sinceUs: ctx.nowUs });
      ex.pending = id;
      // A logical write is (path, ordinal); its store mutations are told apart by row class.
      const writeId = m.writeId === null || m.req.op === 'get' || m.req.op === 'scanBase' ? null : `${ex.path}|${ex.op?.ordinal ?? -1}|${ex.iid}|${m.req.row.endsWith('@BASE') ? 'base' : 'v'}`;
      const msg: StoreMsg = { type: 'wf.store.req', id, req: m.req, writeId };
      s.storeOut.set(id, msg);
      out.push(send(s.cfg.store, msg));
      // Like a DynamoDB client, retry on a timeout: every store operation is idempotent (a get;
      // a put of deterministic content; a conditional update guarded by its version).
      out.push(setTimer(`store:${id}`, s.cfg.storeTimeoutUs));
      out.push(record({ ev: 'storeOp', exec: ex.key, requestId: ex.requestId, path: ex.path, op: m.req.op, stage: ex.stage }));
      return false;
    }
    case 'invoke':
    case 'spawn': {
      const c = m.child;
      const child = newExec(
        s,
        ctx,
        {
          iid: c.calleeIid,
          path: `${ex.path}/${c.ordinal}`,
          requestId: ex.requestId,
          reqId: null,
          fn: c.fn,
          input: c.input,
          mode: c.mode,
          caller: { exec: ex.id, iid: ex.iid, step: c.callerStep, async: c.async },
          startCursor: c.startCursor,
          parentInv: ex.inv,
          ordinal: c.ordinal,
        },
        out,
      );
      if (m.m === 'invoke') ex.pending = `child:${child.id}`;
      else ex.micro.push(null);
      advance(s, child, ctx, out);
      return m.m === 'spawn';
    }
    default:
      return assertNever(m, 'micro');
  }
}

function complete(s: RuntimeState, ex: Exec, result: LogReply | StoreRep, ctx: Ctx, out: Eff[], m: Micro): void {
  ex.pending = null;
  if (m.m !== 'random' && !(m.m === 'log' && (m.call.op === 'begin' || m.call.op === 'end')) && crashPoint(s, ctx, 'after', microName(m))) {
    kill(s, ex, ctx, out, 'crashed', `function crash after ${microName(m)}`);
    return;
  }
  ex.micro.push(result);
  advance(s, ex, ctx, out);
}

export type { ChildSpec };
