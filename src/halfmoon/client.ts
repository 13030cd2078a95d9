/**
 * The workload client and gateway (issue 4 §2): issues workflow requests with stable request
 * ids to function nodes, times out and retries the same request id on another node until it is
 * answered. Closed loop (`concurrency` requests in flight) or open loop (`rps` arrivals per
 * second). Which protocol a request runs under is decided here, per request, by `modeFor` (a fixed
 * protocol, or the switching coordinator of issue 5).
 */
import { assertNever } from '../core/assert.ts';
import type { Ctx, Effect, Machine } from '../core/contract.ts';
import { record, request, setTimer } from '../core/contract.ts';
import type { Json, Mode } from './records.ts';
import type { CoordRequest, WfReply, WfRequest } from './workflow/requests.ts';
import {
  adopt,
  admit,
  type ControllerConfig,
  type ControllerState,
  type CoordState,
  decide,
  freshController,
  freshCoord,
  needsReconcile,
  observe,
  requestFinished,
  requestSwitch,
} from './switching.ts';
import { requestGenerator } from './workloads/index.ts';

export interface SwitchingConfig {
  /** The adaptive controller, or null to switch on a fixed timer. */
  readonly adaptive: ControllerConfig | null;
  /** Fixed-timer switching between HM-R and HM-W (0: off). */
  readonly switchEveryUs: number;
  /** Function nodes running a recovery driver, which answer drain queries. */
  readonly recoveryEngines: readonly string[];
  readonly reconcileParallelism: number;
  readonly coordTimeoutUs: number;
  readonly drainRetryUs: number;
  /** Only for the switch-drain-never-starts variant: the end of the last old-mode request does not start the drain. */
  readonly drainNeverStarts?: boolean;
}

/** Switch events the gateway records, for reports and the viewer. */
export type SwitchEvent = { readonly ev: 'switch'; readonly stage: 'requested' | 'drained' | 'adopted'; readonly from: Mode; readonly to: Mode; readonly readRatio: number | null };

export interface ClientConfig {
  readonly engines: readonly string[];
  readonly workload: string;
  /** Workload parameters handed to the generator (readRatio, keys, ...). */
  readonly params: Readonly<Record<string, Json>>;
  readonly requests: number;
  /** No new request after this time (0: no limit); the run then drains what is in flight. */
  readonly durationUs: number;
  readonly concurrency: number;
  readonly rps: number;
  readonly timeoutUs: number;
  /** The protocol, or the initial one when switching. */
  readonly mode: Mode;
  readonly switching: SwitchingConfig | null;
  /**
   * Prefixed to every request id (default none: q0, q1, ...). Runs against a long-lived real
   * cluster give each run its own prefix, so no request id is ever reused on the same log.
   */
  readonly requestPrefix?: string;
}

interface Outstanding {
  readonly body: WfRequest;
  attempt: number;
  engine: number;
}

export interface ClientState {
  readonly cfg: ClientConfig;
  issued: number;
  completed: number;
  outstanding: Map<string, Outstanding>;
  retries: number;
  coord: CoordState;
  controller: ControllerState;
  coordSeq: number;
}

type Eff = Effect<never, WfRequest | CoordRequest, WfReply, SwitchEvent>;

/** Whether the workload may issue another request now. */
function canIssue(s: ClientState, ctx: Ctx): boolean {
  return s.issued < s.cfg.requests && (s.cfg.durationUs <= 0 || ctx.nowUs < s.cfg.durationUs);
}

function issueOne(s: ClientState, ctx: Ctx, out: Eff[]): void {
  const k = s.issued++;
  const requestId = `${s.cfg.requestPrefix ?? ''}q${k}`;
  const gen = requestGenerator(s.cfg.workload);
  const { fn, input } = gen(s.cfg.params, k, (label) => ctx.randomU32(label), ctx.nowUs);
  // Admission never waits: the coordinator answers with the current mode, or TRANS mid-switch.
  const mode = s.cfg.switching ? admit(s.coord) : s.cfg.mode;
  const body: WfRequest = { requestId, fn, input, mode };
  const engine = ctx.randomU32('engine') % s.cfg.engines.length;
  s.outstanding.set(requestId, { body, attempt: 0, engine });
  out.push(request(s.cfg.engines[engine]!, requestId, body));
  out.push(setTimer(`timeout:${requestId}:0`, s.cfg.timeoutUs));
}

