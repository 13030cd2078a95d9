/**
 * The Boki shared log as a system: the cluster of src/boki/cluster.ts plus the log workload
 * driver. Judged by the log's history checks and final audit (proofs/log/checks.ts), liveness
 * after faults stop (proofs/log/liveness.ts), and two incremental invariants after every step
 * (metalog prefix agreement, identical conditional decisions).
 *
 * `report` adds `log: { appends, reads, discarded, reconfigurations, appendLatencyUs: {p50, p99},
 * ... }` to the run's JSON.
 */
import { defineSystem } from './registry.ts';
import type { FinishedRun, NodeSpec, SystemDef } from '../core/system.ts';
import type { LogReply, LogRequest } from '../boki/api.ts';
import { buildBokiCluster } from './boki-cluster.ts';
import { driverDone, driverMachine, type DriverState } from '../boki/driver.ts';
import { BOKI_DEFAULTS, BOKI_VARIANT_DEFS, type BokiParams, isBokiVariant, nodeParams, validateBokiParams } from '../boki/params.ts';
import { callsAndReturns } from '../../proofs/liveness.ts';

export const bokiSystem: SystemDef<BokiParams> = defineSystem<BokiParams>({
  name: 'boki',
  description: 'the Boki shared log: sequencers, storage nodes, engines, controller and coordination service',
  defaults: BOKI_DEFAULTS,
  variants: BOKI_VARIANT_DEFS,
  validate: validateBokiParams,
  build(p, variant) {
    const v = isBokiVariant(variant) ? variant : null;
    const np = nodeParams(p);
    const cluster = buildBokiCluster(np, v);
    // The script flag is only present when set, so the default driver's state is as it was.
    const config = { p: np, engines: cluster.engines, ...(p.workload === 'script' ? { script: true } : {}) };
    const nodes: NodeSpec[] = [...cluster.nodes, { id: 'driver', role: 'driver', machine: driverMachine, config, driver: true }];
    return {
      nodes,
      invariants: cluster.invariants(),
      freshInvariants: cluster.invariants,
      // The scripted workload issues no end-of-run probes.
      checkers: cluster.checkers({ probes: p.probes && p.workload !== 'script', books: p.books }),
      done: (view) => driverDone(view.state('driver') as DriverState | undefined),
      report: (run) => ({ log: logReport(run) }),
      faultGuard: cluster.faultGuard,
      resolveSelector: cluster.resolveSelector,
    };
  },
});

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function logReport(run: FinishedRun): Record<string, unknown> {
  let appends = 0;
  let reads = 0;
  let discarded = 0;
  let condFailed = 0;
  let dataLost = 0;
  let completed = 0;
  const lat: number[] = [];
  const readLat: number[] = [];
  for (const op of callsAndReturns(run.history)) {
    const req = op.input as LogRequest;
    const rep = op.output as LogReply | undefined;
    if (req.op === 'append' || req.op === 'condAppend' || req.op === 'overwrite') appends++;
    if (req.op === 'readNext' || req.op === 'readPrev' || req.op === 'checkTail') reads++;
    if (!rep) continue;
    completed++;
    if (rep.code === 'DISCARDED') discarded++;
    if (rep.code === 'COND_FAILED') condFailed++;
    if (rep.code === 'DATA_LOST') dataLost++;
    if (req.op === 'append' && rep.code === 'APPEND_OK') lat.push(op.ret - op.call);
    if ((req.op === 'readPrev' || req.op === 'checkTail') && rep.code !== 'DATA_LOST') readLat.push(op.ret - op.call);
  }
  let reconfigurations = 0;
  for (const ev of run.history) if (ev.kind === 'record' && (ev.event as { ev?: string }).ev === 'reconfigDone') reconfigurations++;
  lat.sort((a, b) => a - b);
  readLat.sort((a, b) => a - b);
  return {
    appends,
    reads,
    completed,
    discarded,
    condFailed,
    dataLost,
    reconfigurations,
    appendLatencyUs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) },
    readLatencyUs: { p50: quantile(readLat, 0.5), p99: quantile(readLat, 0.99) },
  };
}
