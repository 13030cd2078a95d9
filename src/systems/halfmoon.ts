/**
 * The Halfmoon system: function nodes (a log engine with the workflow runtime composed onto it),
 * the shared log behind them, the external store, and the workload client. Judged by the
 * exactly-once checker (C1-C6), log accounting and log-optimality, and liveness.
 *
 * The log is either the full Boki cluster (`log: boki`) or the reference log (`log: reference`),
 * a single node implementing the same API atomically: the protocols only rely on the API's
 * semantics, and the reference log keeps explorer models and quick property tests small.
 */
import { defineSystem } from './registry.ts';
import { InputError } from '../core/assert.ts';
import { unknownKeyMessage } from '../core/suggest.ts';
import type { AuditSlot } from '../boki/api.ts';
import { type Composed, compose } from '../core/compose.ts';
import type { Checker, FinishedRun, HistoryEvent, Invariant, NodeSpec, SystemDef, SystemInstance, WorldView } from '../core/system.ts';
import { clientDone, clientMachine, type ClientState } from '../halfmoon/client.ts';
import { admit } from '../halfmoon/switching.ts';
import { switchingLivenessChecker, switchingReport } from '../../proofs/switching.ts';
import type { Json, Mode } from '../halfmoon/records.ts';
import { CANONICAL_TAGS, rowName } from '../halfmoon/records.ts';
import { runtimeMachine } from '../halfmoon/runtime.ts';
import type { RuntimeConfig } from '../halfmoon/workflow/requests.ts';
import type { RuntimeState } from '../halfmoon/workflow/state.ts';
import { storeMachine } from '../halfmoon/store.ts';
import { workload, workloadNames } from '../halfmoon/workloads/index.ts';
import { refLogAudit, refLogMachine, refProxyMachine, type RefLogState } from '../reflog/machine.ts';
import { buildBokiCluster } from './boki-cluster.ts';
import { engineMachine } from '../boki/engine.ts';
import { BOKI_DEFAULTS, type BokiParams, isBokiVariant, nodeParams, validateBokiParams } from '../boki/params.ts';
import { type Audit, runAudit } from '../../proofs/log/audit.ts';
import { exactlyOnceChecker, isCoordinatorRequest } from '../../proofs/exactly-once.ts';
import { logAccountingChecker } from '../../proofs/accounting.ts';
import { halfmoonReport } from '../../proofs/halfmoon-report.ts';
import { livenessChecker } from '../../proofs/liveness.ts';
import { PROTOCOL_MODES, protocolByName } from '../halfmoon/protocols.ts';
import { HALFMOON_VARIANTS } from '../halfmoon/variants.ts';
import { FUNCTION_NODE_WIRE, STORE_WIRE } from '../halfmoon/wire.ts';

/**
 * Protocol name -> mode, every protocol registered with `defineProtocol` (src/halfmoon/protocols.ts
 * registers boki, hm-read, hm-write, transitional, unsafe and adaptive; plugins add theirs).
 */
export const PROTOCOLS: Readonly<Record<string, Mode>> = PROTOCOL_MODES;

