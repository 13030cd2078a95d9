/**
 * The workload client and gateway (issue 4 §2): issues workflow requests with stable request
 * ids to function nodes, times out and retries the same request id on another node until it is
 * answered. Closed loop (`concurrency` requests in flight) or open loop (`rps` arrivals per
 * second). Which protocol a request runs under is decided here, per request, by `modeFor` (a fixed
 * protocol, or the switching coordinator of issue 5).
 */
import { assertNever } from '../core/assert.ts';
import type { Ctx, Effect, Machine } from '../core/contract.ts';
import { request, setTimer } from '../core/contract.ts';
import type { Json, Mode } from './records.ts';
import type { WfReply, WfRequest } from './runtime.ts';
import { requestGenerator } from './workloads/index.ts';

export interface ClientConfig {
  readonly engines: readonly string[];
  readonly workload: string;
  /** Workload parameters handed to the generator (readRatio, keys, ...). */
  readonly params: Readonly<Record<string, Json>>;
  readonly requests: number;
  readonly concurrency: number;
  readonly rps: number;
  readonly timeoutUs: number;
  readonly mode: Mode;
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
}

type Eff = Effect<never, WfRequest, WfReply>;

function issueOne(s: ClientState, ctx: Ctx, out: Eff[]): void {
  const k = s.issued++;
  const requestId = `q${k}`;
  const gen = requestGenerator(s.cfg.workload);
  const { fn, input } = gen(s.cfg.params, k, (label) => ctx.randomU32(label));
  const body: WfRequest = { requestId, fn, input, mode: s.cfg.mode };
  const engine = ctx.randomU32('engine') % s.cfg.engines.length;
  s.outstanding.set(requestId, { body, attempt: 0, engine });
  out.push(request(s.cfg.engines[engine]!, requestId, body));
  out.push(setTimer(`timeout:${requestId}:0`, s.cfg.timeoutUs));
}

function arrivalGapUs(s: ClientState, ctx: Ctx): number {
  const u = ctx.randomU32('arrival') / 0x1_0000_0000;
  return Math.max(1, Math.round((-Math.log(1 - u) * 1e6) / s.cfg.rps));
}

export const clientMachine: Machine<ClientConfig, ClientState, never, WfRequest, WfReply> = {
  role: 'driver',
  init: (cfg) => ({ cfg, issued: 0, completed: 0, outstanding: new Map(), retries: 0 }),
  recover: (cfg) => ({ cfg, issued: 0, completed: 0, outstanding: new Map(), retries: 0 }),
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
        if (s.cfg.rps > 0) {
          if (s.cfg.requests > 0) out.push(setTimer('arrival', arrivalGapUs(s, ctx)));
        } else {
          for (let i = 0; i < Math.min(s.cfg.concurrency, s.cfg.requests); i++) issueOne(s, ctx, out);
        }
        break;
      case 'timer': {
        if (input.timer === 'arrival') {
          issueOne(s, ctx, out);
          if (s.issued < s.cfg.requests) out.push(setTimer('arrival', arrivalGapUs(s, ctx)));
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
        const o = s.outstanding.get(input.reqId);
        if (!o) break; // a late duplicate answer
        if (!input.body.ok) break; // refused (overloaded): the timeout retries it
        s.outstanding.delete(input.reqId);
        s.completed++;
        if (s.cfg.rps <= 0 && s.issued < s.cfg.requests) issueOne(s, ctx, out);
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

export function clientDone(s: ClientState): boolean {
  return s.completed >= s.cfg.requests && s.outstanding.size === 0;
}
