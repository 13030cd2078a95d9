import { InputError } from '../../src/core/assert.ts';
import { loadClusterConfig } from '../../src/runtime/real/cluster-config.ts';
import { clusterCheck, clusterDown, clusterStatus, clusterUp, killNode, restartNode, workloadDone, zooKeeperStatus } from '../../src/runtime/real/cluster.ts';
import type { Command } from './types.ts';

const SUBCOMMANDS = ['up', 'down', 'status', 'kill', 'restart', 'check'] as const;

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'run a system for real, one OS process per node: up, down, status, kill, restart, check',
  usage: `usage: halfmoon cluster <subcommand> [--config <file>] [options]

  up [--nodes a,b]     start every node (or the listed ones) as a detached process; system nodes
                       first, waiting until each answers its status as running, then drivers
  status [--json]      each node's pid, address, and its own status over the transport
  kill <node>          SIGKILL one node process (a crash; recorded as a fault)
  restart <node>       start a killed node again on its store (it recovers and restarts)
  check [--json]       merge the nodes' histories and run the system's checkers (exit 1 on a violation)
  down                 stop every node this cluster started (SIGTERM, then SIGKILL after 5 s)

--config names a YAML or JSON cluster config (see src/runtime/real/cluster-config.ts); without it
the register system runs on 127.0.0.1 ports 7400.. with its state in .halfmoon/cluster. Node
logs, stores, histories and pid files live under <stateDir>/nodes/<node>/.`,
  options: { config: { type: 'string' }, nodes: { type: 'string' }, json: { type: 'boolean' } },
  positionals: 2,
  async run(values, pos, io) {
    const sub = pos[0];
    if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new InputError(`expected a subcommand (${SUBCOMMANDS.join(', ')}), got ${sub === undefined ? 'none' : `'${sub}'`}`);
    }
    const needsNode = sub === 'kill' || sub === 'restart';
    if (needsNode && pos[1] === undefined) throw new InputError(`${sub}: name the node`);
    if (!needsNode && pos[1] !== undefined) throw new InputError(`${sub}: unexpected argument '${pos[1]}'`);
    if (values.config !== undefined && (typeof values.config !== 'string' || values.config === '')) throw new InputError('--config: expected a file');
    const plan = loadClusterConfig((values.config as string | undefined) ?? null);
    switch (sub) {
      case 'up': {
        const only = typeof values.nodes === 'string' ? values.nodes.split(',').filter((s) => s !== '') : null;
        const r = await clusterUp(plan, only, io.err);
        io.out(JSON.stringify({ cluster: plan.cluster, stateDir: plan.stateDir, started: r.started, alreadyRunning: r.alreadyRunning }));
        return 0;
      }
      case 'status': {
        const nodes = await clusterStatus(plan);
        const done = workloadDone(plan);
        const zookeeper = await zooKeeperStatus(plan);
        if (values.json) {
          io.out(JSON.stringify({ cluster: plan.cluster, stateDir: plan.stateDir, workloadDone: done, zookeeper, nodes }));
          return 0;
        }
        io.out(`cluster ${plan.cluster} (${plan.stateDir}); workload ${done ? 'done' : 'not done'}`);
        if (zookeeper) io.out(`zookeeper  ${zookeeper.mode.padEnd(12)} ${zookeeper.connect.padEnd(21)} pid ${zookeeper.pid ?? '-'} ${zookeeper.ok ? 'imok' : 'not answering'}`);
        for (const n of nodes) {
          const s = n.status;
          const health = 'error' in s ? `unreachable (${s.error})` : `${s.phase}${s.booted ? ` (${s.booted})` : ''} steps=${s.steps}${s.fatal ? ` fatal: ${s.fatal}` : ''}`;
          io.out(`${n.id.padEnd(10)} ${n.role.padEnd(12)} ${(n.address ?? '-').padEnd(21)} pid ${n.pid ?? '-'} ${n.alive ? 'alive' : 'dead'}  ${health}`);
        }
        return 0;
      }
      case 'kill':
        await killNode(plan, pos[1]!);
        io.out(JSON.stringify({ killed: pos[1] }));
        return 0;
      case 'restart': {
        const s = await restartNode(plan, pos[1]!);
        io.out(JSON.stringify({ restarted: pos[1], pid: s.pid, booted: s.booted }));
        return 0;
      }
      case 'check': {
        const r = clusterCheck(plan);
        const answered = r.replies.filter((x) => x.reply !== undefined).length;
        io.out(JSON.stringify({ cluster: plan.cluster, events: r.history.length, operations: r.replies.length, answered, violations: r.violations }));
        return r.violations.length > 0 ? 1 : 0;
      }
      case 'down': {
        const stopped = await clusterDown(plan, 5000, io.err);
        io.out(JSON.stringify({ stopped }));
        return 0;
      }
    }
    return 2;
  },
};
