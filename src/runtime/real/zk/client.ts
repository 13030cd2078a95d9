/**
 * The real runtime's ZooKeeper client layer: promises over `node-zookeeper-client` (pure
 * JavaScript, no native build; speaks the ZooKeeper 3.x wire protocol, checked against Debian's
 * ZooKeeper 3.8 by test/runtime/zookeeper.test.ts), with data in the wire encoding of
 * src/core/json.ts and errors as the coordination protocol's codes (`ZkErr`), so a bridge can
 * answer the simulated coordination service's requests from a real ensemble.
 *
 * What the library offers, and what it lacks: persistent, persistent-sequential, ephemeral and
 * ephemeral-sequential creates; one-shot data and child watches; sessions with expiry. It predates
 * ZooKeeper 3.6's persistent (and recursive) watches (`addWatch`): `watchChildren` below emulates a
 * persistent child watch by re-arming a one-shot watch and diffing the child lists, which reports
 * every creation and deletion that is still visible when it re-reads (as ZooKeeper clients do after
 * a connection loss) but can merge a create and delete that both happen between two reads.
 */
import zookeeper from 'node-zookeeper-client';
import { parseWire, stringifyWire } from '../../../core/json.ts';

export type CreateMode = 'persistent' | 'persistentSequential' | 'ephemeral' | 'ephemeralSequential';
export type ZkErr = 'ok' | 'noNode' | 'nodeExists' | 'badVersion' | 'notEmpty' | 'noChildrenForEphemerals' | 'badArguments';
export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

export interface ZkStat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly version: number;
  readonly cversion: number;
  /** Owning session of an ephemeral znode, else 0n. */
  readonly ephemeralOwner: bigint;
  readonly numChildren: number;
  readonly dataLength: number;
}

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly path: string;
}

/**
 * A ZooKeeper error the protocol names (anything else is thrown as a plain Error, or as
 * `ZkLost` when the outcome is unknown).
 */
export class ZkError extends Error {
  constructor(
    readonly code: Exclude<ZkErr, 'ok'>,
    readonly path: string,
  ) {
    super(`zookeeper ${code} at ${path}`);
    this.name = 'ZkError';
  }
}

/**
 * The request's outcome is unknown: the connection to ZooKeeper broke before its reply came
 * (ConnectionLoss, OperationTimeout), or the session expired (`expired`). A create may or may not
 * have happened, exactly as for a ZooKeeper client after a ConnectionLoss.
 */
export class ZkLost extends Error {
  constructor(
    readonly expired: boolean,
    path: string,
  ) {
    super(`zookeeper ${expired ? 'session expired' : 'connection lost'} at ${path}`);
    this.name = 'ZkLost';
  }
}

/** ZooKeeper's own limit on one znode's data (jute.maxbuffer, 1 MiB, less headers). */
export const ZK_DATA_MAX_BYTES = 1_000_000;

const MODES: Record<CreateMode, number> = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  persistentSequential: zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  ephemeralSequential: zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

const EX = zookeeper.Exception;
const CODES = new Map<number, Exclude<ZkErr, 'ok'>>([
  [EX.NO_NODE, 'noNode'],
  [EX.NODE_EXISTS, 'nodeExists'],
  [EX.BAD_VERSION, 'badVersion'],
  [EX.NOT_EMPTY, 'notEmpty'],
  [EX.NO_CHILDREN_FOR_EPHEMERALS, 'noChildrenForEphemerals'],
  [EX.BAD_ARGUMENTS, 'badArguments'],
]);

const EVENTS = new Map<number, WatchEventType>([
  [zookeeper.Event.NODE_CREATED, 'NodeCreated'],
  [zookeeper.Event.NODE_DELETED, 'NodeDeleted'],
  [zookeeper.Event.NODE_DATA_CHANGED, 'NodeDataChanged'],
  [zookeeper.Event.NODE_CHILDREN_CHANGED, 'NodeChildrenChanged'],
]);

function u64(b: Buffer): bigint {
  return b.length === 8 ? b.readBigUInt64BE(0) : 0n;
}

function stat(s: zookeeper.Stat): ZkStat {
  return {
    czxid: u64(s.czxid),
    mzxid: u64(s.mzxid),
    version: s.version,
    cversion: s.cversion,
    ephemeralOwner: u64(s.ephemeralOwner),
    numChildren: s.numChildren,
    dataLength: s.dataLength,
  };
}

function encode(data: unknown): Buffer {
  const b = Buffer.from(stringifyWire(data), 'utf8');
  if (b.length > ZK_DATA_MAX_BYTES) throw new ZkError('badArguments', `(data of ${b.length} bytes exceeds ${ZK_DATA_MAX_BYTES})`);
  return b;
}

function decode(b: Buffer | null | undefined): unknown {
  if (!b || b.length === 0) return null;
  try {
    return parseWire(b.toString('utf8'));
  } catch {
    return b.toString('utf8'); // written by another tool: raw text
  }
}

function fail(e: unknown, path: string): Error {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number') {
    const c = CODES.get(code);
    if (c) return new ZkError(c, path);
    if (code === EX.SESSION_EXPIRED) return new ZkLost(true, path);
    if (code === EX.CONNECTION_LOSS || code === EX.OPERATION_TIMEOUT) return new ZkLost(false, path);
  }
  return e instanceof Error ? e : new Error(String(e));
}

export interface ZkClientOptions {
  readonly sessionTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /**
   * How often the library retries an operation that failed with ConnectionLoss (default 3, with
   * its own back-off of a second and more). A bridge that reports losses to its caller, who
   * retries by itself, passes 0.
   */
  readonly retries?: number;
}

export class ZkClient {
  private expiredFlag = false;
  private connectedFlag = true;
  private readonly expiryHandlers: (() => void)[] = [];

