/**
 * The cluster config: which system runs (with which parameters and variant), where every node
 * listens, and where the cluster keeps its state (pid files, logs, stores, histories). JSON or
 * YAML, validated with zod; every error names the file and the field.
 *
 * Addresses. Each node that listens (every node but workload drivers) gets `host:basePort+i` in
 * node order unless `nodes.<id>.address` names one. `address` is where peers and clients dial;
 * `listen` (default: the address) is where the node binds, so a node can bind 0.0.0.0 and
 * advertise its machine's IP, or sit behind a fault proxy. With addresses on several machines the
 * same file describes one cluster across them, and `cluster up --nodes` starts each machine's share.
 *
 * ```yaml
 * system: register            # a name from src/systems/index.ts
 * params: { opsPerClient: 50 }
 * stateDir: .halfmoon/cluster # relative to this file
 * host: 127.0.0.1
 * basePort: 7400
 * nodes:
 *   r2: { address: 10.0.0.12:7400, listen: 0.0.0.0:7400 }
 * secretFile: cluster.secret  # required once a node listens off loopback (HMAC on every hello)
 * zookeeper: { mode: local, clientPort: 2181 }   # or { mode: external, connect: "zk1:2181,zk2:2181" }
 * store: { backend: postgres, connect: "postgresql://hm@127.0.0.1:5432/halfmoon" }   # default: machine
 * driversOnUp: false          # `cluster run` drives the workload (default: up starts the drivers)
 * ```
 *
 * Coordination. A system with a coordination node (role `coord`, the protocol of
 * src/boki/coord-api.ts) runs it on a real ZooKeeper: `zookeeper` defaults to a local one
 * (`mode: local`, started by `cluster up`), `mode: external` names an existing ensemble, and
 * `mode: none` runs the coordination machine as a node process of its own instead (no Java).
 *
 * The external store (role `store`) is the project's store machine in its own durable process by
 * default (`backend: machine`), or a process serving the same protocol from PostgreSQL
 * (`backend: postgres`, src/runtime/real/pgstore.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../../core/assert.ts';
import type { NodeId } from '../../core/contract.ts';
import type { SystemInstance } from '../../core/system.ts';
import { buildInstance } from '../../scenario/instance.ts';
import { loadScenario, parseScenario, parseYamlText, type Scenario } from '../../scenario/scenario.ts';
import { parseStrict } from '../../scenario/strict.ts';
import { type ClusterAuth, isLoopback, loadSecret, SECRET_ENV } from './auth.ts';
import type { Addr } from './conn.ts';
import { FRAME_MAX_BYTES_LIMIT } from './frame.ts';

const HOSTPORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const AddrSchema = z
  .string()
  .regex(HOSTPORT, 'expected host:port')
  .refine((s) => {
    const m = HOSTPORT.exec(s);
    return m === null || (Number(m[2]) >= 1 && Number(m[2]) <= 65535); // a non-match is the regex's error
  }, 'port must be in 1..65535');

const jsonValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.lazy(() => jsonValue)), z.record(z.string(), z.lazy(() => jsonValue))]);

const ZooKeeperSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('local'),
      clientPort: z.number().int().min(1).max(65535).default(2181),
      host: z.string().default('127.0.0.1'),
      tickTimeMs: z.number().int().min(10).max(10_000).default(500),
      sessionTimeoutMs: z.number().int().min(1000).max(600_000).default(10_000),
    })
    .strict(),
  z
    .object({
      mode: z.literal('external'),
      /** A ZooKeeper connect string: host:port[,host:port...][/chroot]. */
      connect: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*(\/[^\s]*)?$/, 'expected host:port[,host:port...][/chroot]'),
      sessionTimeoutMs: z.number().int().min(1000).max(600_000).default(10_000),
    })
    .strict(),
  z.object({ mode: z.literal('none') }).strict(),
]);

const StoreSchema = z.discriminatedUnion('backend', [
  z.object({ backend: z.literal('machine') }).strict(),
  z
    .object({
      backend: z.literal('postgres'),
      /** A PostgreSQL connection URI (postgresql://user@host:port/db). */
      connect: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'expected postgresql://user@host:port/database'),
      /** The table holding the rows (created when missing). */
      table: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier').default('halfmoon_rows'),
      /** Connections to the database (requests on different rows run in parallel). */
      poolSize: z.number().int().min(1).max(64).default(4),
    })
    .strict(),
]);

