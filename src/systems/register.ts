/**
 * The register system: N replicas, C client-library nodes and one workload driver. Judged by a
 * linearizability check over the client history, liveness after faults stop, and an invariant
 * checked after every step: a replica's timestamp never goes backwards, not even across a crash.
 */
import { defineSystem } from './registry.ts';
import { InputError } from '../core/assert.ts';
import type { Invariant, NodeSpec, SystemDef, WorldView } from '../core/system.ts';
import { checkLinearizable, registerSpec, type HistOp, type RegInput, type RegOutput } from '../../proofs/linearizability.ts';
import { callsAndReturns, livenessChecker } from '../../proofs/liveness.ts';
import { driverDone, regDriverMachine, type RegDriverState, type ScriptOp } from '../register/driver.ts';
import { CLIENT_WIRE, REPLICA_WIRE } from '../register/wire.ts';
import { clientMachine, replicaMachine, tsLess, VARIANTS, type RegisterVariant, type ReplicaState, type Ts } from '../register/machine.ts';

export interface RegisterParams {
  replicas: number;
  clients: number;
  opsPerClient: number;
  readRatio: number;
  thinkUsMax: number;
  retransmitUs: number;
  livenessBoundUs: number;
  linearizabilityStepsMax: number;
  /** A fixed sequence of operations run one at a time, instead of the random workload (null). */
  script: ScriptOp[] | null;
}

const SCRIPT_MAX = 100_000;

function validateScript(script: unknown, clients: number): void {
  if (script === null) return;
  if (!Array.isArray(script)) throw new InputError('params.script: must be null or a list of operations');
  if (script.length > SCRIPT_MAX) throw new InputError(`params.script: at most ${SCRIPT_MAX} operations, got ${script.length}`);
  script.forEach((op: unknown, i) => {
    const where = `params.script[${i}]`;
    if (typeof op !== 'object' || op === null || Array.isArray(op)) throw new InputError(`${where}: must be an object {client, op, value?}`);
    const o = op as Record<string, unknown>;
    if (!Number.isInteger(o.client) || (o.client as number) < 0 || (o.client as number) >= clients) throw new InputError(`${where}.client: must be a client index in [0, ${clients - 1}], got ${JSON.stringify(o.client)}`);
    if (o.op === 'read') {
      if (Object.keys(o).some((k) => k !== 'client' && k !== 'op')) throw new InputError(`${where}: a read takes only client and op`);
      return;
    }
    if (o.op !== 'write') throw new InputError(`${where}.op: must be 'read' or 'write', got ${JSON.stringify(o.op)}`);
    if (typeof o.value !== 'string' || o.value.length === 0 || o.value.length > 1024) throw new InputError(`${where}.value: a write needs a string value of 1..1024 characters`);
    if (Object.keys(o).some((k) => k !== 'client' && k !== 'op' && k !== 'value')) throw new InputError(`${where}: a write takes only client, op and value`);
  });
}

function monotonicTimestamps(): Invariant {
  const last = new Map<string, Ts>();
  return {
    name: 'replica-timestamp-monotonic',
    afterStep(view: WorldView, node: string) {
      if (view.role(node) !== 'replica' || !view.isUp(node)) return null;
      const s = view.state(node) as ReplicaState;
      const prev = last.get(node);
      last.set(node, s.ts);
      if (prev && tsLess(s.ts, prev)) {
        return `${node}'s timestamp went back from (${prev.n},${prev.w}) to (${s.ts.n},${s.ts.w})`;
      }
      return null;
    },
  };
}

export const registerSystem: SystemDef<RegisterParams> = defineSystem<RegisterParams>({
  name: 'register',
  description: 'the example protocol: an ABD quorum register with retransmission',
  defaults: {
    replicas: 3,
    clients: 3,
    opsPerClient: 20,
    readRatio: 0.5,
    thinkUsMax: 2000,
    retransmitUs: 5000,
    livenessBoundUs: 2_000_000,
    linearizabilityStepsMax: 2_000_000,
    script: null,
  },
  shrinkable: ['opsPerClient', 'clients'],
  variants: VARIANTS.map((v) => ({ name: v.name, description: v.description, exposedBy: `register-${v.fault.toLowerCase() === 'clockskew' ? 'clock-skew' : v.fault}` })),
  validate(p) {
    const int = (k: Exclude<keyof RegisterParams, 'script'>, lo: number, hi: number) => {
      const v = p[k];
      if (!Number.isInteger(v) || v < lo || v > hi) throw new InputError(`params.${k}: must be an integer in [${lo}, ${hi}], got ${v}`);
    };
    int('replicas', 1, 15);
    int('clients', 1, 32);
    int('opsPerClient', 0, 100_000);
    int('thinkUsMax', 0, 60_000_000);
    int('retransmitUs', 1, 60_000_000);
    int('livenessBoundUs', 1, 3_600_000_000);
    int('linearizabilityStepsMax', 1, 1e9);
    if (!(p.readRatio >= 0 && p.readRatio <= 1)) throw new InputError(`params.readRatio: must be in [0, 1], got ${p.readRatio}`);
    validateScript(p.script, p.clients);
  },
  build(p, variant) {
    const v = variant as RegisterVariant | null;
    const replicas = Array.from({ length: p.replicas }, (_, i) => `r${i}`);
    const clients = Array.from({ length: p.clients }, (_, i) => `c${i}`);
    const nodes: NodeSpec[] = [
      ...replicas.map((id) => ({ id, role: 'replica', machine: replicaMachine, config: { variant: v }, wire: REPLICA_WIRE })),
      ...clients.map((id) => ({
        id,
        role: 'client',
        machine: clientMachine,
        config: { replicas, retransmitUs: p.retransmitUs, giveUpUs: 30_000, variant: v },
        faultable: false,
        wire: CLIENT_WIRE,
      })),
      {
        id: 'driver',
        role: 'driver',
        machine: regDriverMachine,
        config: { clients, opsPerClient: p.opsPerClient, readRatio: p.readRatio, thinkUsMax: p.thinkUsMax, script: p.script },
        driver: true,
      },
    ];
    return {
      nodes,
      invariants: [monotonicTimestamps()],
      freshInvariants: () => [monotonicTimestamps()],
      checkers: [
        {
          name: 'linearizability',
          check(run) {
            const ops: HistOp<RegInput, RegOutput>[] = callsAndReturns(run.history).map((c) => ({
              id: c.reqId,
              client: c.node,
              call: c.call,
              ret: c.ret,
              input: c.input as RegInput,
              output: c.output as RegOutput | undefined,
            }));
            const r = checkLinearizable(registerSpec, ops, p.linearizabilityStepsMax);
            if (r.verdict === 'violated') return [{ invariant: 'linearizability', message: r.message }];
            if (r.verdict === 'unknown') return [{ invariant: 'linearizability-unknown', message: r.reason }];
            return [];
          },
        },
        livenessChecker(p.livenessBoundUs),
      ],
      done: (view) => driverDone(view.state('driver') as RegDriverState | undefined),
      report(run) {
        const ops = callsAndReturns(run.history);
        const done = ops.filter((o) => o.ret !== Infinity);
        const lat = done.map((o) => o.ret - o.call).sort((a, b) => a - b);
        const q = (f: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]! : 0);
        return {
          register: {
            operations: ops.length,
            completed: done.length,
            reads: ops.filter((o) => (o.input as RegInput).op === 'read').length,
            writes: ops.filter((o) => (o.input as RegInput).op === 'write').length,
            latencyUs: { p50: q(0.5), p99: q(0.99) },
          },
        };
      },
    };
  },
});
