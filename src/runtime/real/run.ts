/**
 * `halfmoon cluster run`: drives a scenario's workload against a running cluster and judges it
 * with the system's own checkers, as `halfmoon run` judges a simulated run.
 *
 * The scenario's workload driver (the same machine the simulator runs, e.g. Halfmoon's
 * `clientMachine`) runs in this process in a `MachineHost` whose clock starts at the run's start,
 * talking to the cluster's nodes over the transport. The scenario's scripted faults are carried
 * out for real at their times: `crash` is SIGKILL, `restart` starts the node again on its disk,
 * `crashRestart` both, `pause` is SIGSTOP then SIGCONT; symbolic targets (`primary-sequencer`)
 * are resolved, and crashes checked against the system's fault budget, on the nodes' current
 * states. Other fault kinds need the simulator's network model and are refused up front.
 *
 * The run is over when the system's `done` holds on a view of the live nodes' states (asked for
 * over the transport only when `done` reads them) or at the scenario's wall-clock limit. Then
 * every node's final state is collected, the histories of every process are merged (nodes, this
 * and earlier runs' drivers, the fault log), and the system's invariants and checkers judge the
 * whole: the cluster's state is the sum of every run it served, so the checkers see all of it.
 * Each run's request ids carry their own prefix (`requestPrefix`, when the system has one), and
 * the protocol may not change between runs on one cluster (switching needs the switching
 * machinery, which a fresh `protocol` parameter does not run).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/assert.ts';
import type { NodeId } from '../../core/contract.ts';
import { stringifyWire } from '../../core/json.ts';
import type { FaultRecord, FinishedRun, HistoryEvent, SystemInstance, Violation, WorldView } from '../../core/system.ts';
import { buildInstance, resolveParams } from '../../scenario/instance.ts';
import { SYSTEMS } from '../../systems/index.ts';
import { applyOverrides, loadScenario, type Scenario, type ScriptedFault } from '../../scenario/scenario.ts';
import { RealClient } from './client.ts';
import { wallUs } from './clock.ts';
import type { ClusterPlan } from './cluster-config.ts';
import { historyFile, killNode, pauseNode, restartNode, resumeNode } from './cluster.ts';
import { JsonlHistory, MemoryHistory, readHistories, TeeHistory } from './history.ts';
import { MachineHost } from './host.ts';

export interface ClusterRunOptions {
  readonly plan: ClusterPlan;
  /** A scenario name or file. */
  readonly scenario: string;
  readonly sets?: readonly (readonly [string, unknown])[];
  /** Recorded in the report (scripted faults need no randomness). */
  readonly seed?: number;
  readonly log?: (line: string) => void;
  /** Wall-clock limit of the run (default: the scenario's limits.wallMs). */
  readonly wallMs?: number;
  /** How often `done` is polled (default 250 ms). */
  readonly pollMs?: number;
}

export interface ClusterRunResult {
  /** The fields of `halfmoon run --json`, then the system's report. */
  readonly json: Record<string, unknown>;
  readonly violations: readonly Violation[];
  readonly history: readonly HistoryEvent[];
}

const SUPPORTED_FAULTS = new Set(['crash', 'restart', 'crashRestart', 'pause']);

interface RunIndex {
  runs: { n: number; scenario: string; protocol: string | null; requestPrefix: string | null; startUs: number; endUs: number | null }[];
}

const runsDir = (plan: ClusterPlan) => join(plan.stateDir, 'runs');
const indexFile = (plan: ClusterPlan) => join(runsDir(plan), 'index.json');

function readIndex(plan: ClusterPlan): RunIndex {
  if (!existsSync(indexFile(plan))) return { runs: [] };
  return JSON.parse(readFileSync(indexFile(plan), 'utf8')) as RunIndex;
}

function writeIndex(plan: ClusterPlan, idx: RunIndex): void {
  mkdirSync(runsDir(plan), { recursive: true });
  writeFileSync(indexFile(plan), JSON.stringify(idx, null, 2) + '\n');
}

