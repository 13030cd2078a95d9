/**
 * The coordination service in real mode is a real ZooKeeper. Boki's nodes speak the protocol of
 * src/boki/coord-api.ts to a node named `zk`; in a real cluster each node process embeds one
 * `CoordBridge`, and its host hands the bridge every message the machine sends to `zk` and feeds
 * the bridge's answers back to the machine as messages from `zk`. The machine cannot tell the
 * bridge from the simulated coordination service (src/boki/coord.ts): both serve the same
 * messages with ZooKeeper's semantics, and here ZooKeeper itself provides them.
 *
 * Mapping, request by request:
 * - `zk.connect {timeoutMs}` opens a real ZooKeeper session with that session timeout (ZooKeeper
 *   clamps it to [2, 20] ticks) and answers `zk.connected` with a bridge-local session number.
 *   Each node holds one session at a time, so a new connect closes the bridge's older sessions
 *   (the client abandoned them; closing deletes their ephemerals at once, as expiry would later).
 * - create / delete / setData / getData / getChildren map one to one; errors keep ZooKeeper's
 *   names. Data is stored in the wire encoding of src/core/json.ts; more than 1 MB is refused
 *   with badArguments before it reaches ZooKeeper.
 * - One-shot watches are ZooKeeper's own. Persistent and recursive watches (ZooKeeper 3.6's
 *   `addWatch`) are not in node-zookeeper-client, so they are emulated by re-arming one-shot
 *   watches: children of the watched path are diffed against the last listing and reported as
 *   NodeCreated / NodeDeleted (recursive mode) or NodeChildrenChanged (persistent mode); the
 *   path's own creation, data change and deletion come from a re-armed data/exists watch. The
 *   `addWatch` reply is sent once the first listing is in, so every change after the reply is
 *   reported. Emulation limits: a recursive watch covers the path and its children, not deeper
 *   levels (Boki's directories hold leaves only); a child's creation or deletion is reported
 *   after the re-listing it takes to find it, so later than ZooKeeper would (possibly after the
 *   reply to a later request of the same session); and a child created and deleted between two
 *   listings is not seen (Boki never deletes what it watches for, except ephemeral
 *   registrations, whose controller re-lists the directory anyway). When a one-shot watch of the
 *   session already delivered an event the emulation covers, the emulation skips it: ZooKeeper
 *   notifies a session once per event.
 * - Sessions and leases: the Boki client's `zk.ping` is answered here (`zk.pong`) while the real
 *   session is connected; ZooKeeper's own lease is kept by the library's pings over the real
 *   connection, so a killed or stopped process loses its session after the session timeout and
 *   its ephemeral registration disappears: that is Boki's failure detector in real mode.
 * - Expiry: once ZooKeeper reports the session expired, every later request on it is answered
 *   `zk.expired`, and the client opens a new session, exactly as with the simulated service.
 * - Connection loss: while the library reconnects, or when a request fails with ConnectionLoss,
 *   the answer is dropped and the session's message counter `n` still advances, so the client
 *   sees a gap on the next message and re-reads what it watches, as a ZooKeeper client does after
 *   a ConnectionLoss. A request whose reply is dropped times out on the client and is retried.
 * - `zxid` in replies is the znode's mzxid when the reply carries a stat, else 0 (the library
 *   exposes no per-reply zxid; Boki never reads it). `ephemeralOwner` is the bridge-local session
 *   number for this bridge's own sessions and 1 for any other owner; a create's stat is read just
 *   after it (the library has no create2).
 * - Ordering: replies on a session leave in request order (a reorder buffer enforces it), watch
 *   events as ZooKeeper delivers them, which is before the reply to any later request.
 */
import type { CreateMode, Stat, WatchMode, ZkErr, ZkRequest, ZkResponse } from '../../../boki/coord-api.ts';
import { ZkClient, ZkError, ZkLost, type ZkStat, type WatchEvent } from './client.ts';

