/**
 * Cluster process management for `halfmoon cluster up|down|status|kill|restart|check`: one OS
 * process per node, started detached (it outlives the command), with its pid file, log, store and
 * history under `<stateDir>/nodes/<id>/`. Generic over systems: nodes come from the system's
 * instance, health from the node's status over the same transport as everything else.
 *
 * Safety. `down`, `kill` and `restart` only signal a pid whose command line is this cluster's
 * node process for that node (read from /proc), so a stale pid file can never make us kill an
 * unrelated process that reused the number.
 */
import { spawn } from 'node:child_process';
import { loadedPlugins } from '../../scenario/plugins.ts';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../core/assert.ts';
import type { NodeId } from '../../core/contract.ts';
import type { FinishedRun, HistoryEvent, Violation, WorldView } from '../../core/system.ts';
import { stringifyWire } from '../../core/json.ts';
import { RealClient } from './client.ts';
import { wallUs } from './clock.ts';
import { type ClusterPlan, parseAddr } from './cluster-config.ts';
import { fourLetter, startLocalZooKeeper, stopPid, zkUnavailable } from './zk/server.ts';
import { ZkClient } from './zk/client.ts';
import { sequenceOf, ZK_SETUP_PATHS, ZK_VIEWS } from '../../boki/coord-api.ts';
import { readHistories } from './history.ts';
import { pidAlive } from './store.ts';
import { clientResults, type RealRunResult } from './local.ts';
import type { NodeStatus } from './wire.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const NODE_MAIN = join(here, 'node-main.ts');
const REPO_ROOT = resolve(here, '..', '..', '..');

export interface NodeInfo {
  readonly id: NodeId;
  readonly role: string;
  readonly driver: boolean;
  readonly address: string | null;
  readonly pid: number | null;
  readonly alive: boolean;
  /** The node's own answer over the transport, or why there was none. */
  readonly status: NodeStatus | { readonly error: string };
}

export function nodeDir(plan: ClusterPlan, id: NodeId): string {
  return join(plan.stateDir, 'nodes', id);
}
const pidFile = (plan: ClusterPlan, id: NodeId) => join(nodeDir(plan, id), 'pid');
export const logFile = (plan: ClusterPlan, id: NodeId) => join(nodeDir(plan, id), 'node.log');
export const historyFile = (plan: ClusterPlan, id: NodeId) => join(nodeDir(plan, id), 'history.jsonl');
const planFile = (plan: ClusterPlan) => join(plan.stateDir, 'cluster.json');

