/**
 * The register's workload driver: each client node runs `opsPerClient` operations one after
 * another, with a random think time between them, reading with probability `readRatio` and
 * otherwise writing a value unique to the run ("c1.4": client c1's fourth operation), so every
 * read names the write it saw and the linearizability check stays cheap.
 *
 * With a `script`, the driver instead runs the listed operations strictly one at a time across
 * all clients (each is issued after the previous one's reply), so every client-visible result is
 * determined by the script alone and two runtimes can be compared reply by reply.
 */
import { assertNever } from '../core/assert.ts';
import type { Effect, Machine } from '../core/contract.ts';
import { request, setTimer } from '../core/contract.ts';
import type { RegRep, RegReq } from './machine.ts';

/** One scripted operation: `client` indexes the client list. */
export type ScriptOp = { readonly client: number; readonly op: 'read' } | { readonly client: number; readonly op: 'write'; readonly value: string };

export interface RegDriverConfig {
  readonly clients: readonly string[];
  readonly opsPerClient: number;
  readonly readRatio: number;
  readonly thinkUsMax: number;
  /** When set, these operations run one at a time in order, instead of the random workload. */
  readonly script?: readonly ScriptOp[] | null;
}

export interface RegDriverState {
  readonly cfg: RegDriverConfig;
  issued: number[];
  outstanding: (string | null)[];
  completed: number;
  /** Index of the next scripted operation (script mode only). */
  scriptNext: number;
}

const SCRIPT_TIMER = 'next:script';

type Eff = Effect<never, RegReq, RegRep>;

function think(cfg: RegDriverConfig, u: number): number {
  return 1 + Math.floor((u / 0x1_0000_0000) * cfg.thinkUsMax);
}

export const regDriverMachine: Machine<RegDriverConfig, RegDriverState, never, RegReq, RegRep> = {
  role: 'driver',
  init: (cfg) => ({ cfg, issued: cfg.clients.map(() => 0), outstanding: cfg.clients.map(() => null), completed: 0, scriptNext: 0 }),
  recover: (cfg) => ({ cfg, issued: cfg.clients.map(() => 0), outstanding: cfg.clients.map(() => null), completed: 0, scriptNext: 0 }),
  step(s, input, ctx) {
    if (s.cfg.script) return scriptStep(s, s.cfg.script, input);
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
        s.cfg.clients.forEach((_c, i) => {
          if (s.cfg.opsPerClient > 0) out.push(setTimer(`next:${i}`, think(s.cfg, ctx.randomU32('think'))));
        });
        break;
      case 'timer': {
        const i = Number(input.timer.slice(5));
        const client = s.cfg.clients[i]!;
        const k = s.issued[i]!++;
        const reqId = `${client}#${k}`;
        const isRead = ctx.randomU32('op') / 0x1_0000_0000 < s.cfg.readRatio;
        const body: RegReq = isRead ? { op: 'read' } : { op: 'write', value: `${client}.${k}` };
        s.outstanding[i] = reqId;
        out.push(request(client, reqId, body));
        break;
      }
      case 'response': {
        const i = s.outstanding.indexOf(input.reqId);
        if (i < 0) break; // a duplicate response
        s.outstanding[i] = null;
        s.completed++;
        if (s.issued[i]! < s.cfg.opsPerClient) out.push(setTimer(`next:${i}`, think(s.cfg, ctx.randomU32('think'))));
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

/** Script mode: issue operation k once operation k-1 has its reply; no think time, no randomness. */
function scriptStep(s: RegDriverState, script: readonly ScriptOp[], input: Parameters<typeof regDriverMachine.step>[1]): { state: RegDriverState; effects: Eff[] } {
  const out: Eff[] = [];
  switch (input.type) {
    case 'start':
      if (script.length > 0) out.push(setTimer(SCRIPT_TIMER, 1));
      break;
    case 'timer': {
      if (input.timer !== SCRIPT_TIMER || s.scriptNext >= script.length) break;
      const op = script[s.scriptNext++]!;
      const client = s.cfg.clients[op.client]!;
      const k = s.issued[op.client]!++;
      const reqId = `${client}#${k}`;
      s.outstanding[op.client] = reqId;
      const body: RegReq = op.op === 'read' ? { op: 'read' } : { op: 'write', value: op.value };
      out.push(request(client, reqId, body));
      break;
    }
    case 'response': {
      const i = s.outstanding.indexOf(input.reqId);
      if (i < 0) break; // a duplicate response
      s.outstanding[i] = null;
      s.completed++;
      if (s.scriptNext < script.length) out.push(setTimer(SCRIPT_TIMER, 1));
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
}

/** Whether the workload is finished; false before the driver has booted (its state is undefined). */
export function driverDone(s: RegDriverState | undefined): boolean {
  if (s === undefined) return false;
  if (s.cfg.script) return s.completed === s.cfg.script.length;
  return s.completed === s.cfg.clients.length * s.cfg.opsPerClient;
}