/** Every driver history of every run on this cluster. */
function driverHistories(plan: ClusterPlan): string[] {
  if (!existsSync(runsDir(plan))) return [];
  const out: string[] = [];
  for (const d of readdirSync(runsDir(plan)).sort()) {
    const dir = join(runsDir(plan), d);
    if (!/^\d+$/.test(d)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.jsonl')) out.push(join(dir, f));
  }
  return out;
}

/**
 * The scenario as this cluster runs it. The scenario's parameters and --set apply, except where
 * they would configure the cluster's nodes differently from how they run: those the cluster's
 * values replace (its store's keys, its engines, its log), so any scenario of the system can
 * drive any cluster of it, with its own workload. A --set that would change a node is refused.
 */
export function runScenario(plan: ClusterPlan, scenario: string, sets: readonly (readonly [string, unknown])[], extra: Record<string, unknown>): { scenario: Scenario; adopted: string[] } {
  const s0 = loadScenario(scenario);
  if (s0.system !== plan.config.system) throw new InputError(`--scenario: ${s0.name} runs system '${s0.system}', this cluster runs '${plan.config.system}'`);
  const variant = s0.variant ?? plan.config.variant;
  if (variant !== plan.config.variant) throw new InputError(`--scenario: ${s0.name} runs variant '${variant}', this cluster runs '${plan.config.variant ?? 'none'}'`);
  const s1 = applyOverrides({ ...s0, variant }, [...sets, ...Object.entries(extra)], s0.name);
  const mine = resolveParams(s1);
  const theirs = resolveParams(plan.scenario);
  const setKeys = new Set([...sets.map(([k]) => k), ...Object.keys(extra)]);
  const differ = Object.keys(mine).filter((k) => !setKeys.has(k) && stringifyWire(mine[k]) !== stringifyWire(theirs[k]));
  const withParams = (adopt: readonly string[]): Scenario => {
    const params: Record<string, unknown> = { ...mine };
    for (const k of adopt) params[k] = theirs[k];
    return { ...s1, params };
  };
  // Start from the cluster's value for every differing parameter, then give back to the scenario
  // each one that configures only its drivers.
  let adopted = differ;
  for (const k of differ) {
    const trial = adopted.filter((x) => x !== k);
    if (sameNodes(plan, buildInstance(withParams(trial)))) adopted = trial;
  }
  return { scenario: withParams(adopted), adopted };
}

function sameNodes(plan: ClusterPlan, inst: SystemInstance): boolean {
  const mine = new Map(inst.nodes.map((n) => [n.id, n]));
  for (const n of plan.instance.nodes) {
    if (n.driver) continue;
    const m = mine.get(n.id);
    if (!m || m.role !== n.role || stringifyWire(m.config) !== stringifyWire(n.config)) return false;
  }
  return inst.nodes.every((n) => n.driver || plan.instance.nodes.some((x) => x.id === n.id));
}

/** Refuses a run whose nodes would differ from the cluster's: it would judge another system. */
function checkSameNodes(plan: ClusterPlan, s: Scenario, inst: SystemInstance): void {
  const mine = new Map(inst.nodes.map((n) => [n.id, n]));
  for (const n of plan.instance.nodes) {
    if (n.driver) continue;
    const m = mine.get(n.id);
    if (m && m.role === n.role && stringifyWire(m.config) === stringifyWire(n.config)) continue;
    const a = resolveParams(plan.scenario);
    const b = resolveParams(s);
    const keys = Object.keys(b).filter((k) => k !== 'requestPrefix' && stringifyWire(a[k]) !== stringifyWire(b[k]));
    throw new InputError(
      `--scenario: ${s.name} configures node ${n.id} differently from the running cluster` +
        (keys.length ? ` (it sets ${keys.map((k) => `${k}=${stringifyWire(b[k])}`).join(', ')}; the cluster has ${keys.map((k) => `${k}=${stringifyWire(a[k])}`).join(', ')})` : '') +
        '; override them with --set, or start the cluster from this scenario',
    );
  }
  for (const n of inst.nodes) if (!n.driver && !plan.instance.nodes.some((x) => x.id === n.id)) throw new InputError(`--scenario: ${s.name} has node ${n.id}, which the running cluster lacks`);
}

class NeedState extends Error {
  constructor(readonly node: NodeId) {
    super(`state of ${node} needed`);
  }
}

/**
 * A view of the cluster for `done`, fault targets and the fault budget: local drivers' states at
 * once, other nodes' states fetched over the transport only when asked for (evaluation restarts
 * after each fetch, so a poll costs nothing until the system's predicate reads remote states).
 */
class RemoteView implements WorldView {
  readonly states = new Map<NodeId, unknown>();
  readonly down = new Set<NodeId>();
  lastFaultUs = -1;
  /** The merged history as last read, or null until something reads it (see `history`). */
  private merged: HistoryEvent[] | null = null;
  constructor(
    private readonly inst: SystemInstance,
    private readonly local: ReadonlyMap<NodeId, MachineHost>,
    private readonly client: RealClient,
    private readonly startUs: number,
    private readonly coordination: NodeId | null,
    /** Reads every process's history file, merged (the nodes write theirs as they go). */
    private readonly readHistory: () => HistoryEvent[],
  ) {}
  /**
   * A `done` predicate may read the history (Halfmoon's quiescence: a clean recovery round after
   * the last activity), so the view reads the files the first time an evaluation asks, and only
   * then: polls whose predicate stops at the cheap checks read nothing.
   */
  get history(): HistoryEvent[] {
    if (this.merged === null) this.merged = this.readHistory();
    return this.merged;
  }
  set history(h: HistoryEvent[]) {
    this.merged = h;
  }
  get nowUs(): number {
    return wallUs() - this.startUs;
  }
  get eventIndex(): number {
    return this.history.length;
  }
  nodeIds(): readonly NodeId[] {
    return this.inst.nodes.map((n) => n.id);
  }
  role(id: NodeId): string {
    return this.inst.nodes.find((n) => n.id === id)?.role ?? '';
  }
  isUp(id: NodeId): boolean {
    if (this.local.has(id)) return this.local.get(id)!.running;
    return id !== this.coordination && !this.down.has(id);
  }
  state(id: NodeId): unknown {
    const h = this.local.get(id);
    if (h) return h.state;
    if (this.states.has(id)) return this.states.get(id);
    if (!this.isUp(id)) return undefined;
    throw new NeedState(id);
  }
  /** Forgets fetched states (the next evaluation sees fresh ones). */
  reset(): void {
    this.states.clear();
    this.down.clear();
    this.merged = null;
  }
  async fetch(id: NodeId): Promise<void> {
    try {
      this.states.set(id, await this.client.state(id, 10_000));
    } catch {
      this.down.add(id);
    }
  }
  /** Runs `f` on fresh states, fetching what it reads. */
  async eval<T>(f: (v: WorldView) => T): Promise<T> {
    this.reset();
    for (let i = 0; i <= this.inst.nodes.length; i++) {
      try {
        return f(this);
      } catch (e) {
        if (!(e instanceof NeedState)) throw e;
        await this.fetch(e.node);
      }
    }
    throw new Error('state fetches did not converge');
  }
  async fetchAll(): Promise<void> {
    this.reset();
    await Promise.all(this.inst.nodes.filter((n) => !this.local.has(n.id) && n.id !== this.coordination).map((n) => this.fetch(n.id)));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

export function historyHash(history: readonly HistoryEvent[]): string {
  const h = createHash('sha256');
  for (const ev of history) h.update(stringifyWire(ev)).update('\n');
  return h.digest('hex').slice(0, 16);
}

export async function clusterRun(o: ClusterRunOptions): Promise<ClusterRunResult> {
  const plan = o.plan;
  const log = o.log ?? (() => undefined);
  const idx = readIndex(plan);
  const n = idx.runs.length + 1;
  const extra: Record<string, unknown> = {};
  if ('requestPrefix' in (SYSTEMS[plan.config.system]?.defaults ?? {})) extra.requestPrefix = `r${n}-`;
  const { scenario: s, adopted } = runScenario(plan, o.scenario, o.sets ?? [], extra);
  if (adopted.length > 0) log(`run ${n}: the cluster's ${adopted.map((k) => `${k}=${stringifyWire(resolveParams(s)[k])}`).join(', ')} replace the scenario's (they configure its nodes)`);
  const params = resolveParams(s);
  const protocol = typeof params.protocol === 'string' ? params.protocol : null;
  const earlier = idx.runs.find((r) => r.protocol !== protocol);
  if (earlier) throw new InputError(`--protocol: this cluster's data was written under ${earlier.protocol} (run ${earlier.n}); a run under ${protocol} would need the switching machinery. Start a fresh cluster (cluster down, remove ${plan.stateDir}) for another protocol`);
  for (const f of s.faults.scripted) if (!SUPPORTED_FAULTS.has(f.kind)) throw new InputError(`--scenario: ${s.name}: fault kind '${f.kind}' needs the simulator's network model; cluster run carries out ${[...SUPPORTED_FAULTS].join(', ')}`);
  if (s.faults.random !== null) throw new InputError(`--scenario: ${s.name}: random faults are the simulator's; give cluster run a scripted schedule`);
  const inst = buildInstance(s);
  checkSameNodes(plan, s, inst);
  const drivers = inst.nodes.filter((x) => x.driver);
  if (drivers.length === 0) throw new InputError(`--scenario: ${s.name}: system ${s.system} has no workload driver`);
  if (plan.config.driversOnUp) throw new InputError('this cluster starts its drivers on `up` (driversOnUp: true); set driversOnUp: false to drive it with cluster run');

  const dir = join(runsDir(plan), String(n));
  mkdirSync(dir, { recursive: true });
  const startUs = wallUs();
  const t0 = performance.now();
  idx.runs.push({ n, scenario: s.name, protocol, requestPrefix: (extra.requestPrefix as string | undefined) ?? null, startUs, endUs: null });
  writeIndex(plan, idx);
  log(`run ${n}: scenario ${s.name}${protocol ? ` (${protocol})` : ''} against cluster ${plan.cluster}`);

  const memory = new MemoryHistory();
  const hosts = new Map<NodeId, MachineHost>();
  const files: JsonlHistory[] = [];
  const client = new RealClient({ cluster: plan.cluster, id: `halfmoon-run-${process.pid}`, addressOf: (id) => plan.addresses.get(id) ?? null, limits: plan.config.limits, acceptStates: true, auth: plan.auth });
  const allHistories = () => readHistories([...plan.instance.nodes.map((x) => historyFile(plan, x.id)).filter((f) => existsSync(f)), ...faultFiles(plan), ...driverHistories(plan)]);
  const view = new RemoteView(inst, hosts, client, startUs, plan.coordination, allHistories);
  const faultCounts: Record<string, number> = {};
  let stopFaults = false;
  let truncated = false;
  try {
    for (const d of drivers) {
      const file = new JsonlHistory(join(dir, `${d.id}.jsonl`));
      files.push(file);
      const h = new MachineHost({
        cluster: plan.cluster,
        spec: d,
        nodes: inst.nodes,
        dataDir: null,
        listen: null,
        addressOf: (id) => plan.addresses.get(id) ?? null,
        history: new TeeHistory([memory, file]),
        limits: plan.config.limits,
        log,
        clockOriginUs: startUs,
      });
      hosts.set(d.id, h);
    }
    for (const h of hosts.values()) await h.start();
    const faults = runFaults(plan, inst, view, s.faults.scripted, startUs, () => stopFaults, faultCounts, log);
    const wallMs = o.wallMs ?? s.limits.wallMs;
    const deadline = performance.now() + wallMs;
    for (;;) {
      const halted = [...hosts.values()].find((h) => h.status().phase === 'halted');
      if (halted) break;
      if (inst.done && (await view.eval((v) => inst.done!(v)))) break;
      if (performance.now() > deadline) {
        truncated = true;
        log(`run ${n}: not done within ${wallMs} ms`);
        break;
      }
      await sleep(o.pollMs ?? 250);
    }
    stopFaults = true;
    await faults;
  } finally {
    stopFaults = true;
    for (const h of hosts.values()) await h.stop(500);
    for (const f of files) await f.close();
  }

  // Judge: every node's final state, every process's history.
  await view.fetchAll();
  const history = allHistories();
  view.history = history;
  view.lastFaultUs = history.reduce((m, e) => (e.kind === 'fault' ? Math.max(m, e.t) : m), -1);
  const endUs = wallUs();
  const run: FinishedRun = { history, view, endUs, lastFaultUs: view.lastFaultUs, truncated, quiescent: false };
  const violations: Violation[] = [];
  for (const ev of history) if (ev.kind === 'fatal') violations.push({ invariant: 'fatal', message: `${ev.node} reached a fatal state: ${ev.reason}`, node: ev.node, timeUs: ev.t });
  for (const id of view.nodeIds()) {
    if (!view.isUp(id) || id === plan.coordination) continue;
    for (const inv of inst.invariants) {
      const m = inv.afterStep?.(view, id) ?? null;
      if (m !== null) violations.push({ invariant: inv.name, message: m, node: id });
    }
  }
  for (const st of await nodeViolations(plan, client)) violations.push(st);
  for (const c of inst.checkers) violations.push(...c.check(run));
  client.close();
  const report = inst.report ? inst.report(run) : {};
  idx.runs[idx.runs.length - 1]!.endUs = endUs;
  writeIndex(plan, idx);
  const sets = (o.sets ?? []).map(([k, v]) => `--set ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  const json: Record<string, unknown> = {
    scenario: s.name,
    system: s.system,
    variant: s.variant,
    seed: o.seed ?? 1,
    outcome: truncated ? 'wall-limit' : 'done',
    events: history.length,
    simulatedTimeUs: endUs - startUs,
    wallMs: Math.round(performance.now() - t0),
    traceHash: historyHash(history),
    violations,
    faults: faultCounts,
    decisions: 0,
    replay: `halfmoon cluster run --scenario ${s.name}${sets ? ` ${sets}` : ''} (real runs do not replay; the merged history is in ${plan.stateDir})`,
    run: n,
    ...(extra.requestPrefix ? { requestPrefix: extra.requestPrefix } : {}),
    ...report,
  };
  return { json, violations, history };
}

function faultFiles(plan: ClusterPlan): string[] {
  const f = join(plan.stateDir, 'faults.jsonl');
  return existsSync(f) ? [f] : [];
}

/** Invariant violations the nodes' own hosts detected after their steps (counted in status). */
async function nodeViolations(plan: ClusterPlan, client: RealClient): Promise<Violation[]> {
  const out: Violation[] = [];
  await Promise.all(
    plan.processes.map(async (id) => {
      try {
        const st = await client.status(id, 2000);
        if (st.violations > 0) out.push({ invariant: 'node-invariant', message: `${id} detected ${st.violations} invariant violation(s) after its own steps; see its node.log`, node: id });
      } catch {
        // down: nothing to ask
      }
    }),
  );
  return out;
}

/** Carries out the scripted faults at their times (relative to the run's start), in order. */
async function runFaults(
  plan: ClusterPlan,
  inst: SystemInstance,
  view: RemoteView,
  faults: readonly ScriptedFault[],
  startUs: number,
  stop: () => boolean,
  counts: Record<string, number>,
  log: (s: string) => void,
): Promise<void> {
  const pending: Promise<void>[] = [];
  const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const sorted = [...faults].sort((a, b) => a.atUs - b.atUs);
  for (const f of sorted) {
    while (!stop() && wallUs() - startUs < f.atUs) await sleep(Math.min(50, (f.atUs - (wallUs() - startUs)) / 1000));
    if (stop()) break;
    const sel = (f as { node?: string }).node!;
    const node = inst.nodes.some((x) => x.id === sel) ? sel : await view.eval((v) => inst.resolveSelector?.(sel, v) ?? null);
    if (node === null) {
      log(`fault ${f.kind} at ${f.atUs} us: selector '${sel}' names no node now; skipped`);
      count('skipped');
      continue;
    }
    if (f.kind === 'crash' || f.kind === 'crashRestart') {
      const rec: FaultRecord = { kind: 'crash', nodes: [node] };
      const why = inst.faultGuard ? await view.eval((v) => inst.faultGuard!(rec, v)) : null;
      if (why !== null) {
        log(`fault ${f.kind} of ${node} refused by the fault budget: ${why}`);
        count('refused');
        continue;
      }
    }
    log(`fault ${f.kind} of ${node} at ${Math.round((wallUs() - startUs) / 1000)} ms`);
    switch (f.kind) {
      case 'crash':
        await killNode(plan, node);
        count('crash');
        break;
      case 'restart':
        await restartNode(plan, node);
        count('restart');
        break;
      case 'crashRestart':
        await killNode(plan, node);
        count('crash');
        // The restart runs on its own so later faults keep their times.
        pending.push(
          sleep(f.downUs / 1000).then(async () => {
            await restartNode(plan, node);
            count('restart');
          }),
        );
        break;
      case 'pause':
        await pauseNode(plan, node);
        count('pause');
        pending.push(
          sleep(f.durationUs / 1000).then(async () => {
            await resumeNode(plan, node);
            count('resume');
          }),
        );
        break;
      default:
        throw new InputError(`fault kind ${f.kind} is not supported by cluster run`);
    }
  }
  await Promise.all(pending);
}