function readPid(plan: ClusterPlan, id: NodeId): number | null {
  try {
    const n = Number(readFileSync(pidFile(plan, id), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Is `pid` alive and this cluster's process for node `id`? */
export function isOurs(plan: ClusterPlan, id: NodeId, pid: number): boolean {
  if (!pidAlive(pid)) return false;
  const cmdlinePath = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true; // no procfs: trust the pid file
  let argv: string[];
  try {
    argv = readFileSync(cmdlinePath, 'utf8').split('\0');
  } catch {
    return false;
  }
  return argv.includes(NODE_MAIN) && argv.includes(planFile(plan)) && argv[argv.length - 2] === id;
}

function selected(plan: ClusterPlan, only: readonly NodeId[] | null): NodeId[] {
  const ids = plan.instance.nodes.map((n) => n.id).filter((id) => id !== plan.coordination);
  if (only === null) return ids;
  for (const id of only) {
    if (id === plan.coordination) throw new InputError(`node '${id}' is served by ZooKeeper, not by a process of this cluster`);
    if (!ids.includes(id)) throw new InputError(`--nodes: no node '${id}' (nodes: ${ids.join(', ')})`);
  }
  return ids.filter((id) => only.includes(id));
}

function client(plan: ClusterPlan, id = `halfmoon-cli-${process.pid}`): RealClient {
  return new RealClient({ cluster: plan.cluster, id, addressOf: (n) => plan.addresses.get(n) ?? null, limits: plan.config.limits, auth: plan.auth });
}

/** Writes the resolved config the node processes read (absolute paths, so cwd does not matter). */
function writePlan(plan: ClusterPlan): void {
  mkdirSync(plan.stateDir, { recursive: true });
  const { zookeeper, ...rest } = plan.config;
  const config = { ...rest, ...(zookeeper ? { zookeeper } : {}), stateDir: plan.stateDir };
  // The plugins this process loaded (--plugin, the config's and its scenario's): every node process loads them too.
  writeFileSync(planFile(plan), JSON.stringify({ source: plan.source, baseDir: plan.stateDir, config, plugins: loadedPlugins() }, null, 2) + '\n');
}

function spawnNode(plan: ClusterPlan, id: NodeId): number {
  const dir = nodeDir(plan, id);
  mkdirSync(dir, { recursive: true });
  const out = openSync(logFile(plan, id), 'a');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', NODE_MAIN, planFile(plan), id], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', out, out],
      env: process.env,
    });
    if (child.pid === undefined) throw new Error(`could not start node ${id}`);
    child.unref();
    writeFileSync(pidFile(plan, id), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls the node's status until it runs; throws (naming the log) when it dies or times out. */
async function awaitRunning(plan: ClusterPlan, id: NodeId, pid: number, c: RealClient): Promise<NodeStatus> {
  const deadline = performance.now() + plan.config.startTimeoutMs;
  const spec = plan.instance.nodes.find((n) => n.id === id)!;
  for (;;) {
    if (!isOurs(plan, id, pid)) {
      throw new InputError(`node ${id} exited during start-up; see ${logFile(plan, id)}: ${tail(logFile(plan, id))}`);
    }
    if (spec.driver) return driverPseudoStatus(spec.id, spec.role, pid);
    try {
      const s = await c.status(id, 500);
      if (s.phase === 'running' && s.pid === pid) return s;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new InputError(`node ${id} did not come up within ${plan.config.startTimeoutMs} ms; see ${logFile(plan, id)}`);
    await sleep(50);
  }
}

/** Drivers do not listen; their health is their process. */
function driverPseudoStatus(node: NodeId, role: string, pid: number): NodeStatus {
  return { node, role, pid, phase: 'running', booted: null, steps: 0, uptimeMs: 0, fatal: null, workloadDone: null, violations: 0, uv: '', ioUring: null, counters: {} };
}

function tail(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return lines.slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}

export interface UpResult {
  readonly started: NodeId[];
  readonly alreadyRunning: NodeId[];
}

/** Starts every selected node that is not running: system nodes first (and waits for them), then drivers. */
export async function clusterUp(plan: ClusterPlan, only: readonly NodeId[] | null = null, log: (s: string) => void = () => undefined): Promise<UpResult> {
  writePlan(plan);
  await zooKeeperUp(plan, log);
  await zooKeeperSetup(plan);
  const ids = selected(plan, only).filter((id) => plan.processes.includes(id));
  const started: NodeId[] = [];
  const already: NodeId[] = [];
  const c = client(plan);
  try {
    const drivers = new Set(plan.instance.nodes.filter((n) => n.driver).map((n) => n.id));
    for (const phase of [false, true]) {
      const wave: [NodeId, number][] = [];
      for (const id of ids) {
        if (drivers.has(id) !== phase) continue;
        const old = readPid(plan, id);
        if (old !== null && isOurs(plan, id, old)) {
          already.push(id);
          continue;
        }
        const pid = spawnNode(plan, id);
        log(`started ${id} (pid ${pid})`);
        wave.push([id, pid]);
        started.push(id);
      }
      for (const [id, pid] of wave) await awaitRunning(plan, id, pid, c);
    }
  } finally {
    c.close();
  }
  return { started, alreadyRunning: already };
}

export async function clusterStatus(plan: ClusterPlan, timeoutMs = 1000): Promise<NodeInfo[]> {
  const c = client(plan);
  try {
    return await Promise.all(
      plan.instance.nodes.filter((n) => n.id !== plan.coordination).map(async (n): Promise<NodeInfo> => {
        const pid = readPid(plan, n.id);
        const alive = pid !== null && isOurs(plan, n.id, pid);
        const a = plan.addresses.get(n.id);
        let status: NodeInfo['status'];
        if (n.driver) status = alive ? driverPseudoStatus(n.id, n.role, pid!) : { error: plan.config.driversOnUp ? 'not running' : 'runs inside `cluster run`' };
        else {
          try {
            status = await c.status(n.id, timeoutMs);
          } catch (e) {
            status = { error: (e as Error).message };
          }
        }
        return { id: n.id, role: n.role, driver: n.driver ?? false, address: a ? `${a.host}:${a.port}` : null, pid, alive, status };
      }),
    );
  } finally {
    c.close();
  }
}

export const doneFile = (plan: ClusterPlan, id: NodeId) => join(nodeDir(plan, id), 'workload-done');

/** Has every driver finished its workload? (Drivers do not listen; each leaves a marker file.) */
export function workloadDone(plan: ClusterPlan): boolean {
  return plan.instance.nodes.filter((n) => n.driver).every((n) => existsSync(doneFile(plan, n.id)));
}

async function waitGone(plan: ClusterPlan, id: NodeId, pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (!isOurs(plan, id, pid)) return true;
    await sleep(20);
  }
  return !isOurs(plan, id, pid);
}

/** SIGKILL one node (a crash): no shutdown code runs, unsynced writes are at the kernel's mercy. */
export async function killNode(plan: ClusterPlan, id: NodeId): Promise<void> {
  selected(plan, [id]);
  const pid = readPid(plan, id);
  if (pid === null || !isOurs(plan, id, pid)) throw new InputError(`node ${id} is not running`);
  process.kill(pid, 'SIGKILL');
  if (!(await waitGone(plan, id, pid, 10_000))) throw new Error(`node ${id} (pid ${pid}) survived SIGKILL for 10 s`);
  rmSync(pidFile(plan, id), { force: true });
  recordFault(plan, { kind: 'fault', t: wallUs(), fault: { kind: 'crash', nodes: [id], detail: { signal: 'SIGKILL' } } });
}

/** SIGSTOP one node (a pause: its sockets stay open, nothing runs, its ZooKeeper session lapses). */
export async function pauseNode(plan: ClusterPlan, id: NodeId): Promise<void> {
  selected(plan, [id]);
  const pid = readPid(plan, id);
  if (pid === null || !isOurs(plan, id, pid)) throw new InputError(`node ${id} is not running`);
  process.kill(pid, 'SIGSTOP');
  recordFault(plan, { kind: 'fault', t: wallUs(), fault: { kind: 'pause', nodes: [id], detail: { signal: 'SIGSTOP' } } });
}

/** SIGCONT a paused node. */
export async function resumeNode(plan: ClusterPlan, id: NodeId): Promise<void> {
  selected(plan, [id]);
  const pid = readPid(plan, id);
  if (pid === null || !isOurs(plan, id, pid)) throw new InputError(`node ${id} is not running`);
  process.kill(pid, 'SIGCONT');
  recordFault(plan, { kind: 'fault', t: wallUs(), fault: { kind: 'resume', nodes: [id] } });
}

/** Starts a stopped or killed node again on its store (it recovers and feeds `restart`). */
export async function restartNode(plan: ClusterPlan, id: NodeId): Promise<NodeStatus> {
  selected(plan, [id]);
  const old = readPid(plan, id);
  if (old !== null && isOurs(plan, id, old)) throw new InputError(`node ${id} is still running (pid ${old}); kill it first`);
  writePlan(plan);
  recordFault(plan, { kind: 'fault', t: wallUs(), fault: { kind: 'restart', nodes: [id] } });
  const pid = spawnNode(plan, id);
  const c = client(plan);
  try {
    return await awaitRunning(plan, id, pid, c);
  } finally {
    c.close();
  }
}

/** Stops every node this cluster started: SIGTERM, then SIGKILL after `graceMs`. */
// ---------------------------------------------------------------------------------------------
// ZooKeeper: a local standalone server when the config asks for one (mode: local)

const zkDir = (plan: ClusterPlan) => join(plan.stateDir, 'zookeeper');

/** The ZooKeeper connect string nodes use, or null when the config names no ZooKeeper. */
export function zooKeeperConnect(plan: ClusterPlan): string | null {
  const z = plan.config.zookeeper;
  if (!z || z.mode === 'none') return null;
  return z.mode === 'external' ? z.connect : `${z.host}:${z.clientPort}`;
}

/**
 * Creates the persistent paths the coordination protocol expects before nodes boot (the Boki
 * artifact's zk_setup.sh): idempotent, so every `cluster up` of a multi-host cluster may run it.
 */
async function zooKeeperSetup(plan: ClusterPlan): Promise<void> {
  const connect = zooKeeperConnect(plan);
  if (plan.coordination === null || connect === null) return;
  const zk = await ZkClient.connect(connect, { connectTimeoutMs: plan.config.startTimeoutMs });
  try {
    for (const p of ZK_SETUP_PATHS) await zk.mkdirp(p);
  } finally {
    await zk.close();
  }
}

/** The newest view in ZooKeeper's view log (/boki/view): its id and members, or null. */
export async function coordinationView(plan: ClusterPlan, timeoutMs = 2000): Promise<Record<string, unknown> | null> {
  const connect = zooKeeperConnect(plan);
  if (plan.coordination === null || connect === null) return null;
  const zk = await ZkClient.connect(connect, { connectTimeoutMs: timeoutMs, retries: 0 });
  try {
    const { children } = await zk.getChildren(ZK_VIEWS);
    const news = children.filter((c) => c.startsWith('new-')).sort((a, b) => sequenceOf(a) - sequenceOf(b));
    const records = children.length;
    if (news.length === 0) return { viewId: null, records };
    const { data } = await zk.getData(`${ZK_VIEWS}/${news[news.length - 1]}`);
    const v = (data as { view?: { viewId?: number; sequencers?: unknown; engines?: unknown; storages?: unknown } } | null)?.view ?? {};
    return { viewId: v.viewId ?? null, sequencers: v.sequencers ?? [], engines: v.engines ?? [], storages: v.storages ?? [], records };
  } finally {
    await zk.close();
  }
}

function zkPid(plan: ClusterPlan): number | null {
  try {
    const n = Number(readFileSync(join(zkDir(plan), 'pid'), 'utf8').trim());
    if (!Number.isInteger(n) || n <= 0 || !pidAlive(n)) return null;
    // Ours only if its command line runs ZooKeeper with this cluster's zoo.cfg.
    if (existsSync('/proc/self/cmdline') && !readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0').includes(join(zkDir(plan), 'zoo.cfg'))) return null;
    return n;
  } catch {
    return null;
  }
}

async function zooKeeperUp(plan: ClusterPlan, log: (s: string) => void): Promise<void> {
  const z = plan.config.zookeeper;
  if (!z || z.mode !== 'local' || zkPid(plan) !== null) return;
  if (zkUnavailable() !== null) throw new InputError(`zookeeper: ${zkUnavailable()} (or set zookeeper.mode: none to run the coordination machine as a node)`);
  const zk = await startLocalZooKeeper({ dir: zkDir(plan), host: z.host, clientPort: z.clientPort, tickTimeMs: z.tickTimeMs, detached: true });
  log(`started ZooKeeper on ${zk.connect} (pid ${zk.pid})`);
}

export async function zooKeeperStatus(plan: ClusterPlan): Promise<{ connect: string; mode: string; pid: number | null; ok: boolean } | null> {
  const connect = zooKeeperConnect(plan);
  if (connect === null) return null;
  const first = parseAddr(connect.split('/')[0]!.split(',')[0]!);
  const ok = (await fourLetter(first.host, first.port, 'ruok', 1000)) === 'imok';
  return { connect, mode: plan.config.zookeeper!.mode, pid: zkPid(plan), ok };
}

export async function clusterDown(plan: ClusterPlan, graceMs = 5000, log: (s: string) => void = () => undefined): Promise<NodeId[]> {
  try {
    return await nodesDown(plan, graceMs, log);
  } finally {
    const zk = zkPid(plan);
    if (zk !== null) {
      await stopPid(zk);
      rmSync(join(zkDir(plan), 'pid'), { force: true });
      log(`stopped ZooKeeper (pid ${zk})`);
    }
  }
}

async function nodesDown(plan: ClusterPlan, graceMs: number, log: (s: string) => void): Promise<NodeId[]> {
  const stopped: NodeId[] = [];
  const live: [NodeId, number][] = [];
  // Drivers first, so no new requests arrive while the system stops.
  const order = [...plan.instance.nodes].sort((a, b) => Number(b.driver ?? false) - Number(a.driver ?? false));
  for (const n of order) {
    const pid = readPid(plan, n.id);
    if (pid !== null && isOurs(plan, n.id, pid)) {
      process.kill(pid, 'SIGTERM');
      live.push([n.id, pid]);
    } else rmSync(pidFile(plan, n.id), { force: true });
  }
  for (const [id, pid] of live) {
    if (!(await waitGone(plan, id, pid, graceMs))) {
      log(`${id} (pid ${pid}) ignored SIGTERM for ${graceMs} ms; sending SIGKILL`);
      process.kill(pid, 'SIGKILL');
      await waitGone(plan, id, pid, 5000);
    }
    rmSync(pidFile(plan, id), { force: true });
    stopped.push(id);
    log(`stopped ${id}`);
  }
  return stopped;
}

export function collectHistory(plan: ClusterPlan): HistoryEvent[] {
  const files = [...plan.instance.nodes.map((n) => historyFile(plan, n.id)), faultsFile(plan)].filter((f) => existsSync(f));
  return readHistories(files);
}

/** Runs the system's checkers over the merged histories of every node. */
export function clusterCheck(plan: ClusterPlan): RealRunResult {
  const history = collectHistory(plan);
  const violations: Violation[] = [];
  for (const ev of history) if (ev.kind === 'fatal') violations.push({ invariant: 'fatal', message: `${ev.node} reached a fatal state: ${ev.reason}`, node: ev.node, timeUs: ev.t });
  const lastFault = history.reduce((m, e) => (e.kind === 'fault' ? Math.max(m, e.t) : m), -1);
  const view: WorldView = {
    nowUs: 0,
    eventIndex: 0,
    history,
    lastFaultUs: lastFault,
    nodeIds: () => plan.instance.nodes.map((n) => n.id),
    role: (id) => plan.instance.nodes.find((n) => n.id === id)?.role ?? '',
    isUp: () => false,
    state: () => undefined,
  };
  const endUs = history.length ? history[history.length - 1]!.t : 0;
  // The run ends at its last recorded event: an operation still pending is a liveness failure
  // only once its deadline lies before that point, as for a simulated run that hit its time limit.
  const run: FinishedRun = { history, view, endUs, lastFaultUs: lastFault, truncated: false, quiescent: false };
  for (const c of plan.instance.checkers) violations.push(...c.check(run));
  return { history, violations, replies: clientResults(history) };
}

const faultsFile = (plan: ClusterPlan) => join(plan.stateDir, 'faults.jsonl');

/**
 * Appends a fault to the cluster's own history file (merged with the nodes' histories), so the
 * checkers know when faults stopped. Tests that inject faults through a proxy record them here too.
 */
export function recordFault(plan: ClusterPlan, ev: HistoryEvent): void {
  mkdirSync(plan.stateDir, { recursive: true });
  writeFileSync(faultsFile(plan), stringifyWire(ev) + '\n', { flag: 'a' });
}