export interface CoordBridgeOptions {
  /** The ZooKeeper connect string (host:port[,host:port...][/chroot]). */
  readonly connect: string;
  /** Delivers one answer to the node's machine, as a message from the coordination node. */
  readonly deliver: (msg: ZkResponse) => void;
  readonly log?: (line: string) => void;
  /** How long to wait for ZooKeeper to establish a session (default 10 s). */
  readonly connectTimeoutMs?: number;
}

/** Sessions a bridge keeps open at most (one is normal; a few while old ones close). */
const SESSIONS_MAX = 16;
/** Requests awaiting ZooKeeper per session, at most. */
const INFLIGHT_MAX = 10_000;
/** Emulated persistent watches per session, at most. */
const WATCHES_MAX = 64;

/** An answer waiting in the reorder buffer: a reply or a pong, numbered when it leaves. */
type Pending = Extract<ZkResponse, { type: 'zk.reply' }> | Extract<ZkResponse, { type: 'zk.pong' }>;
type ReplyExtra = { path?: string; data?: unknown; stat?: Stat; children?: readonly string[] };

interface BridgeSession {
  readonly id: number;
  readonly timeoutMs: number;
  zk: ZkClient | null;
  phase: 'connecting' | 'live' | 'expired' | 'closed';
  /** Messages counted so far (sent or dropped): the `n` of the last one. */
  n: number;
  /** Reorder buffer: request index -> its answer (null: dropped), sent in index order. */
  nextIn: number;
  nextOut: number;
  readonly out: Map<number, Pending | null>;
  readonly watches: Map<string, PersistentWatch>;
  /**
   * Events a one-shot watch already delivered that an emulated persistent watch covers too:
   * ZooKeeper notifies a session once per event, so the emulation skips them.
   */
  readonly delivered: Map<string, number>;
}

interface PersistentWatch {
  readonly path: string;
  readonly mode: WatchMode;
  known: Set<string> | null;
  exists: boolean | null;
  version: number;
  stopped: boolean;
}

export class CoordBridge {
  private readonly sessions = new Map<number, BridgeSession>();
  private nextSession = 1;
  private closed = false;
  readonly counters = { sessions: 0, requests: 0, dropped: 0, expired: 0, watchEvents: 0 };

  constructor(private readonly o: CoordBridgeOptions) {}

  /** One message from the machine to the coordination service. */
  handle(req: ZkRequest): void {
    if (this.closed) return;
    this.counters.requests++;
    if (req.type === 'zk.connect') return void this.open(req.xid, req.timeoutMs);
    const s = this.sessions.get(req.session);
    if (!s || s.phase === 'expired' || s.phase === 'closed' || s.phase === 'connecting' || s.zk === null) {
      // A session this bridge never opened, one that expired or was closed: the request is not
      // executed. (A request on a session still connecting cannot happen: the client learns the
      // session number from `zk.connected`.)
      this.counters.expired++;
      this.o.deliver({ type: 'zk.expired', session: req.session });
      return;
    }
    if (s.zk.expired) return this.expire(s, req.session);
    switch (req.type) {
      case 'zk.ping': {
        // In order with the replies still pending, as ZooKeeper answers a session in order; while
        // the library reconnects, the pong is lost and the client sees the gap later.
        const idx = s.nextIn++;
        s.out.set(idx, s.zk.connected ? { type: 'zk.pong', session: s.id, n: 0 } : null);
        this.flush(s);
        return;
      }
      case 'zk.close':
        this.track(s, req.xid, Promise.resolve({}));
        void this.closeSession(s);
        return;
      case 'zk.create':
        return this.create(s, req.xid, req.path, req.data, req.mode);
      case 'zk.delete':
        return this.track(
          s,
          req.xid,
          s.zk.delete(req.path, req.version).then(() => ({})),
        );
      case 'zk.setData':
        return this.track(
          s,
          req.xid,
          s.zk.setData(req.path, req.data, req.version).then((st) => ({ stat: this.stat(st) })),
        );
      case 'zk.getData':
        return this.track(
          s,
          req.xid,
          s.zk.getData(req.path, req.watch ? (ev) => this.oneShot(s, ev) : undefined).then((r) => ({ data: r.data, stat: this.stat(r.stat) })),
        );
      case 'zk.getChildren':
        return this.track(
          s,
          req.xid,
          s.zk.getChildren(req.path, req.watch ? (ev) => this.oneShot(s, ev) : undefined).then((r) => ({ children: r.children, stat: this.stat(r.stat) })),
        );
      case 'zk.addWatch':
        return this.track(s, req.xid, this.addWatch(s, req.path, req.mode).then(() => ({})));
      default: {
        const never: never = req;
        void never;
      }
    }
  }

