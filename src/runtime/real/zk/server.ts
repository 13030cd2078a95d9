/**
 * A local standalone ZooKeeper for real-mode runs that are not pointed at an existing ensemble:
 * Debian's `zookeeper` package (`apt-get install -y zookeeper`, which brings its jars under
 * /usr/share/java) started as `java ... ZooKeeperServerMain zoo.cfg`, with its data directory in
 * the cluster's state directory and its client port on loopback. Ready means it answers the
 * `ruok` four-letter command with `imok` (polled with a deadline).
 *
 * `HALFMOON_ZK_CLASSPATH` overrides the class path (a ZooKeeper 3.8 tarball's `lib/*`, say), and
 * `JAVA` the java binary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { InputError } from '../../../core/assert.ts';

export const DEBIAN_ZK_JAR = '/usr/share/java/zookeeper.jar';

export interface LocalZkOptions {
  /** Holds zoo.cfg, data/, the log and the pid file. */
  readonly dir: string;
  readonly host?: string;
  readonly clientPort: number;
  readonly tickTimeMs?: number;
  /** Start detached (it outlives this process; stop it by pid) or as a child of this process. */
  readonly detached?: boolean;
  readonly startTimeoutMs?: number;
}

export interface LocalZk {
  /** A connect string for clients. */
  readonly connect: string;
  readonly pid: number;
  stop(): Promise<void>;
}

function javaBin(): string {
  return process.env.JAVA ?? 'java';
}

function classPath(): string | null {
  if (process.env.HALFMOON_ZK_CLASSPATH) return process.env.HALFMOON_ZK_CLASSPATH;
  return existsSync(DEBIAN_ZK_JAR) ? DEBIAN_ZK_JAR : null;
}

/** Why a local ZooKeeper cannot start here, or null when it can. */
export function zkUnavailable(): string | null {
  if (classPath() === null) return `ZooKeeper not found: install it (apt-get install -y zookeeper) or set HALFMOON_ZK_CLASSPATH`;
  return null;
}

/** Sends a four-letter command and returns the answer ('' when the server is not up). */
export function fourLetter(host: string, port: number, cmd: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let out = '';
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('connect', () => s.write(cmd));
    s.on('data', (d) => (out += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export async function startLocalZooKeeper(o: LocalZkOptions): Promise<LocalZk> {
  const cp = classPath();
  if (cp === null) throw new InputError(zkUnavailable()!);
  const host = o.host ?? '127.0.0.1';
  mkdirSync(join(o.dir, 'data'), { recursive: true });
  const cfg = join(o.dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      `tickTime=${o.tickTimeMs ?? 500}`,
      `dataDir=${join(o.dir, 'data')}`,
      `clientPort=${o.clientPort}`,
      `clientPortAddress=${host}`,
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr,stat,mntr',
      'maxClientCnxns=200',
      // Sessions from 2 to 20 ticks, ZooKeeper's default bounds.
      '',
    ].join('\n'),
  );
  if ((await fourLetter(host, o.clientPort, 'ruok', 300)) !== '') throw new InputError(`ZooKeeper: ${host}:${o.clientPort} is already in use`);
  const log = openSync(join(o.dir, 'zookeeper.log'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      javaBin(),
      ['-Xmx256m', `-Dzookeeper.log.dir=${o.dir}`, '-Dzookeeper.jmx.log4j.disable=true', '-cp', cp, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg],
      { detached: o.detached ?? false, stdio: ['ignore', log, log] },
    );
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error('could not start java for ZooKeeper');
  const pid = child.pid;
  if (o.detached) child.unref();
  writeFileSync(join(o.dir, 'pid'), `${pid}\n`);
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = performance.now() + (o.startTimeoutMs ?? 30_000);
  for (;;) {
    if ((await fourLetter(host, o.clientPort, 'ruok', 500)) === 'imok') break;
    if (exited) throw new Error(`ZooKeeper exited during start-up; see ${join(o.dir, 'zookeeper.log')}: ${readFileSync(join(o.dir, 'zookeeper.log'), 'utf8').slice(-500)}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ZooKeeper did not answer ruok within ${o.startTimeoutMs ?? 30_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    connect: `${host}:${o.clientPort}`,
    pid,
    stop: () => stopPid(pid, () => exited),
  };
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export async function stopPid(pid: number, gone: () => boolean = () => !alive(pid)): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = performance.now() + 5000;
  while (!gone() && alive(pid) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (alive(pid) && !gone()) {
    process.kill(pid, 'SIGKILL');
    while (alive(pid) && !gone()) await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