export const ClusterConfigSchema = z
  .object({
    /** The cluster's name in handshakes (default: the system's name). */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').optional(),
    system: z.string().min(1).optional(),
    variant: z.string().nullable().optional(),
    params: z.record(z.string(), jsonValue).default({}),
    stateDir: z.string().min(1).default('.halfmoon/cluster'),
    host: z.string().min(1).default('127.0.0.1'),
    basePort: z.number().int().min(1).max(65535).default(7400),
    nodes: z
      .record(
        z.string(),
        z
          .object({
            address: AddrSchema.optional(),
            listen: AddrSchema.optional(),
          })
          .strict(),
      )
      .default({}),
    limits: z
      .object({
        maxFrameBytes: z.number().int().min(1024).max(FRAME_MAX_BYTES_LIMIT).default(4 * 1024 * 1024),
        queueBytesMax: z.number().int().min(1024).max(FRAME_MAX_BYTES_LIMIT).default(16 * 1024 * 1024),
        stateMaxBytes: z.number().int().min(1024).max(FRAME_MAX_BYTES_LIMIT).default(256 * 1024 * 1024),
      })
      .strict()
      .default({ maxFrameBytes: 4 * 1024 * 1024, queueBytesMax: 16 * 1024 * 1024, stateMaxBytes: 256 * 1024 * 1024 }),
    /** How long `cluster up` waits for each node to answer its status as running. */
    startTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    zookeeper: ZooKeeperSchema.optional(),
    store: StoreSchema.default({ backend: 'machine' }),
    /** Whether `cluster up` starts the workload drivers (false: `cluster run` drives the workload). */
    driversOnUp: z.boolean().default(true),
    /**
     * A file holding the cluster secret (at least 16 bytes; relative to this file). Every hello is
     * signed with it (HMAC over a nonce, src/runtime/real/auth.ts); without it the secret comes
     * from HALFMOON_CLUSTER_SECRET. A node listening off loopback requires it.
     */
    secretFile: z.string().min(1).optional(),
    /** Require the secret on every connection even on loopback. */
    requireSecret: z.boolean().default(false),
    /** The scenario whose system, variant and parameters the cluster runs (config params override). */
    scenario: z.string().min(1).optional(),
    /** Plugin modules (relative to this file) registering the system; the CLI loads them, and every node process. */
    plugins: z.array(z.string().min(1)).max(32).optional(),
  })
  .strict();

export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;

/** A validated config resolved against its system: everything a command or a node process needs. */
/** A config with its scenario folded in: system, variant and params always present. */
export type ResolvedConfig = Omit<ClusterConfig, 'system' | 'variant' | 'scenario' | 'zookeeper'> & {
  readonly system: string;
  readonly variant: string | null;
  readonly zookeeper: Exclude<ClusterConfig['zookeeper'], undefined> | null;
};

export interface ClusterPlan {
  readonly config: ResolvedConfig;
  /** Where the config came from ('(defaults)' when none was given). */
  readonly source: string;
  readonly cluster: string;
  readonly stateDir: string;
  readonly scenario: Scenario;
  readonly instance: SystemInstance;
  /** Where each listening node is dialled. */
  readonly addresses: ReadonlyMap<NodeId, Addr>;
  /** Where each listening node binds. */
  readonly listens: ReadonlyMap<NodeId, Addr>;
  /** The coordination node when a real ZooKeeper serves it (no process of its own), else null. */
  readonly coordination: NodeId | null;
  /** The nodes `cluster up` starts as processes, in start order (drivers last). */
  readonly processes: readonly NodeId[];
  /** The cluster secret and whether loopback nodes require it too. */
  readonly auth: ClusterAuth;
}