  /** Closes every session (their ephemerals go at once) and stops answering. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions.values()].map((s) => this.closeSession(s)));
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  // -------------------------------------------------------------------------------------------

  private open(xid: number, timeoutMs: number): void {
    // The client holds one session at a time: whatever it opened before is abandoned.
    for (const old of this.sessions.values()) void this.closeSession(old);
    if (this.sessions.size >= SESSIONS_MAX) {
      this.o.log?.(`coordination bridge: over ${SESSIONS_MAX} sessions open; connect ignored`);
      return;
    }
    const id = this.nextSession++;
    const s: BridgeSession = { id, timeoutMs, zk: null, phase: 'connecting', n: 0, nextIn: 0, nextOut: 0, out: new Map(), watches: new Map(), delivered: new Map() };
    this.sessions.set(id, s);
    this.counters.sessions++;
    ZkClient.connect(this.o.connect, { sessionTimeoutMs: Math.max(1, Math.round(timeoutMs)), connectTimeoutMs: this.o.connectTimeoutMs ?? 10_000, retries: 0 }).then(
      (zk) => {
        if (s.phase !== 'connecting' || this.closed) {
          void zk.close();
          return;
        }
        s.zk = zk;
        s.phase = 'live';
        zk.onExpired(() => {
          if (s.phase === 'live') this.o.log?.(`coordination bridge: ZooKeeper expired session ${s.id}`);
          s.phase = s.phase === 'live' ? 'expired' : s.phase;
          for (const w of s.watches.values()) w.stopped = true;
        });
        s.n++;
        this.o.deliver({ type: 'zk.connected', xid, session: id, timeoutMs: zk.session.timeoutMs, n: s.n });
      },
      (e: Error) => {
        // No session: the client's connect times out and it tries again.
        this.sessions.delete(id);
        this.o.log?.(`coordination bridge: ${e.message}`);
      },
    );
  }

  private expire(s: BridgeSession, session: number): void {
    s.phase = 'expired';
    this.counters.expired++;
    this.o.deliver({ type: 'zk.expired', session });
    void this.closeSession(s);
  }

  private async closeSession(s: BridgeSession): Promise<void> {
    if (s.phase === 'closed') return;
    const wasConnecting = s.phase === 'connecting';
    s.phase = 'closed';
    for (const w of s.watches.values()) w.stopped = true;
    this.sessions.delete(s.id);
    if (!wasConnecting && s.zk) await s.zk.close();
  }

  /**
   * A create, answered with the created path and its stat. The library has no create2, so the
   * stat is read right after the create (the znode may have changed in between; Boki's creates
   * are never changed afterwards).
   */
  private create(s: BridgeSession, xid: number, path: string, data: unknown, mode: CreateMode): void {
    const zk = s.zk!;
    this.track(
      s,
      xid,
      zk.create(path, data, mode).then(async (created) => {
        const st = await zk.exists(created).catch(() => null);
        return st ? { path: created, stat: this.stat(st) } : { path: created };
      }),
    );
  }

