/**
 * One cluster node as an OS process: `node --import tsx node-main.ts <stateDir>/cluster.json <node>`.
 * Started (detached) by `halfmoon cluster up`; reads the resolved config the command wrote, runs
 * the node's machine in a `MachineHost` (store in `<stateDir>/nodes/<id>/store`, history in
 * `.../history.jsonl`, log on stderr, which the launcher points at `.../node.log`), and stops
 * cleanly on SIGTERM or SIGINT. A node that halts on a fatal state keeps answering status
 * requests (phase "halted", with the reason) until it is stopped.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInputError } from '../../core/assert.ts';
import type { NodeId } from '../../core/contract.ts';
import type { HistoryEvent, WorldView } from '../../core/system.ts';
import { SYSTEMS } from '../../systems/index.ts';
import { planCluster } from './cluster-config.ts';
import { loadPlugins } from '../../scenario/plugins.ts';
import { JsonlHistory } from './history.ts';
import { MachineHost } from './host.ts';
import { zooKeeperConnect } from './cluster.ts';
import { PgStoreNode } from './pg/node.ts';

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(planFile: string, id: NodeId): Promise<void> {
  const saved = JSON.parse(readFileSync(planFile, 'utf8')) as { source: string; baseDir: string; config: Record<string, unknown>; plugins?: string[] };
  // Plugin systems register before the plan is rebuilt (absolute paths, written by `cluster up`).
  await loadPlugins(saved.plugins ?? []);
  let plan = planCluster(saved.config, saved.source, saved.baseDir);
  const first = plan.instance.nodes.find((n) => n.id === id);
  if (!first) throw new Error(`no node ${id} in ${planFile}`);
  const dir = join(plan.stateDir, 'nodes', id);
  mkdirSync(dir, { recursive: true });
  if (first.driver && 'requestPrefix' in (SYSTEMS[plan.config.system]?.defaults ?? {})) {
    // A workload driver has no disk: restarted after a kill -9 it starts its workload afresh.
    // Its request ids must not repeat its previous incarnations' (a reused id with another
    // input is a different request under the same name), so each start gets a prefix of its own.
    const file = join(dir, 'incarnation');
    const n = (Number(existsSync(file) ? readFileSync(file, 'utf8').trim() : '0') || 0) + 1;
    writeFileSync(file, `${n}\n`);
    const params = (saved.config.params as Record<string, unknown> | undefined) ?? {};
    plan = planCluster({ ...saved.config, params: { ...params, requestPrefix: `${String(params.requestPrefix ?? '')}g${n}-` } }, saved.source, saved.baseDir);
  }
  const spec = plan.instance.nodes.find((n) => n.id === id)!;
  const history = new JsonlHistory(join(dir, 'history.jsonl'));
  const driver = spec.driver ?? false;
  const storeCfg = plan.config.store;
  if (spec.role === 'store' && storeCfg.backend === 'postgres') {
    // The store on PostgreSQL instead of the store machine: same protocol, same records.
    const node = new PgStoreNode({
      cluster: plan.cluster,
      spec,
      nodes: plan.instance.nodes,
      listen: plan.listens.get(id)!,
      addressOf: (to) => plan.addresses.get(to) ?? null,
      history,
      limits: plan.config.limits,
      log,
      postgres: { connect: storeCfg.connect, table: storeCfg.table, poolSize: storeCfg.poolSize },
      auth: plan.auth,
    });
    const stopPg = async (sig: string) => {
      log(`${id}: ${sig}, stopping`);
      await node.stop();
      await history.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stopPg('SIGTERM'));
    process.on('SIGINT', () => void stopPg('SIGINT'));
    await node.start();
    return;
  }
  // Invariants and `done` see this node only: every other node lives in another process.
  let host: MachineHost;
  let doneMarked = false;
  rmSync(join(dir, 'workload-done'), { force: true });
  const view: WorldView = {
    get nowUs() {
      return 0;
    },
    get eventIndex() {
      return host.status().steps;
    },
    history: [] as HistoryEvent[],
    lastFaultUs: -1,
    nodeIds: () => plan.instance.nodes.map((n) => n.id),
    role: (x) => plan.instance.nodes.find((n) => n.id === x)?.role ?? '',
    isUp: (x) => x === id && host.running,
    state: (x) => (x === id ? host.state : undefined),
  };
  host = new MachineHost({
    cluster: plan.cluster,
    spec,
    nodes: plan.instance.nodes,
    dataDir: driver ? null : join(dir, 'store'),
    listen: driver ? null : plan.listens.get(id)!,
    addressOf: (to) => plan.addresses.get(to) ?? null,
    history,
    limits: plan.config.limits,
    log,
    auth: plan.auth,
    invariants: plan.instance.invariants,
    view,
    coordination: plan.coordination !== null ? { node: plan.coordination, connect: zooKeeperConnect(plan)! } : null,
    ...(driver && plan.instance.done ? { done: () => plan.instance.done!(view) } : {}),
    onStep: () => {
      if (!driver || doneMarked || !plan.instance.done || !plan.instance.done(view)) return;
      doneMarked = true;
      writeFileSync(join(dir, 'workload-done'), `${new Date().toISOString()}\n`);
      log(`${id}: workload done`);
    },
    onHalt: (_h, reason) => log(`node ${id} halted (${reason}); it keeps answering status until stopped`),
  });
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${id}: ${sig}, stopping`);
    await host.stop();
    await history.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await host.listen();
  await host.start();
}

const [planFile, id] = process.argv.slice(2);
if (!planFile || !id) {
  process.stderr.write('usage: node-main.ts <stateDir>/cluster.json <node id>\n');
  process.exit(2);
}
main(planFile, id).catch((e: unknown) => {
  log(`fatal start-up error: ${isInputError(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(isInputError(e) ? 2 : 1);
});