export interface HalfmoonParams {
  protocol: string;
  workload: string;
  log: string;
  engines: number;
  requests: number;
  /** The client issues no request after this time (0: until `requests` are issued). */
  durationUs: number;
  concurrency: number;
  rps: number;
  readRatio: number;
  /**
   * rw only: the first `warmupRequests` requests write every key once, in order, with no reads,
   * so key streams and version rows start in their steady state (the published runs had a 120 s
   * warm-up); statistics leave them out.
   */
  warmupRequests: number;
  opsPerRequest: number;
  keys: number;
  valueBytes: number;
  depth: number;
  programs: Json;
  timeoutUs: number;
  crashProbability: number;
  crashUntilUs: number;
  storeGetUs: number;
  storePutUs: number;
  storeJitterUs: number;
  /** The runtime resends a store request unanswered this long (store operations are idempotent). */
  storeTimeoutUs: number;
  staleReadUs: number;
  appendUs: number;
  condAppendUs: number;
  readUs: number;
  /** Function-to-engine IPC round trip charged to each data-path log call, µs (0: free). */
  ipcUs: number;
  /** Reference log only: seqnums start above this (as a string: it may exceed 2^53). */
  seqBase: string;
  /** Boki log only: overrides of the Boki cluster's parameters (`halfmoon variants` / system boki). */
  logParams: Json;
  livenessBoundUs: number;
  recoveryEngines: number;
  recoveryIntervalUs: number;
  recoveryAfterUs: number;
  /** Check the spec's record formulas exactly (only meaningful without faults). */
  exactCounts: boolean;
  /** Switching (issue 5): a fixed timer between HM-R and HM-W (0: off); protocol 'adaptive' decides itself. */
  switchEveryUs: number;
  /** The read ratio alternates readRatioA / readRatioB every phaseUs (0: fixed readRatio). */
  phaseUs: number;
  readRatioA: number;
  readRatioB: number;
  controllerRule: string;
  tCaUs: number;
  tRpUs: number;
  hysteresis: number;
  windowUs: number;
  dwellUs: number;
  reconcileParallelism: number;
  /**
   * Shorthand for a crash mix: function crashes at every kind of point (crashProbability 0.002
   * unless set) and crash-restarts of function nodes, both until crashUntilUs.
   */
  crashes: boolean;
  /** The store persists its rows and recovers them after a restart (a real cluster's store process). */
  storeDurable: boolean;
  /** Prefixed to the client's request ids (each run against a long-lived real cluster has its own). */
  requestPrefix: string;
}

export const halfmoonDefaults: HalfmoonParams = {
  protocol: 'hm-write',
  workload: 'rw',
  log: 'reference',
  engines: 8,
  requests: 200,
  durationUs: 0,
  concurrency: 16,
  rps: 0,
  readRatio: 0.5,
  warmupRequests: 0,
  opsPerRequest: 10,
  keys: 10_000,
  valueBytes: 256,
  depth: 1,
  programs: null,
  timeoutUs: 2_000_000,
  crashProbability: 0,
  crashUntilUs: 3_000_000,
  storeGetUs: 2000,
  storePutUs: 3800,
  storeJitterUs: 0,
  storeTimeoutUs: 200_000,
  staleReadUs: 0,
  appendUs: 1000,
  condAppendUs: 900,
  readUs: 200,
  ipcUs: 0,
  seqBase: '0',
  logParams: null,
  livenessBoundUs: 30_000_000,
  recoveryEngines: 2,
  recoveryIntervalUs: 500_000,
  recoveryAfterUs: 2_000_000,
  exactCounts: false,
  switchEveryUs: 0,
  phaseUs: 0,
  readRatioA: 0.2,
  readRatioB: 0.8,
  controllerRule: 'cost',
  tCaUs: 900,
  tRpUs: 200,
  hysteresis: 0.05,
  windowUs: 500_000,
  dwellUs: 1_000_000,
  reconcileParallelism: 16,
  crashes: false,
  storeDurable: false,
  requestPrefix: '',
};

function variantFlags(variant: string | null) {
  return {
    tags: variant === 'step-hash-collision-fatal' ? { bits: 3, xorKeys: false } : variant === 'keytag-xor-symmetric' ? { bits: 62, xorKeys: true } : CANONICAL_TAGS,
    staleReads: variant === 'eventual-store-reads',
    floatVersions: variant === 'version-float64',
  };
}