export function parseAddr(s: string): Addr {
  const m = HOSTPORT.exec(s);
  if (!m) throw new InputError(`'${s}' is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Validates a raw config object. `baseDir` anchors a relative `stateDir`. */
export function planCluster(raw: unknown, source: string, baseDir: string): ClusterPlan {
  const config = resolveConfig(parseStrict(ClusterConfigSchema, raw ?? {}, source), source, baseDir);
  const scenario = parseScenario({ name: 'cluster', description: `cluster from ${source}`, system: config.system, variant: config.variant, params: config.params }, source);
  let instance: SystemInstance;
  try {
    instance = buildInstance(scenario);
  } catch (e) {
    if (e instanceof InputError) {
      const m = e.message.replace(/^scenario cluster: /, '');
      throw new InputError(m.startsWith(`${source}: `) ? m : `${source}: ${m}`);
    }
    throw e;
  }
  const ids = new Set(instance.nodes.map((n) => n.id));
  for (const id of Object.keys(config.nodes)) {
    if (!ids.has(id)) throw new InputError(`${source}: nodes.${id}: no such node in system '${config.system}' (nodes: ${[...ids].join(', ')})`);
    if (instance.nodes.find((n) => n.id === id)!.driver) throw new InputError(`${source}: nodes.${id}: a workload driver does not listen; give it no address`);
  }
  const coordNode = instance.nodes.find((n) => n.role === 'coord')?.id ?? null;
  const zookeeper = config.zookeeper ?? (coordNode !== null ? LOCAL_ZK_DEFAULT : null);
  const coordination = coordNode !== null && zookeeper !== null && zookeeper.mode !== 'none' ? coordNode : null;
  if (coordination !== null && config.nodes[coordination]) throw new InputError(`${source}: nodes.${coordination}: ZooKeeper serves the coordination node; give it no address (or set zookeeper.mode: none)`);
  const addresses = new Map<NodeId, Addr>();
  const listens = new Map<NodeId, Addr>();
  let i = 0;
  const seen = new Map<string, NodeId>();
  for (const n of instance.nodes) {
    if (n.driver || n.id === coordination) continue;
    const o = config.nodes[n.id] ?? {};
    const port = config.basePort + i++;
    if (!o.address && port > 65535) throw new InputError(`${source}: basePort: ${config.basePort} leaves no port for node ${n.id}`);
    const address = o.address ? parseAddr(o.address) : { host: config.host, port };
    const listen = o.listen ? parseAddr(o.listen) : address;
    const key = `${listen.host}:${listen.port}`;
    if (seen.has(key)) throw new InputError(`${source}: nodes.${n.id}: listens on ${key}, as ${seen.get(key)} does`);
    seen.set(key, n.id);
    addresses.set(n.id, address);
    listens.set(n.id, listen);
  }
  const stateDir = isAbsolute(config.stateDir) ? config.stateDir : resolve(baseDir, config.stateDir);
  const processes = [...instance.nodes.filter((n) => !n.driver && n.id !== coordination), ...(config.driversOnUp ? instance.nodes.filter((n) => n.driver) : [])].map((n) => n.id);
  if (config.store.backend === 'postgres' && !instance.nodes.some((n) => n.role === 'store')) throw new InputError(`${source}: store.backend: system '${config.system}' has no store node`);
  const secretFile = config.secretFile === undefined ? null : isAbsolute(config.secretFile) ? config.secretFile : resolve(baseDir, config.secretFile);
  let secret: Buffer | null;
  try {
    secret = loadSecret(secretFile);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${source}: ${e.message}`);
    throw e;
  }
  if (config.requireSecret && secret === null) throw new InputError(`${source}: requireSecret: no secret (set secretFile or ${SECRET_ENV})`);
  for (const [id, l] of listens) if (!isLoopback(l.host) && secret === null) throw new InputError(`${source}: nodes.${id}: listens on ${l.host}, not loopback: a cluster secret is required (secretFile, or ${SECRET_ENV})`);
  const auth: ClusterAuth = { secret, require: config.requireSecret };
  return { config: { ...config, zookeeper, ...(secretFile !== null ? { secretFile } : {}) }, source, cluster: config.name ?? config.system, stateDir, scenario, instance, addresses, listens, coordination, processes, auth };
}

const LOCAL_ZK_DEFAULT = { mode: 'local', clientPort: 2181, host: '127.0.0.1', tickTimeMs: 500, sessionTimeoutMs: 10_000 } as const;

/** Folds the config's scenario (if any) into system, variant and params; config params win. */
function resolveConfig(c: ClusterConfig, source: string, baseDir: string): Omit<ResolvedConfig, 'zookeeper'> & { zookeeper: ClusterConfig['zookeeper'] | null } {
  let system = c.system;
  let variant = c.variant;
  let params = c.params;
  if (c.scenario !== undefined) {
    const file = resolve(baseDir, c.scenario);
    let sc: Scenario;
    try {
      sc = loadScenario(existsSync(file) ? file : c.scenario);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${source}: scenario: ${e.message}`);
      throw e;
    }
    if (system !== undefined && system !== sc.system) throw new InputError(`${source}: system: '${system}', but scenario ${sc.name} runs '${sc.system}'`);
    system = sc.system;
    variant = variant === undefined ? sc.variant : variant;
    params = { ...sc.params, ...c.params };
  }
  if (system === undefined) throw new InputError(`${source}: system: required (or name a scenario)`);
  const { scenario: _scenario, ...rest } = c;
  void _scenario;
  return { ...rest, system, variant: variant ?? null, params, zookeeper: c.zookeeper ?? null };
}

/** Reads a config file (YAML or JSON), or the defaults (the register system on loopback) when null. */
export function loadClusterConfig(file: string | null, cwd = process.cwd()): ClusterPlan {
  if (file === null) return planCluster({ system: 'register' }, '(defaults)', cwd);
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new InputError(`--config: ${file}: no such file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseClusterText(text, file, dirname(path));
}

/** A cluster config from its text (YAML or JSON); `baseDir` anchors relative paths. */
export function parseClusterText(text: string, source: string, baseDir: string): ClusterPlan {
  return planCluster(parseYamlText(text, source, 'YAML/JSON'), source, baseDir);
}