  /** Queues the answer to request `xid` in arrival order; sends whatever is ready. */
  private track(s: BridgeSession, xid: number, op: Promise<ReplyExtra>): void {
    const idx = s.nextIn++;
    if (idx - s.nextOut >= INFLIGHT_MAX) {
      // A client far ahead of ZooKeeper: drop (it times the request out and retries).
      s.out.set(idx, null);
      this.flush(s);
      return;
    }
    op.then(
      (extra) => this.answer(s, idx, xid, 'ok', extra),
      (e: unknown) => {
        if (e instanceof ZkError) return this.answer(s, idx, xid, e.code, {});
        if (e instanceof ZkLost && e.expired) s.phase = s.phase === 'live' ? 'expired' : s.phase;
        // Unknown outcome: count the reply as lost so the client notices the gap.
        s.out.set(idx, null);
        this.flush(s);
      },
    );
  }

  private answer(s: BridgeSession, idx: number, xid: number, err: ZkErr, extra: ReplyExtra): void {
    const zxid = extra.stat ? extra.stat.mzxid : 0;
    s.out.set(idx, { type: 'zk.reply', session: s.id, xid, n: 0, zxid, err, ...extra });
    this.flush(s);
  }

  /** A one-shot watch fired: deliver it, and spare the emulation a duplicate. */
  private oneShot(s: BridgeSession, ev: WatchEvent): void {
    if (this.covered(s, ev.type, ev.path)) {
      const k = `${ev.type} ${ev.path}`;
      s.delivered.set(k, (s.delivered.get(k) ?? 0) + 1);
    }
    this.event(s, ev.type, ev.path);
  }

  /** Would an emulated persistent watch of this session report this event? */
  private covered(s: BridgeSession, type: WatchEvent['type'], path: string): boolean {
    const own = s.watches.get(path);
    if (own && !own.stopped && type !== 'NodeChildrenChanged') return true;
    if (own && !own.stopped && own.mode === 'persistent') return true;
    const i = path.lastIndexOf('/');
    const parent = s.watches.get(i <= 0 ? '/' : path.slice(0, i));
    return parent !== undefined && !parent.stopped && parent.mode === 'persistentRecursive' && (type === 'NodeCreated' || type === 'NodeDeleted');
  }

  /** An event of the emulation, unless a one-shot watch already delivered it. */
  private emulated(s: BridgeSession, type: WatchEvent['type'], path: string): void {
    const k = `${type} ${path}`;
    const d = s.delivered.get(k);
    if (d !== undefined) {
      if (d <= 1) s.delivered.delete(k);
      else s.delivered.set(k, d - 1);
      return;
    }
    this.event(s, type, path);
  }

  private flush(s: BridgeSession): void {
    for (;;) {
      if (!s.out.has(s.nextOut)) return;
      const r = s.out.get(s.nextOut)!;
      s.out.delete(s.nextOut);
      s.nextOut++;
      if (s.phase === 'closed' && this.closed) continue;
      s.n++;
      if (r === null) {
        this.counters.dropped++;
        continue;
      }
      this.o.deliver({ ...r, n: s.n });
    }
  }

  private event(s: BridgeSession, type: WatchEvent['type'], path: string): void {
    if (s.phase !== 'live') return;
    s.n++;
    this.counters.watchEvents++;
    this.o.deliver({ type: 'zk.watch', session: s.id, n: s.n, zxid: 0, event: type, path });
  }

  private stat(z: ZkStat): Stat {
    let owner = 0;
    if (z.ephemeralOwner !== 0n) {
      owner = 1;
      for (const s of this.sessions.values()) if (s.zk && s.zk.session.id === z.ephemeralOwner) owner = s.id;
    }
    return { czxid: Number(z.czxid), mzxid: Number(z.mzxid), version: z.version, ephemeralOwner: owner, numChildren: z.numChildren };
  }

  // -------------------------------------------------------------------------------------------
  // Emulated persistent watches