export function buildHalfmoon(p: HalfmoonParams, variant: string | null): SystemInstance {
  const mode = PROTOCOLS[p.protocol]!;
  const switching = protocolByName(p.protocol)?.adaptive === true || p.switchEveryUs > 0;
  // Cross-era reconciliation: HM-R writes mirror into the base row (R -> W), markers for W -> R.
  const reconcile = switching && variant !== 'switch-no-reconciliation';
  const w = workload(p.workload);
  const wparams: Record<string, Json> = {
    readRatio: p.readRatio,
    warmupRequests: p.warmupRequests,
    opsPerRequest: p.opsPerRequest,
    keys: p.keys,
    valueBytes: p.valueBytes,
    depth: p.depth,
    programs: p.programs,
    phaseUs: p.phaseUs,
    readRatioA: p.readRatioA,
    readRatioB: p.readRatioB,
  };
  const flags = variantFlags(variant);
  const engines = Array.from({ length: p.engines }, (_, i) => `eng${i}`);
  const rcfg: RuntimeConfig = {
    workload: p.workload,
    store: 'store',
    book: 0,
    tags: flags.tags,
    variant,
    mirrorBase: reconcile,
    crashProbability: p.crashes && p.crashProbability === 0 ? 0.002 : p.crashProbability,
    crashUntilUs: p.crashUntilUs,
    ipcUs: p.ipcUs,
    recovery: { enabled: false, intervalUs: p.recoveryIntervalUs, afterUs: p.recoveryAfterUs },
    storeTimeoutUs: p.storeTimeoutUs,
  };
  const initial: [string, Json][] = [];
  for (const [t, k, v] of w.initial(wparams)) {
    initial.push([rowName(t, k, 'INIT'), v], [rowName(t, k, 'BASE'), v]);
  }
  const nodes: NodeSpec[] = [];
  const isGuest = (m: unknown) => typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('wf.');
  const guestFor = (i: number): RuntimeConfig => ({ ...rcfg, recovery: { ...rcfg.recovery, enabled: i < p.recoveryEngines } });
  let logParts: LogParts;
  if (p.log === 'boki') logParts = bokiLog(p, variant, engines, guestFor, isGuest, nodes);
  else logParts = referenceLog(p, variant, engines, guestFor, isGuest, nodes);
  nodes.push({
    id: 'store',
    role: 'store',
    machine: storeMachine,
    config: {
      getUs: p.storeGetUs,
      putUs: p.storePutUs,
      jitterUs: p.storeJitterUs,
      initial,
      staleReadUs: flags.staleReads ? Math.max(p.staleReadUs, 5000) : 0,
      floatVersions: flags.floatVersions,
      ...(p.storeDurable ? { durable: true } : {}),
    },
    faultable: false,
    wire: STORE_WIRE,
  });
  return finishHalfmoon(p, variant, mode, switching, reconcile, wparams, engines, nodes, logParts);
}

/** What the log backend contributes besides its nodes. */
interface LogParts {
  readonly invariants: Invariant[];
  /** A new, unprimed set of `invariants` (see `SystemInstance.freshInvariants`). */
  readonly freshInvariants: () => Invariant[];
  readonly checkers: Checker[];
  readonly audit: (run: FinishedRun) => AuditSlot[] | null;
  readonly faultGuard?: SystemInstance['faultGuard'];
  readonly resolveSelector?: SystemInstance['resolveSelector'];
}

/** The reference log: one node serving the API atomically, and a forwarding proxy per engine. */
function referenceLog(
  p: HalfmoonParams,
  variant: string | null,
  engines: readonly string[],
  guestFor: (i: number) => RuntimeConfig,
  isGuest: (m: unknown) => boolean,
  nodes: NodeSpec[],
): LogParts {
  nodes.push({
    id: 'log',
    role: 'reflog',
    machine: refLogMachine,
    config: { appendUs: p.appendUs, condAppendUs: p.condAppendUs, readUs: p.readUs, seqBase: BigInt(p.seqBase), gappedCondPosCrash: variant === 'gapped-condpos-crash' },
    faultable: false,
  });
  const fnNode = compose(refProxyMachine, runtimeMachine, { role: 'engine', isGuestMessage: isGuest });
  engines.forEach((id, i) => nodes.push({ id, role: 'engine', machine: fnNode, config: { host: { logNode: 'log' }, guest: guestFor(i) } }));
  return {
    invariants: [],
    freshInvariants: () => [],
    checkers: [],
    audit: (run) => {
      const st = run.view.state('log') as RefLogState | undefined;
      return st ? refLogAudit(st) : null;
    },
  };
}

/**
 * The full Boki cluster: coordination service, controller, sequencers, storage nodes, and engines
 * with the workflow runtime composed onto them. The log's own invariants, checkers, fault budget
 * and selectors judge the log underneath, through a view that shows them the engines' log state.
 */