function arrivalGapUs(s: ClientState, ctx: Ctx): number {
  const u = ctx.randomU32('arrival') / 0x1_0000_0000;
  return Math.max(1, Math.round((-Math.log(1 - u) * 1e6) / s.cfg.rps));
}

function fresh(cfg: ClientConfig): ClientState {
  return { cfg, issued: 0, completed: 0, outstanding: new Map(), retries: 0, coord: freshCoord(cfg.mode), controller: freshController(), coordSeq: 0 };
}

// ---------------------------------------------------------------------------------------------
// The coordinator's side of switching

function switchTo(s: ClientState, to: Mode, ctx: Ctx, out: Eff[]): void {
  const from = s.coord.current;
  const outstanding: [string, Mode][] = [...s.outstanding].map(([id, o]) => [id, o.body.mode]);
  if (!requestSwitch(s.coord, to, ctx.nowUs, outstanding)) return;
  out.push(record({ ev: 'switch', stage: 'requested', from, to, readRatio: ratio(s) }));
  if (s.coord.oldLive.size === 0) startDrain(s, ctx, out);
}

function ratio(s: ClientState): number | null {
  return s.controller.ops > 0 ? Math.round((s.controller.reads / s.controller.ops) * 1000) / 1000 : null;
}

function coordSend(s: ClientState, body: CoordRequest, ctx: Ctx, out: Eff[]): void {
  const sw = s.cfg.switching!;
  const id = `coord:${s.coordSeq++}`;
  s.coord.pendingReq = id;
  const to = sw.recoveryEngines[s.coord.attempt % sw.recoveryEngines.length]!;
  out.push(request(to, id, body));
  out.push(setTimer(`coordTimeout:${id}`, sw.coordTimeoutUs));
}

function startDrain(s: ClientState, ctx: Ctx, out: Eff[]): void {
  s.coord.phase = 'DRAIN';
  coordSend(s, { coord: 'drain', modes: [s.coord.current] }, ctx, out);
}

function coordAnswer(s: ClientState, reqId: string, rep: WfReply, ctx: Ctx, out: Eff[]): void {
  const c = s.coord;
  if (reqId !== c.pendingReq) return; // an answer to an attempt already given up on
  const sw = s.cfg.switching!;
  c.pendingReq = null;
  if (!rep.ok) {
    c.attempt++;
    out.push(setTimer('coordRetry', sw.drainRetryUs));
    return;
  }
  if (c.phase === 'DRAIN') {
    const pending = (rep.output as { pending: number }).pending;
    if (pending > 0) {
      out.push(setTimer('coordRetry', sw.drainRetryUs));
      return;
    }
    const t = c.transitions[c.transitions.length - 1]!;
    t.drainedUs = ctx.nowUs;
    out.push(record({ ev: 'switch', stage: 'drained', from: t.from, to: t.to, readRatio: ratio(s) }));
    if (needsReconcile(c) && sw.reconcileParallelism > 0) {
      c.phase = 'RECONCILE';
      coordSend(s, { coord: 'reconcile', parallelism: sw.reconcileParallelism }, ctx, out);
      return;
    }
  }
  const t = c.transitions[c.transitions.length - 1]!;
  adopt(c, ctx.nowUs);
  out.push(record({ ev: 'switch', stage: 'adopted', from: t.from, to: t.to, readRatio: ratio(s) }));
}

function coordResend(s: ClientState, ctx: Ctx, out: Eff[]): void {
  const c = s.coord;
  const sw = s.cfg.switching!;
  if (c.phase === 'DRAIN') coordSend(s, { coord: 'drain', modes: [c.transitions[c.transitions.length - 1]!.from] }, ctx, out);
  else if (c.phase === 'RECONCILE') coordSend(s, { coord: 'reconcile', parallelism: sw.reconcileParallelism }, ctx, out);
}

