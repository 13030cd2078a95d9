/**
 * Running executions: creating one, advancing it program by program until it waits or ends,
 * moving between stages, ending or killing it (a function crash, an abort), issuing its
 * micro-operations (log calls with the IPC delay, store requests with retransmission, child
 * invocations) and feeding their answers back. System executions (the reconciler) finish into
 * their job here too. One module because these call each other: an answer advances the execution,
 * which issues the next operation, which may start and advance a child, whose end resumes its
 * caller.
 */
import type { LogReply, LogRequest } from '../../boki/api.ts';
import { assert, assertNever } from '../../core/assert.ts';
import { type Ctx, record, reply, request, send, setTimer } from '../../core/contract.ts';
import { runFunction } from '../program.ts';
import type { Json, Mode } from '../records.ts';
import { AbortExec, type ChildResult, type Micro, MicroSuspend, OpIO, type Scratch } from '../steps.ts';
import type { StoreMsg, StoreRep } from '../store.ts';
import { runProgram } from './programs.ts';
import { workloadFunctions } from './registry.ts';
import { type Exec, type SystemTask, type RuntimeState, type Eff, EXECS_MAX, env } from './state.ts';

/** Program advances per input, at most; a program that never suspends is a bug. */
const ADVANCES_MAX = 1_000_000;

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

export function newExec(s: RuntimeState, ctx: Ctx, n: NewExec, out: Eff[]): Exec {
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
export function advance(s: RuntimeState, ex: Exec, ctx: Ctx, out: Eff[]): void {
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
        // A completed instance returns its recorded output (spec §6.3). Deliberate bug
        // done-replay-drops-output: the retry answers null instead of the recorded output.
        ex.output = s.cfg.variant === 'done-replay-drops-output' ? null : ex.doneOutput.output;
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

export function systemExec(s: RuntimeState, ctx: Ctx, task: SystemTask, out: Eff[]): Exec {
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

export const IPC_TIMER = 'ipc:';

/**
 * The IPC delay of a log call is over: hand it to the engine. The whole round trip is charged
 * before the call, so the engine answers within the step as before; ordering moves by half a hop.
 */
export function ipcDone(s: RuntimeState, id: string, ctx: Ctx, out: Eff[]): void {
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

export function complete(s: RuntimeState, ex: Exec, result: LogReply | StoreRep, ctx: Ctx, out: Eff[], m: Micro): void {
  ex.pending = null;
  if (m.m !== 'random' && !(m.m === 'log' && (m.call.op === 'begin' || m.call.op === 'end')) && crashPoint(s, ctx, 'after', microName(m))) {
    kill(s, ex, ctx, out, 'crashed', `function crash after ${microName(m)}`);
    return;
  }
  ex.micro.push(result);
  advance(s, ex, ctx, out);
}