function bokiLog(
  p: HalfmoonParams,
  variant: string | null,
  engines: readonly string[],
  guestFor: (i: number) => RuntimeConfig,
  isGuest: (m: unknown) => boolean,
  nodes: NodeSpec[],
): LogParts {
  const over = (p.logParams ?? {}) as Partial<BokiParams>;
  const bp: BokiParams = { ...BOKI_DEFAULTS, ...over, engines: engines.length, books: 1, probes: false };
  validateBokiParams(bp);
  const cluster = buildBokiCluster(nodeParams(bp), isBokiVariant(variant) ? variant : null);
  const fnNode = compose(engineMachine, runtimeMachine, { role: 'engine', isGuestMessage: isGuest });
  const composed = new Set(engines);
  for (const n of cluster.nodes) {
    if (n.role !== 'engine') {
      nodes.push(n);
      continue;
    }
    nodes.push({ ...n, machine: fnNode, config: { host: n.config, guest: guestFor(engines.indexOf(n.id)) }, wire: FUNCTION_NODE_WIRE });
  }
  // One host view per underlying view (the simulator passes itself on every call).
  const views = new WeakMap<WorldView, WorldView>();
  const host = (view: WorldView) => {
    let h = views.get(view);
    if (!h) views.set(view, (h = hostView(view, composed)));
    return h;
  };
  const hosted = (): Invariant[] =>
    cluster.invariants().map((inv) => ({
      name: inv.name,
      ...(inv.afterStep ? { afterStep: (view: WorldView, node: string) => inv.afterStep!(host(view), node) } : {}),
      ...(inv.onHistory ? { onHistory: (ev: HistoryEvent, view: WorldView) => inv.onHistory!(ev, host(view)) } : {}),
    }));
  return {
    invariants: hosted(),
    freshInvariants: hosted,
    checkers: cluster.checkers({ probes: false, books: 1 }).map((c) => ({ name: c.name, check: (run: FinishedRun) => c.check({ ...run, view: host(run.view) }) })),
    audit: (run) => bokiAudit(runAudit(host(run.view))),
    faultGuard: (f, view) => cluster.faultGuard(f, host(view)),
    resolveSelector: (sel, view) => cluster.resolveSelector(sel, host(view)),
  };
}

/** A view in which composed engine nodes show their log engine's state. */
function hostView(view: WorldView, composed: ReadonlySet<string>): WorldView {
  return {
    get nowUs() {
      return view.nowUs;
    },
    get eventIndex() {
      return view.eventIndex;
    },
    get history() {
      return view.history;
    },
    get lastFaultUs() {
      return view.lastFaultUs;
    },
    nodeIds: () => view.nodeIds(),
    role: (id) => view.role(id),
    isUp: (id) => view.isUp(id),
    state: (id) => {
      const st = view.state(id);
      return composed.has(id) && st !== undefined ? (st as Composed<unknown, unknown>).host : st;
    },
  };
}

/** The Boki audit as the exactly-once checker reads it: final payloads after overwrites. */
function bokiAudit(a: Audit): AuditSlot[] {
  const out: AuditSlot[] = [];
  for (const list of a.byBook.values()) {
    for (const sl of list) {
      if (sl.data === null) continue; // trimmed
      const ow = a.overwrites.get(sl.seq);
      const data = ow && ow.length > 0 ? (ow[ow.length - 1]!.data ?? sl.data) : sl.data;
      out.push({ seqnum: sl.seq, book: sl.book, tags: sl.tags, data, visible: sl.visible });
    }
  }
  return out;
}

