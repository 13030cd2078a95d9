/**
 * The coordination service as a state machine (ZooKeeper's role; protocol in coord-api.ts). One
 * node holds a linearizable znode tree: it executes requests in arrival order, answers over the
 * requester's FIFO channel, expires sessions whose leases lapse, and fires watches in order.
 *
 * In the simulator this node is not faultable: ZooKeeper is itself a replicated service, outside
 * Boki's fault model (spec §6.3, "needed only for reconfiguration"). Partitions still cut it off
 * from nodes, which is how lease expiry, and so failure detection, happen.
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Effect, Machine, NodeId } from '../core/contract.ts';
import { send, setTimer } from '../core/contract.ts';
import type { CreateMode, Stat, WatchEventType, WatchMode, ZkErr, ZkRequest, ZkResponse } from './coord-api.ts';
import { sequenceSuffix, ZK_SETUP_PATHS } from './coord-api.ts';

export interface CoordConfig {
  readonly setupPaths: readonly string[];
  /** Bounds on the tree and on sessions (limits on everything). */
  readonly znodesMax: number;
  readonly sessionsMax: number;
}

export const DEFAULT_COORD_CONFIG: CoordConfig = { setupPaths: ZK_SETUP_PATHS, znodesMax: 100_000, sessionsMax: 10_000 };

interface Znode {
  data: unknown;
  czxid: number;
  mzxid: number;
  version: number;
  ephemeralOwner: number;
  children: Set<string>;
  /** Counter for sequential children (ZooKeeper derives it from cversion). */
  seq: number;
}

interface Session {
  readonly id: number;
  readonly owner: NodeId;
  readonly timeoutUs: number;
  deadlineUs: number;
  /** Messages sent to this session so far (the `n` of the last one). */
  n: number;
  ephemerals: Set<string>;
  /** Persistent watches: path -> mode. */
  persistent: Map<string, WatchMode>;
  /** One-shot watches. */
  dataWatches: Set<string>;
  childWatches: Set<string>;
}

export interface CoordState {
  readonly cfg: CoordConfig;
  zxid: number;
  nextSession: number;
  nodes: Map<string, Znode>;
  sessions: Map<number, Session>;
  expiryArmedUs: number;
}

type Eff = Effect<ZkResponse>;

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function validPath(path: string): boolean {
  return path.length > 1 && path.length <= 1024 && path.startsWith('/') && !path.endsWith('/') && !path.includes('//');
}

function statOf(z: Znode): Stat {
  return { czxid: z.czxid, mzxid: z.mzxid, version: z.version, ephemeralOwner: z.ephemeralOwner, numChildren: z.children.size };
}

function freshTree(cfg: CoordConfig): Map<string, Znode> {
  const nodes = new Map<string, Znode>();
  nodes.set('/', { data: null, czxid: 0, mzxid: 0, version: 0, ephemeralOwner: 0, children: new Set(), seq: 0 });
  for (const p of cfg.setupPaths) {
    assert(validPath(p), `setup path ${p} must be absolute`);
    const parent = nodes.get(parentOf(p));
    assert(parent !== undefined, `setup path ${p} needs its parent created first`);
    parent.children.add(baseName(p));
    nodes.set(p, { data: null, czxid: 0, mzxid: 0, version: 0, ephemeralOwner: 0, children: new Set(), seq: 0 });
  }
  return nodes;
}

