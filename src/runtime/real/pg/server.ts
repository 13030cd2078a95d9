/**
 * A private PostgreSQL server for tests and local runs: `initdb` into a directory, `pg_ctl start`
 * on a loopback port (its socket in the same directory), trust authentication for one user, and
 * `pg_ctl stop` (fast) to end it. Debian's `postgresql` package provides the binaries
 * (/usr/lib/postgresql/<version>/bin); `HALFMOON_PG_BIN` names another directory. PostgreSQL
 * refuses to run as root, so as root the server runs as the `postgres` user (which the package
 * creates) through `runuser`, and `dir` must then be reachable by that user (a directory of its
 * own under /tmp is; one inside a private temporary directory is not).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InputError } from '../../../core/assert.ts';

const run = promisify(execFile);

/** The directory holding initdb and pg_ctl, or null. */
export function pgBinDir(): string | null {
  const env = process.env.HALFMOON_PG_BIN;
  if (env) return existsSync(join(env, 'pg_ctl')) ? env : null;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(base, v, 'bin', 'pg_ctl')) && existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  }
  return null;
}

/** Why a private PostgreSQL cannot start here, or null when it can. */
export function pgUnavailable(): string | null {
  if (pgBinDir() === null) return 'PostgreSQL not found: install it (apt-get install -y postgresql) or set HALFMOON_PG_BIN';
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) return 'running as root without runuser: PostgreSQL refuses to run as root';
  return null;
}

export interface LocalPg {
  /** A connection URI for the `halfmoon` user's database. */
  readonly connect: string;
  stop(): Promise<void>;
}

async function asServerUser(bin: string, args: string[], uid: { uid: number; gid: number } | null): Promise<void> {
  if (uid === null) await run(bin, args, { timeout: 60_000 });
  else await run('runuser', ['-u', 'postgres', '--', bin, ...args], { timeout: 60_000 });
}

async function postgresUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const { stdout: u } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(u.trim()), gid: Number(g.trim()) };
}

export async function startLocalPostgres(o: { dir: string; port: number }): Promise<LocalPg> {
  const bin = pgBinDir();
  if (bin === null) throw new InputError(pgUnavailable()!);
  const owner = await postgresUser();
  const data = join(o.dir, 'data');
  mkdirSync(o.dir, { recursive: true });
  if (owner) chownSync(o.dir, owner.uid, owner.gid);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    await asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'halfmoon', '--auth=trust', '-E', 'UTF8', '--no-locale'], owner);
  }
  const opts = `-p ${o.port} -k ${o.dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=50`;
  await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-l', join(o.dir, 'server.log'), '-o', opts, '-w', '-t', '60', 'start'], owner);
  return {
    connect: `postgresql://halfmoon@127.0.0.1:${o.port}/postgres`,
    stop: async () => {
      await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], owner).catch(() => undefined);
    },
  };
}