function finishHalfmoon(
  p: HalfmoonParams,
  variant: string | null,
  mode: Mode,
  switching: boolean,
  reconcile: boolean,
  wparams: Record<string, Json>,
  engines: readonly string[],
  nodes: NodeSpec[],
  log: LogParts,
): SystemInstance {
  const audit = log.audit;
  nodes.push({
    id: 'driver',
    role: 'driver',
    machine: clientMachine,
    config: {
      engines,
      workload: p.workload,
      params: wparams,
      requests: p.requests,
      durationUs: p.durationUs,
      concurrency: p.concurrency,
      rps: p.rps,
      timeoutUs: p.timeoutUs,
      mode,
      ...(p.requestPrefix !== '' ? { requestPrefix: p.requestPrefix } : {}),
      switching: switching
        ? {
            adaptive:
              protocolByName(p.protocol)?.adaptive === true
                ? { rule: p.controllerRule as 'cost' | 'count', tCaUs: p.tCaUs, tRpUs: p.tRpUs, hysteresis: p.hysteresis, windowUs: p.windowUs, dwellUs: p.dwellUs }
                : null,
            switchEveryUs: p.switchEveryUs,
            recoveryEngines: engines.slice(0, Math.max(1, Math.min(p.recoveryEngines, p.engines))),
            reconcileParallelism: reconcile ? p.reconcileParallelism : 0,
            coordTimeoutUs: 500_000,
            drainRetryUs: 20_000,
            ...(variant === 'switch-drain-never-starts' ? { drainNeverStarts: true } : {}),
          }
        : null,
    },
    driver: true,
  });
  return {
    nodes,
    invariants: log.invariants,
    freshInvariants: log.freshInvariants,
    checkers: [
      exactlyOnceChecker({ mode, variant, audit, finalMode }),
      // Ablations (spec §7.4) are judged by exactly-once alone: counting properties are not used.
      ...(variant?.startsWith('ablate-') ? [] : [logAccountingChecker({ mode, exact: p.exactCounts, audit })]),
      livenessChecker(p.livenessBoundUs, 'liveness', lastFunctionCrash, isCoordinatorRequest),
      ...(switching ? [switchingLivenessChecker(p.livenessBoundUs, lastFunctionCrash)] : []),
      ...log.checkers,
    ],
    ...(log.faultGuard ? { faultGuard: log.faultGuard } : {}),
    ...(log.resolveSelector ? { resolveSelector: log.resolveSelector } : {}),
    done: quiescence(engines, Math.min(p.recoveryEngines, p.engines)),
    ...(p.crashes
      ? {
          randomFaults: {
            endUs: p.crashUntilUs,
            meanIntervalUs: 500_000,
            kinds: { crashRestart: 1 },
            roles: ['engine'],
            duration: { dist: 'uniform', minUs: 10_000, maxUs: 200_000 },
          },
        }
      : {}),
    report: (run) => ({ ...halfmoonReport(run, p.protocol, mode, audit, finalMode), ...(switching ? switchingReport(run) : {}) }),
  };
}

/** The mode whose read path shows the final state: the coordinator's, TRANS mid-switch. */
function finalMode(run: FinishedRun): Mode {
  const c = run.view.state('driver') as ClientState | undefined;
  if (!c) return 'HMW';
  return c.cfg.switching ? admit(c.coord) : c.cfg.mode;
}

/** Function crashes are faults too: liveness is judged after the last one. */
function lastFunctionCrash(history: readonly HistoryEvent[]): number {
  let t = -1;
  for (const h of history) {
    if (h.kind === 'record' && (h.event as { ev?: string; outcome?: string }).ev === 'execEnd' && (h.event as { outcome: string }).outcome === 'crashed') t = h.t;
  }
  return t;
}


/**
 * The run is over when every request was answered and nothing is left in flight: no execution
 * alive on any function node, and, when recovery drivers run, a clean recovery round (it scanned
 * the INTENT stream to its tail and found nothing new and nothing outstanding) that *started* after
 * the last execution began or ended and after the last fault. Such a round saw every async
 * invocation any execution ever logged, so none was abandoned unseen.
 *
 * A pure function of the world (node states and history): the explorer asks it of many branches.
 */
