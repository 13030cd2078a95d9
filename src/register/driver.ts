/**
 * The register's workload driver: each client node runs `opsPerClient` operations one after
 * another, with a random think time between them, reading with probability `readRatio` and
 * otherwise writing a value unique to the run ("c1.4": client c1's fourth operation), so every
 * read names the write it saw and the linearizability check stays cheap.
 */
import { assertNever } from '../core/assert.ts';
import type { Effect, Machine } from '../core/contract.ts';
import { request, setTimer } from '../core/contract.ts';
import type { RegRep, RegReq } from './machine.ts';

export interface RegDriverConfig {
  readonly clients: readonly string[];
  readonly opsPerClient: number;
  readonly readRatio: number;
  readonly thinkUsMax: number;
}

export interface RegDriverState {
  readonly cfg: RegDriverConfig;
  issued: number[];
  outstanding: (string | null)[];
  completed: number;
}

type Eff = Effect<never, RegReq, RegRep>;

function think(cfg: RegDriverConfig, u: number): number {
  return 1 + Math.floor((u / 0x1_0000_0000) * cfg.thinkUsMax);
}

export const regDriverMachine: Machine<RegDriverConfig, RegDriverState, never, RegReq, RegRep> = {
  role: 'driver',
  init: (cfg) => ({ cfg, issued: cfg.clients.map(() => 0), outstanding: cfg.clients.map(() => null), completed: 0 }),
  recover: (cfg) => ({ cfg, issued: cfg.clients.map(() => 0), outstanding: cfg.clients.map(() => null), completed: 0 }),
  step(s, input, ctx) {
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

/** Undefined before the driver started: `done` may be polled at any step. */
export function driverDone(s: RegDriverState | undefined): boolean {
  return s !== undefined && s.completed === s.cfg.clients.length * s.cfg.opsPerClient;
}