export const coordMachine: Machine<CoordConfig, CoordState, ZkRequest | ZkResponse> = {
  role: 'coord',
  init: (cfg) => ({ cfg, zxid: 0, nextSession: 1, nodes: freshTree(cfg), sessions: new Map(), expiryArmedUs: -1 }),
  // Not faultable in the simulator; a restart (if a scenario forces one) starts an empty ensemble.
  recover: (cfg) => ({ cfg, zxid: 0, nextSession: 1, nodes: freshTree(cfg), sessions: new Map(), expiryArmedUs: -1 }),
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
      case 'client':
      case 'response':
        break;
      case 'timer':
        if (input.timer === 'expire') {
          s.expiryArmedUs = -1;
          expireSessions(s, ctx.nowUs, out);
          armExpiry(s, ctx.nowUs, out);
        }
        break;
      case 'message':
        onRequest(s, input.from, input.msg as ZkRequest, ctx.nowUs, out);
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function armExpiry(s: CoordState, nowUs: number, out: Eff[]): void {
  let next = Infinity;
  for (const sess of s.sessions.values()) if (sess.deadlineUs < next) next = sess.deadlineUs;
  if (next === Infinity) return;
  if (s.expiryArmedUs !== -1 && s.expiryArmedUs <= next) return;
  s.expiryArmedUs = next;
  out.push(setTimer('expire', Math.max(1, next - nowUs)));
}

function expireSessions(s: CoordState, nowUs: number, out: Eff[]): void {
  const dead: Session[] = [];
  for (const sess of s.sessions.values()) if (sess.deadlineUs <= nowUs) dead.push(sess);
  for (const sess of dead) endSession(s, sess, out);
}

function endSession(s: CoordState, sess: Session, out: Eff[]): void {
  s.sessions.delete(sess.id);
  // ZooKeeper deletes a session's ephemerals in one transaction; their watches fire in path order.
  for (const path of [...sess.ephemerals].sort()) {
    const z = s.nodes.get(path);
    if (!z || z.ephemeralOwner !== sess.id) continue;
    deleteNode(s, path, out);
  }
}

function onRequest(s: CoordState, from: NodeId, req: ZkRequest, nowUs: number, out: Eff[]): void {
  if (req.type === 'zk.connect') {
    assert(s.sessions.size < s.cfg.sessionsMax, 'too many coordination sessions');
    const id = s.nextSession++;
    const timeoutUs = Math.max(1, Math.round(req.timeoutMs * 1000));
    const sess: Session = { id, owner: from, timeoutUs, deadlineUs: nowUs + timeoutUs, n: 0, ephemerals: new Set(), persistent: new Map(), dataWatches: new Set(), childWatches: new Set() };
    s.sessions.set(id, sess);
    sess.n++;
    out.push(send(from, { type: 'zk.connected', xid: req.xid, session: id, timeoutMs: req.timeoutMs, n: sess.n }));
    armExpiry(s, nowUs, out);
    return;
  }
  const sess = s.sessions.get(req.session);
  if (!sess || sess.owner !== from) {
    out.push(send(from, { type: 'zk.expired', session: req.session }));
    return;
  }
  sess.deadlineUs = nowUs + sess.timeoutUs;
  switch (req.type) {
    case 'zk.ping':
      sess.n++;
      out.push(send(from, { type: 'zk.pong', session: sess.id, n: sess.n }));
      return;
    case 'zk.close':
      reply(s, sess, req.xid, 'ok', {}, out);
      endSession(s, sess, out);
      return;
    case 'zk.create':
      return create(s, sess, req.xid, req.path, req.data, req.mode, out);
    case 'zk.delete': {
      const z = s.nodes.get(req.path);
      if (!z || req.path === '/') return reply(s, sess, req.xid, 'noNode', {}, out);
      if (req.version !== -1 && req.version !== z.version) return reply(s, sess, req.xid, 'badVersion', {}, out);
      if (z.children.size > 0) return reply(s, sess, req.xid, 'notEmpty', {}, out);
      deleteNode(s, req.path, out);
      return reply(s, sess, req.xid, 'ok', {}, out);
    }
    case 'zk.setData': {
      const z = s.nodes.get(req.path);
      if (!z) return reply(s, sess, req.xid, 'noNode', {}, out);
      if (req.version !== -1 && req.version !== z.version) return reply(s, sess, req.xid, 'badVersion', {}, out);
      z.data = req.data;
      z.version++;
      z.mzxid = ++s.zxid;
      fire(s, req.path, 'NodeDataChanged', out);
      return reply(s, sess, req.xid, 'ok', { stat: statOf(z) }, out);
    }
    case 'zk.getData': {
      const z = s.nodes.get(req.path);
      if (!z) return reply(s, sess, req.xid, 'noNode', {}, out);
      if (req.watch) sess.dataWatches.add(req.path);
      return reply(s, sess, req.xid, 'ok', { data: z.data, stat: statOf(z) }, out);
    }
    case 'zk.getChildren': {
      const z = s.nodes.get(req.path);
      if (!z) return reply(s, sess, req.xid, 'noNode', {}, out);
      if (req.watch) sess.childWatches.add(req.path);
      return reply(s, sess, req.xid, 'ok', { children: [...z.children].sort(), stat: statOf(z) }, out);
    }
    case 'zk.addWatch':
      if (!validPath(req.path) && req.path !== '/') return reply(s, sess, req.xid, 'badArguments', {}, out);
      sess.persistent.set(req.path, req.mode);
      return reply(s, sess, req.xid, 'ok', {}, out);
    default:
      assertNever(req, 'coordination request');
  }
}

function reply(s: CoordState, sess: Session, xid: number, err: ZkErr, extra: { path?: string; data?: unknown; stat?: Stat; children?: readonly string[] }, out: Eff[]): void {
  sess.n++;
  out.push(send(sess.owner, { type: 'zk.reply', session: sess.id, xid, n: sess.n, zxid: s.zxid, err, ...extra }));
}

function create(s: CoordState, sess: Session, xid: number, path: string, data: unknown, mode: CreateMode, out: Eff[]): void {
  if (!validPath(path)) return reply(s, sess, xid, 'badArguments', {}, out);
  const parentPath = parentOf(path);
  const parent = s.nodes.get(parentPath);
  if (!parent) return reply(s, sess, xid, 'noNode', {}, out);
  if (parent.ephemeralOwner !== 0) return reply(s, sess, xid, 'noChildrenForEphemerals', {}, out);
  let full = path;
  if (mode === 'persistentSequential' || mode === 'ephemeralSequential') full = path + sequenceSuffix(parent.seq++);
  if (s.nodes.has(full)) return reply(s, sess, xid, 'nodeExists', {}, out);
  assert(s.nodes.size < s.cfg.znodesMax, 'znode tree over its limit');
  const ephemeral = mode === 'ephemeral' || mode === 'ephemeralSequential';
  const zxid = ++s.zxid;
  const z: Znode = { data, czxid: zxid, mzxid: zxid, version: 0, ephemeralOwner: ephemeral ? sess.id : 0, children: new Set(), seq: 0 };
  s.nodes.set(full, z);
  parent.children.add(baseName(full));
  if (ephemeral) sess.ephemerals.add(full);
  fire(s, full, 'NodeCreated', out);
  fire(s, parentPath, 'NodeChildrenChanged', out);
  reply(s, sess, xid, 'ok', { path: full, stat: statOf(z) }, out);
}

function deleteNode(s: CoordState, path: string, out: Eff[]): void {
  const z = s.nodes.get(path);
  if (!z) return;
  assert(z.children.size === 0, 'only leaves are deleted');
  s.nodes.delete(path);
  const parentPath = parentOf(path);
  s.nodes.get(parentPath)?.children.delete(baseName(path));
  ++s.zxid;
  if (z.ephemeralOwner !== 0) s.sessions.get(z.ephemeralOwner)?.ephemerals.delete(path);
  fire(s, path, 'NodeDeleted', out);
  fire(s, parentPath, 'NodeChildrenChanged', out);
}

/** Fires the watches a change at `path` triggers, session by session in id order. */
function fire(s: CoordState, path: string, event: WatchEventType, out: Eff[]): void {
  for (const sess of s.sessions.values()) {
    let hit = false;
    if (event === 'NodeChildrenChanged') {
      if (sess.childWatches.delete(path)) hit = true;
      if (sess.persistent.get(path) === 'persistent') hit = true;
    } else {
      if (sess.dataWatches.delete(path)) hit = true;
      if (!hit && persistentCovers(sess, path)) hit = true;
      if (event === 'NodeDeleted') sess.childWatches.delete(path);
    }
    if (!hit) continue;
    sess.n++;
    out.push(send(sess.owner, { type: 'zk.watch', session: sess.id, n: sess.n, zxid: s.zxid, event, path }));
  }
}

function persistentCovers(sess: Session, path: string): boolean {
  if (sess.persistent.size === 0) return false;
  if (sess.persistent.has(path)) return true;
  for (let p = parentOf(path); ; p = parentOf(p)) {
    if (sess.persistent.get(p) === 'persistentRecursive') return true;
    if (p === '/') return false;
  }
}