function quiescence(engines: readonly string[], recoveryEngines: number): (view: WorldView) => boolean {
  return (view) => {
    const client = view.state('driver') as ClientState | undefined;
    if (client === undefined || !clientDone(client, view.nowUs)) return false;
    for (const id of engines) {
      if (!view.isUp(id)) continue;
      if ((view.state(id) as Composed<unknown, RuntimeState>).guest.execs.size > 0) return false;
    }
    if (recoveryEngines === 0) return true;
    // Backwards through the history: a clean round's end, then its start, before any activity.
    const cleanEnded = new Set<string>();
    const h = view.history;
    for (let i = h.length - 1; i >= 0; i--) {
      const ev = h[i]!;
      if (ev.kind === 'fault') return false;
      if (ev.kind !== 'record') continue;
      const e = ev.event as { ev?: string; stage?: string; clean?: boolean };
      if (e.ev === 'execStart' || e.ev === 'execEnd') return false;
      if (e.ev !== 'recoveryRound') continue;
      if (e.stage === 'end' && e.clean) cleanEnded.add(ev.node);
      else if (e.stage === 'start' && cleanEnded.has(ev.node)) return true;
    }
    return false;
  };
}

export const halfmoonSystem: SystemDef<HalfmoonParams> = defineSystem<HalfmoonParams>({
  name: 'halfmoon',
  description: 'Halfmoon workflows (boki, hm-read, hm-write, transitional, unsafe) over the shared log and an external store',
  defaults: halfmoonDefaults,
  variants: HALFMOON_VARIANTS,
  validate(p) {
    if (!(p.protocol in PROTOCOLS)) throw new InputError(`params.protocol: unknown protocol '${p.protocol}' (known: ${Object.keys(PROTOCOLS).join(', ')})`);
    if (!workloadNames().includes(p.workload)) throw new InputError(`params.workload: unknown workload '${p.workload}' (known: ${workloadNames().join(', ')})`);
    const int = (k: keyof HalfmoonParams, lo: number, hi: number) => {
      const v = p[k] as number;
      if (!Number.isInteger(v) || v < lo || v > hi) throw new InputError(`params.${k}: must be an integer in [${lo}, ${hi}], got ${v}`);
    };
    int('engines', 1, 64);
    int('requests', 0, 10_000_000);
    int('concurrency', 0, 100_000);
    int('opsPerRequest', 0, 1000);
    int('warmupRequests', 0, 10_000_000);
    int('keys', 1, 10_000_000);
    int('valueBytes', 1, 2000);
    int('timeoutUs', 1, 3_600_000_000);
    int('ipcUs', 0, 1_000_000);
    if (!(p.readRatio >= 0 && p.readRatio <= 1)) throw new InputError(`params.readRatio: must be in [0, 1], got ${p.readRatio}`);
    if (!(p.crashProbability >= 0 && p.crashProbability <= 1)) throw new InputError(`params.crashProbability: must be in [0, 1], got ${p.crashProbability}`);
    if (p.rps < 0) throw new InputError('params.rps: must be >= 0');
    if (p.controllerRule !== 'cost' && p.controllerRule !== 'count') throw new InputError(`params.controllerRule: 'cost' or 'count', got '${p.controllerRule}'`);
    if (p.switchEveryUs > 0 && p.protocol !== 'hm-read' && p.protocol !== 'hm-write') throw new InputError(`params.switchEveryUs: fixed-timer switching starts from hm-read or hm-write, not '${p.protocol}'`);
    if (p.logParams !== null && (typeof p.logParams !== 'object' || Array.isArray(p.logParams))) throw new InputError('params.logParams: an object of Boki parameters, or null');
    if (p.logParams !== null) {
      for (const k of Object.keys(p.logParams)) if (!(k in BOKI_DEFAULTS)) throw new InputError(`params.logParams.${k}: ${unknownKeyMessage(k, Object.keys(BOKI_DEFAULTS), 'Boki parameter')}`);
    }
    if (!/^\d{1,19}$/.test(p.seqBase) || BigInt(p.seqBase) > 0x7fff_0000_0000_0000n) throw new InputError(`params.seqBase: a decimal integer below 2^63, got '${p.seqBase}'`);
    if (p.rps === 0 && p.concurrency === 0 && p.requests > 0) throw new InputError('params: set concurrency (closed loop) or rps (open loop)');
    if (!/^[A-Za-z0-9_.-]{0,32}$/.test(p.requestPrefix)) throw new InputError(`params.requestPrefix: letters, digits, _ . - (at most 32), got '${p.requestPrefix}'`);
  },
  build: buildHalfmoon,
});
