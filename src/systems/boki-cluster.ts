/**
 * Assembles a Boki cluster: the coordination service, the controller, sequencers (including
 * spares), storage nodes and engines, with the log's invariants, checker fragments, fault budget
 * and symbolic fault targets. The log system adds its workload driver; the Halfmoon system calls
 * `buildBokiCluster` for the same nodes and composes its runtime onto the engines.
 *
 * Node ids: `zk` (role coord), `ctrl` (controller), `seq0..` (sequencer), `sto0..` (storage),
 * `eng0..` (engine).
 */
import type { Checker, FaultGuard, Invariant, NodeSpec, WorldView } from '../core/system.ts';
import { decisionAgreement, metalogAgreement } from '../../proofs/log/invariants.ts';
import { checkLogHistory } from '../../proofs/log/checks.ts';
import { logLivenessChecker } from '../../proofs/log/liveness.ts';
import { ZK_NODES } from '../boki/coord-api.ts';
import { coordMachine, type CoordState, DEFAULT_COORD_CONFIG } from '../boki/coord.ts';
import type { BokiConfig } from '../boki/common.ts';
import { controllerMachine, type ControllerState } from '../boki/controller.ts';
import { engineMachine } from '../boki/engine.ts';
import type { EngineState } from '../boki/engine/state.ts';
import type { BokiParams, BokiVariant } from '../boki/params.ts';
import { sequencerMachine, type SequencerState } from '../boki/sequencer.ts';
import { storageMachine } from '../boki/storage.ts';
import type { ViewInfo } from '../boki/view.ts';
import { BOKI_NODE_WIRE, COORD_WIRE, ENGINE_WIRE } from '../boki/wire.ts';

export const COORD_ID = 'zk';
export const CONTROLLER_ID = 'ctrl';

export interface BokiCluster {
  readonly config: BokiConfig;
  readonly nodes: readonly NodeSpec[];
  readonly engines: readonly string[];
  readonly sequencers: readonly string[];
  readonly storages: readonly string[];
  /** Fresh per call: invariants keep per-run incremental state. */
  invariants(): Invariant[];
  /** History checks and liveness; `probes` says whether a log driver probes every book. */
  checkers(opts: { probes: boolean; books: number }): Checker[];
  readonly faultGuard: FaultGuard;
  resolveSelector(selector: string, view: WorldView): string | null;
}

export function bokiEngineIds(p: Pick<BokiParams, 'engines'>): string[] {
  return Array.from({ length: p.engines }, (_, i) => `eng${i}`);
}

export function buildBokiCluster(p: BokiParams, variant: BokiVariant | null): BokiCluster {
  const sequencers = Array.from({ length: p.sequencers + p.spareSequencers }, (_, i) => `seq${i}`);
  const storages = Array.from({ length: p.storages }, (_, i) => `sto${i}`);
  const engines = bokiEngineIds(p);
  const config: BokiConfig = { p, variant, sequencers, engines, storages };
  const nodes: NodeSpec[] = [
    { id: COORD_ID, role: 'coord', machine: coordMachine, config: DEFAULT_COORD_CONFIG, faultable: false, wire: COORD_WIRE },
    { id: CONTROLLER_ID, role: 'controller', machine: controllerMachine, config, wire: BOKI_NODE_WIRE },
    ...sequencers.map((id) => ({ id, role: 'sequencer', machine: sequencerMachine, config, wire: BOKI_NODE_WIRE })),
    ...storages.map((id) => ({ id, role: 'storage', machine: storageMachine, config, wire: BOKI_NODE_WIRE })),
    ...engines.map((id) => ({ id, role: 'engine', machine: engineMachine, config, wire: ENGINE_WIRE })),
  ];
  return {
    config,
    nodes,
    engines,
    sequencers,
    storages,
    invariants: () => [metalogAgreement(), decisionAgreement()],
    // A blocking read parks for at most blockingReadTimeoutMs; the record it then finds may take
    // every one of its storage read attempts (a dropped request or reply costs one readTimeoutMs,
    // and the scenarios' background drops go on after the nemesis stops), so a READ_OK may come
    // as late as the park plus readRetries + 1 attempts. With only one attempt allowed, a 30 s
    // log-chaos run was judged late by 358 us for a read that lost one storage request to a drop.
    checkers: ({ probes, books }) => [
      { name: 'log-history', check: (run) => checkLogHistory(run, { blockingReadBoundUs: (p.blockingReadTimeoutMs + p.readTimeoutMs * (p.readRetries + 1)) * 1000, quietUs: p.livenessBoundMs * 1000, blockingReadTimeoutUs: p.blockingReadTimeoutMs * 1000 }) },
      logLivenessChecker(p.livenessBoundMs * 1000, books, probes),
    ],
    faultGuard: (f, view) => guard(p, f.kind, f.nodes ?? [], view),
    resolveSelector: (sel, view) => resolve(sel, view, sequencers),
  };
}

