import { InputError } from '../../../src/core/assert.ts';
import { loadClusterConfig } from '../../../src/runtime/real/cluster-config.ts';
import { clusterCheck, clusterDown, clusterStatus, clusterUp, coordinationView, killNode, pauseNode, restartNode, resumeNode, workloadDone, zooKeeperStatus } from '../../../src/runtime/real/cluster.ts';
import { clusterRun } from '../../../src/runtime/real/run.ts';
import { parseSeed, parseSets } from './args.ts';
import { runLines } from './format.ts';
import type { Command } from './types.ts';

const SUBCOMMANDS = ['up', 'down', 'status', 'kill', 'restart', 'pause', 'resume', 'run', 'check'] as const;

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'run a system for real, one OS process per node: up, down, status, kill, restart, pause, resume, run, check',
  usage: `usage: halfmoon cluster <subcommand> [--config <file>] [options]

  up [--nodes a,b]     start ZooKeeper (when the config runs a local one) and every node (or the
                       listed ones) as a detached process; system nodes first, waiting until each
                       answers its status as running, then drivers (unless driversOnUp: false)
  status [--json]      the coordination view, ZooKeeper, and each node's pid, address and health
  kill <node>          SIGKILL one node process (a crash; recorded as a fault)
  restart <node>       start a killed node again on its store (it recovers and restarts)
  pause <node>         SIGSTOP one node process (recorded as a fault); resume <node> sends SIGCONT
  run --scenario <s>   drive the scenario's workload against the running cluster, carry out its
      [--protocol p]   scripted faults for real, merge every process's history and run the
      [--set k=v]...   system's checkers; --json prints the fields of 'halfmoon run --json'
      [--json]         (exit 1 on a violation)
  check [--json]       merge the nodes' histories and run the system's checkers (exit 1 on a violation)
  down                 stop every node this cluster started, and its ZooKeeper (SIGTERM, then
                       SIGKILL after 5 s)

--config names a YAML or JSON cluster config (see src/runtime/real/cluster-config.ts and
docs/real-runtime.md); without it the register system runs on 127.0.0.1 ports 7400.. with its
state in .halfmoon/cluster. Node logs, stores, histories and pid files live under
<stateDir>/nodes/<node>/, run histories under <stateDir>/runs/.`,
  options: {
    config: { type: 'string' },
    nodes: { type: 'string' },
    json: { type: 'boolean' },
    scenario: { type: 'string' },
    set: { type: 'string', multiple: true },
    protocol: { type: 'string' },
    seed: { type: 'string' },
  },
  positionals: 2,
  async run(values, pos, io) {
    const sub = pos[0];
    if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new InputError(`expected a subcommand (${SUBCOMMANDS.join(', ')}), got ${sub === undefined ? 'none' : `'${sub}'`}`);
    }
    const needsNode = sub === 'kill' || sub === 'restart' || sub === 'pause' || sub === 'resume';
    if (sub !== 'run' && (values.scenario !== undefined || values.set !== undefined || values.protocol !== undefined || values.seed !== undefined)) {
      throw new InputError(`${sub}: --scenario, --set, --protocol and --seed belong to 'cluster run'`);
    }
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
        const view = zookeeper?.ok ? await coordinationView(plan).catch((e: Error) => ({ error: e.message })) : null;
        if (values.json) {
          io.out(JSON.stringify({ cluster: plan.cluster, stateDir: plan.stateDir, workloadDone: done, zookeeper, view, nodes }));
          return 0;
        }
        io.out(`cluster ${plan.cluster} (${plan.stateDir}); workload ${plan.config.driversOnUp ? (done ? 'done' : 'not done') : 'driven by cluster run'}`);
        if (zookeeper) io.out(`zookeeper  ${zookeeper.mode.padEnd(12)} ${zookeeper.connect.padEnd(21)} pid ${zookeeper.pid ?? '-'} ${zookeeper.ok ? 'imok' : 'not answering'}`);
        if (view) io.out(`view       ${JSON.stringify(view)}`);
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
      case 'pause':
        await pauseNode(plan, pos[1]!);
        io.out(JSON.stringify({ paused: pos[1] }));
        return 0;
      case 'resume':
        await resumeNode(plan, pos[1]!);
        io.out(JSON.stringify({ resumed: pos[1] }));
        return 0;
      case 'run': {
        if (typeof values.scenario !== 'string' || values.scenario === '') throw new InputError('run: --scenario <name|file> is required');
        const seed = values.seed === undefined ? 1 : parseSeed(values.seed);
        const r = await clusterRun({ plan, scenario: values.scenario, sets: parseSets(values), seed, log: io.err });
        if (values.json) io.out(JSON.stringify(r.json));
        else for (const l of runLines(asRunResult(r.json), null)) io.out(l);
        return r.violations.length > 0 ? 1 : 0;
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

/** The report in the shape the human renderer of `halfmoon run` reads. */
function asRunResult(j: Record<string, unknown>): Parameters<typeof runLines>[0] {
  const { scenario, system, variant, seed, outcome, events, simulatedTimeUs, wallMs, traceHash, violations, faults, decisions, replay, ...report } = j;
  return { scenario, system, variant, seed, outcome, events, simulatedTimeUs, wallMs, traceHash, violations, faults, decisions, replay, report } as Parameters<typeof runLines>[0];
}