export const clientMachine: Machine<ClientConfig, ClientState, never, WfRequest | CoordRequest, WfReply, SwitchEvent> = {
  role: 'driver',
  init: (cfg) => fresh(cfg),
  recover: (cfg) => fresh(cfg),
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
        if (s.cfg.switching && s.cfg.switching.switchEveryUs > 0) out.push(setTimer('switch', s.cfg.switching.switchEveryUs));
        if (s.cfg.rps > 0) {
          if (s.cfg.requests > 0) out.push(setTimer('arrival', arrivalGapUs(s, ctx)));
        } else {
          for (let i = 0; i < Math.min(s.cfg.concurrency, s.cfg.requests); i++) issueOne(s, ctx, out);
        }
        break;
      case 'timer': {
        if (input.timer === 'switch') {
          switchTo(s, s.coord.current === 'HMR' ? 'HMW' : 'HMR', ctx, out);
          out.push(setTimer('switch', s.cfg.switching!.switchEveryUs));
          break;
        }
        if (input.timer === 'coordRetry') {
          if (s.coord.pendingReq === null) coordResend(s, ctx, out);
          break;
        }
        if (input.timer.startsWith('coordTimeout:')) {
          // The node asked did not answer (it crashed): ask the next recovery node.
          if (s.coord.pendingReq === input.timer.slice('coordTimeout:'.length)) {
            s.coord.pendingReq = null;
            s.coord.attempt++;
            coordResend(s, ctx, out);
          }
          break;
        }
        if (input.timer === 'arrival') {
          if (!canIssue(s, ctx)) break;
          issueOne(s, ctx, out);
          if (canIssue(s, ctx)) out.push(setTimer('arrival', arrivalGapUs(s, ctx)));
          break;
        }
        const [, requestId, attempt] = input.timer.split(':');
        const o = s.outstanding.get(requestId!);
        if (!o || String(o.attempt) !== attempt) break;
        // No answer in time: retry the same request id on the next function node.
        o.attempt++;
        o.engine = (o.engine + 1) % s.cfg.engines.length;
        s.retries++;
        out.push(request(s.cfg.engines[o.engine]!, requestId!, o.body));
        out.push(setTimer(`timeout:${requestId}:${o.attempt}`, s.cfg.timeoutUs));
        break;
      }
      case 'response': {
        if (input.reqId.startsWith('coord:')) {
          coordAnswer(s, input.reqId, input.body, ctx, out);
          break;
        }
        const o = s.outstanding.get(input.reqId);
        if (!o) break; // a late duplicate answer
        if (!input.body.ok) break; // refused (overloaded): the timeout retries it
        s.outstanding.delete(input.reqId);
        s.completed++;
        const sw = s.cfg.switching;
        if (sw) {
          // Variant switch-drain-never-starts: the last old-mode request's end does not start the drain.
          if (requestFinished(s.coord, input.reqId) && sw.drainNeverStarts !== true) startDrain(s, ctx, out);
          if (sw.adaptive) {
            observe(s.controller, sw.adaptive, ctx.nowUs, input.body.reads ?? 0, input.body.writes ?? 0);
            const want = decide(s.controller, sw.adaptive, s.coord, ctx.nowUs);
            if (want !== null) switchTo(s, want, ctx, out);
          }
        }
        if (s.cfg.rps <= 0 && canIssue(s, ctx)) issueOne(s, ctx, out);
        break;
      }
      case 'restart':
      case 'message':
      case 'client':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

/** Every request issued was answered, and no more will be issued. */
export function clientDone(s: ClientState, nowUs: number): boolean {
  if (s.outstanding.size > 0) return false;
  return s.completed >= s.cfg.requests || (s.cfg.durationUs > 0 && nowUs >= s.cfg.durationUs);
}