/** The newest view any live node knows (the controller's first). */
export function latestView(view: WorldView): ViewInfo | null {
  let best: ViewInfo | null = null;
  const consider = (vi: ViewInfo | null | undefined) => {
    if (vi && (!best || vi.view.viewId > best.view.viewId)) best = vi;
  };
  for (const id of view.nodeIds()) {
    if (!view.isUp(id)) continue;
    const role = view.role(id);
    if (role === 'controller') {
      const s = view.state(id) as ControllerState;
      consider(s.views.infos[s.views.current]);
    } else if (role === 'sequencer') {
      const s = view.state(id) as SequencerState;
      consider(s.views.infos[s.views.current]);
    }
  }
  return best;
}

function resolve(sel: string, view: WorldView, sequencers: readonly string[]): string | null {
  const vi = latestView(view);
  switch (sel) {
    case 'primary-sequencer':
      return vi?.logs[0]?.primary ?? null;
    case 'backup-sequencer':
      return vi?.logs[0]?.backups[0] ?? null;
    case 'spare-sequencer': {
      const inGroups = new Set(vi?.logs.flatMap((l) => l.group) ?? []);
      return sequencers.find((s) => !inGroups.has(s) && view.isUp(s)) ?? null;
    }
    case 'index-engine':
      return vi?.logs[0]?.indexEngines[0] ?? null;
    case 'controller':
      return CONTROLLER_ID;
    default:
      return null;
  }
}

/**
 * The fault budget (spec §9.3): at most ceil(n/2)-1 crashed members per metalog group and view;
 * storage crash-restarts are unlimited (synced data survives them); an engine is not
 * crashed while it holds the last intact copy of some log's index.
 */
function guard(p: BokiParams, kind: string, nodes: readonly string[], view: WorldView): string | null {
  if (kind !== 'crash' || nodes.length !== 1) return null;
  const node = nodes[0]!;
  const role = view.role(node);
  if (role === 'sequencer') return sequencerBudget(node, view);
  if (role === 'engine') return engineBudget(node, view);
  void p;
  return null;
}

function sequencerBudget(node: string, view: WorldView): string | null {
  const vi = latestView(view);
  if (!vi) return null;
  // The budget is per view (spec §9.3): group members whose state for the current view is lost,
  // this one included. A member is lost if it is down, or restarted after joining the view (its
  // metalog lived in memory). A restarted member that never joined the view is not: it may still
  // join fresh or report honestly that it holds nothing (sequencer.ts).
  const v = vi.view.viewId;
  for (const log of vi.logs) {
    if (!log.group.includes(node)) continue;
    const lost = new Set<string>([node]);
    for (const m of log.group) {
      if (!view.isUp(m)) {
        lost.add(m);
        continue;
      }
      const st = view.state(m) as SequencerState;
      if (!st.logs.has(log.ls) && st.lostViews.has(v)) lost.add(m);
    }
    const budget = Math.ceil(log.group.length / 2) - 1;
    if (lost.size > budget) return `metalog group of logspace ${log.ls} may lose at most ${budget} member(s) per view`;
  }
  // The next view's groups come from every sequencer whose registration is still alive, and a
  // crashed one's outlives it by the lease timeout: it may be placed in a group it can never
  // serve. So dead-but-registered sequencers, this one included, must fit one group's budget.
  const budget = Math.ceil(vi.view.metalogReplicas / 2) - 1;
  const stale = new Set<string>([node]);
  const zk = view.state(COORD_ID) as CoordState | undefined;
  if (zk) {
    for (const path of zk.nodes.keys()) {
      if (!path.startsWith(`${ZK_NODES}/seq`)) continue;
      const id = path.slice(ZK_NODES.length + 1, path.lastIndexOf('-'));
      if (!view.isUp(id)) stale.add(id);
    }
  }
  if (stale.size > budget) return `${stale.size} sequencers would be dead but still registered; a view may hold at most ${budget} such member(s)`;
  return null;
}

function engineBudget(node: string, view: WorldView): string | null {
  const st = view.state(node) as EngineState | undefined;
  if (!st) return null;
  for (const ls of st.indexes.keys()) {
    let others = 0;
    for (const id of view.nodeIds()) {
      if (id === node || view.role(id) !== 'engine' || !view.isUp(id)) continue;
      if ((view.state(id) as EngineState).indexes.has(ls)) others++;
    }
    if (others === 0) return `${node} holds the last intact index of logspace ${ls}`;
  }
  return null;
}
