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
 *
 * Layout. This file holds the machine (init, recover, step), the recovery driver's I/O and the
 * switching coordinator's requests; the parts live under workflow/: requests.ts (config, requests,
 * replies), events.ts (history events), state.ts (state shape), registry.ts (workloads by name),
 * programs.ts (the program of each stage) and exec.ts (running executions).
 */
import { type LogReply, type LogRequest, payloadBytes } from '../boki/api.ts';
import { assertNever } from '../core/assert.ts';
import { type Ctx, type Machine, cancelTimer, persist, record, reply, request, send, setTimer } from '../core/contract.ts';
import { freshRecovery, recoveryAnswer, recoveryDrain, type RecoveryIo, recoveryTick } from './recovery.ts';
import { type RuntimeEvent, summarizeData, summarizeEnv } from './workflow/events.ts';
import { newExec, advance, systemExec, IPC_TIMER, ipcDone, complete } from './workflow/exec.ts';
import type { RuntimeConfig, WfRequest, CoordRequest, WfReply, RuntimeMsg } from './workflow/requests.ts';
import { type RuntimeState, RECOVERY_EXEC, type Eff, EXECS_MAX, env, fresh } from './workflow/state.ts';
import type { ChildSpec } from './steps.ts';

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

export type { ChildSpec };