  private constructor(private readonly c: zookeeper.Client) {
    c.on('expired', () => {
      this.expiredFlag = true;
      this.connectedFlag = false;
      for (const h of this.expiryHandlers) h();
    });
    c.on('disconnected', () => (this.connectedFlag = false));
    c.on('connected', () => (this.connectedFlag = true));
  }

  /** Connects and resolves once the session is established. */
  static connect(connectString: string, o: ZkClientOptions = {}): Promise<ZkClient> {
    const c = zookeeper.createClient(connectString, { sessionTimeout: o.sessionTimeoutMs ?? 10_000, spinDelay: 200, retries: o.retries ?? 3 });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        c.close();
        reject(new Error(`zookeeper ${connectString}: no session within ${o.connectTimeoutMs ?? 10_000} ms`));
      }, o.connectTimeoutMs ?? 10_000);
      c.once('connected', () => {
        clearTimeout(timer);
        resolve(new ZkClient(c));
      });
      c.connect();
    });
  }

  /** The session id (as ZooKeeper's 64-bit id) and its negotiated timeout. */
  get session(): { readonly id: bigint; readonly timeoutMs: number } {
    return { id: u64(this.c.getSessionId()), timeoutMs: this.c.getSessionTimeout() };
  }

  get expired(): boolean {
    return this.expiredFlag;
  }

  /** Connected to a server now (false while the library reconnects, and after expiry). */
  get connected(): boolean {
    return this.connectedFlag && !this.expiredFlag;
  }

  onExpired(h: () => void): void {
    this.expiryHandlers.push(h);
  }

  /** Creates a znode; resolves with its path (with the sequence suffix for sequential modes). */
  create(path: string, data: unknown, mode: CreateMode): Promise<string> {
    return new Promise((resolve, reject) => this.c.create(path, encode(data), MODES[mode], (e, p) => (e ? reject(fail(e, path)) : resolve(p))));
  }

  /** Creates every missing persistent ancestor and the path itself (no error when it exists). */
  mkdirp(path: string): Promise<string> {
    return new Promise((resolve, reject) => this.c.mkdirp(path, (e, p) => (e ? reject(fail(e, path)) : resolve(p))));
  }

  delete(path: string, version = -1): Promise<void> {
    return new Promise((resolve, reject) => this.c.remove(path, version, (e) => (e ? reject(fail(e, path)) : resolve())));
  }

  setData(path: string, data: unknown, version = -1): Promise<ZkStat> {
    return new Promise((resolve, reject) => this.c.setData(path, encode(data), version, (e, s) => (e ? reject(fail(e, path)) : resolve(stat(s)))));
  }

  /** Reads a znode; with `watch`, the next change or deletion fires it once. */
  getData(path: string, watch?: (ev: WatchEvent) => void): Promise<{ data: unknown; stat: ZkStat }> {
    return new Promise((resolve, reject) => {
      const cb = (e: unknown, d: Buffer, s: zookeeper.Stat) => (e ? reject(fail(e, path)) : resolve({ data: decode(d), stat: stat(s) }));
      if (watch) this.c.getData(path, (ev) => watch(toEvent(ev)), cb);
      else this.c.getData(path, cb);
    });
  }

  /** Lists child names, sorted; with `watch`, the next child change fires it once. */
  getChildren(path: string, watch?: (ev: WatchEvent) => void): Promise<{ children: string[]; stat: ZkStat }> {
    return new Promise((resolve, reject) => {
      const cb = (e: unknown, ch: string[], s: zookeeper.Stat) => (e ? reject(fail(e, path)) : resolve({ children: [...ch].sort(), stat: stat(s) }));
      if (watch) this.c.getChildren(path, (ev) => watch(toEvent(ev)), cb);
      else this.c.getChildren(path, cb);
    });
  }

  /** Stat of a znode, or null; with `watch`, its creation, change or deletion fires it once. */
  exists(path: string, watch?: (ev: WatchEvent) => void): Promise<ZkStat | null> {
    return new Promise((resolve, reject) => {
      const cb = (e: unknown, s: zookeeper.Stat) => (e ? reject(fail(e, path)) : resolve(s ? stat(s) : null));
      if (watch) this.c.exists(path, (ev) => watch(toEvent(ev)), cb);
      else this.c.exists(path, cb);
    });
  }

  /**
   * A persistent child watch, emulated (see the header): calls `onChange` with the children that
   * appeared and disappeared since the last read, in name order, until the returned function is
   * called. The first call reports every existing child as added.
   */
  watchChildren(path: string, onChange: (added: string[], removed: string[]) => void, onError: (e: Error) => void = () => undefined): () => void {
    let known = new Set<string>();
    let stopped = false;
    const round = (): void => {
      if (stopped) return;
      this.getChildren(path, () => round()).then(
        ({ children }) => {
          if (stopped) return;
          const now = new Set(children);
          const added = children.filter((c) => !known.has(c));
          const removed = [...known].filter((c) => !now.has(c)).sort();
          known = now;
          if (added.length || removed.length) onChange(added, removed);
        },
        (e: Error) => {
          if (!stopped) onError(e);
        },
      );
    };
    round();
    return () => {
      stopped = true;
    };
  }

  /** Closes the session: its ephemeral znodes go at once. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const done = setTimeout(resolve, 2000);
      this.c.once('disconnected', () => {
        clearTimeout(done);
        resolve();
      });
      this.c.close();
    });
  }
}

function toEvent(ev: zookeeper.Event): WatchEvent {
  const type = EVENTS.get(ev.getType());
  if (!type) throw new Error(`unexpected zookeeper event ${ev.toString()}`);
  return { type, path: ev.getPath() };
}