  /** Registers the watch; resolves once its first listing is in (so later changes are seen). */
  private addWatch(s: BridgeSession, path: string, mode: WatchMode): Promise<void> {
    if (!/^\/[^\0]*$/.test(path) || (path.length > 1 && path.endsWith('/'))) return Promise.reject(new ZkError('badArguments', path));
    const old = s.watches.get(path);
    if (old) old.stopped = true;
    if (s.watches.size >= WATCHES_MAX && !old) return Promise.reject(new ZkError('badArguments', path));
    const w: PersistentWatch = { path, mode, known: null, exists: null, version: -1, stopped: false };
    s.watches.set(path, w);
    return Promise.all([this.childRound(s, w), this.selfRound(s, w)]).then(() => undefined);
  }

  private child(w: PersistentWatch, name: string): string {
    return w.path === '/' ? `/${name}` : `${w.path}/${name}`;
  }

  /** Lists the children with a one-shot child watch that calls the next round; reports the diff. */
  private childRound(s: BridgeSession, w: PersistentWatch): Promise<void> {
    if (w.stopped || s.zk === null) return Promise.resolve();
    return s.zk
      .getChildren(w.path, () => void this.childRound(s, w).catch(() => undefined))
      .then(({ children }) => {
        if (w.stopped) return;
        const now = new Set(children);
        const first = w.known === null;
        const before = w.known ?? new Set<string>();
        w.known = now;
        if (first) return;
        const added = children.filter((c) => !before.has(c));
        const removed = [...before].filter((c) => !now.has(c)).sort();
        if (w.mode === 'persistent') {
          if (added.length > 0 || removed.length > 0) this.emulated(s, 'NodeChildrenChanged', w.path);
          return;
        }
        for (const c of added) this.emulated(s, 'NodeCreated', this.child(w, c));
        for (const c of removed) this.emulated(s, 'NodeDeleted', this.child(w, c));
      })
      .catch((e: unknown) => {
        if (w.stopped) return;
        if (e instanceof ZkError && e.code === 'noNode') {
          // The path is gone (or not there yet): its own watch reports it; list again once it is.
          if (w.known !== null && w.mode === 'persistentRecursive') for (const c of [...w.known].sort()) this.emulated(s, 'NodeDeleted', this.child(w, c));
          w.known = w.known === null ? null : new Set();
          return;
        }
        // Connection loss: the client sees a gap and re-reads; keep watching.
        if (e instanceof ZkLost && !e.expired) setTimeout(() => void this.childRound(s, w).catch(() => undefined), 50);
      });
  }

  /**
   * Watches the path itself: creation, data changes, deletion. The event goes out as ZooKeeper
   * notifies it (so, as with a real persistent watch, before the reply to the write that caused
   * it); re-arming then reads the znode, and changes that slipped in between are reported too.
   */
  private selfRound(s: BridgeSession, w: PersistentWatch): Promise<void> {
    if (w.stopped || s.zk === null) return Promise.resolve();
    const onEvent = (ev: WatchEvent) => {
      if (w.stopped) return;
      this.emulated(s, ev.type, w.path);
      if (ev.type === 'NodeCreated') {
        w.exists = true;
        w.version = 0;
        void this.childRound(s, w).catch(() => undefined);
      } else if (ev.type === 'NodeDeleted') {
        w.exists = false;
        w.version = -1;
      } else if (ev.type === 'NodeDataChanged') w.version++;
      void this.selfRound(s, w).catch(() => undefined);
    };
    return s.zk
      .exists(w.path, onEvent)
      .then((st) => {
        if (w.stopped) return;
        const first = w.exists === null;
        const was = w.exists;
        const oldVersion = w.version;
        w.exists = st !== null;
        w.version = st ? st.version : -1;
        if (first) return;
        // What happened between the notification and this read.
        if (!was && st) this.emulated(s, 'NodeCreated', w.path);
        else if (was && !st) this.emulated(s, 'NodeDeleted', w.path);
        else if (st && st.version > oldVersion) for (let v = oldVersion; v < st.version && v < oldVersion + 64; v++) this.emulated(s, 'NodeDataChanged', w.path);
      })
      .catch((e: unknown) => {
        if (w.stopped) return;
        if (e instanceof ZkLost && !e.expired) setTimeout(() => void this.selfRound(s, w).catch(() => undefined), 50);
      });
  }
}
