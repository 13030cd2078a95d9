/**
 * The coordination-service client every Boki node embeds (the prototype's ZKSession), as plain
 * state plus functions that emit effects. It keeps one session alive with heartbeats, registers
 * the node as an ephemeral-sequential znode under /boki/node, watches /boki/view recursively and
 * delivers the view log (freeze, finalize and new-view records) to its node strictly in sequence
 * order, re-reading the directory after a session loss or a detected connection loss.
 *
 * Node code reacts to `ZkEvent`s returned by `zkOnMessage` / `zkOnTimer`; requests that it issues
 * itself carry a `purpose` string that comes back with the reply, or with `lost` when no reply
 * came within the request timeout (the request may or may not have been executed).
 */
import { assert } from '../core/assert.ts';
import type { Effect, NodeId } from '../core/contract.ts';
import { send, setTimer } from '../core/contract.ts';
import type { CreateMode, ZkRequest, ZkResponse } from './coord-api.ts';
import { sequenceOf, ZK_NODES, ZK_VIEWS } from './coord-api.ts';
import type { FinalLog, NodeMessage } from './messages.ts';
import type { View } from './view.ts';

export const ZK_NODE_ID = 'zk';
export const ZK_HEARTBEAT_TIMER = 'zk.hb';

export interface ZkPending {
  readonly req: ZkRequest;
  readonly purpose: string;
  readonly sentUs: number;
}

/** A record of the view log (children of /boki/view), delivered in sequence order. */
export type ViewRecord =
  | { readonly kind: 'new'; readonly view: View; readonly boots: Readonly<Record<string, number>> }
  | { readonly kind: 'freeze'; readonly viewId: number; readonly next: unknown }
  | { readonly kind: 'finalize'; readonly viewId: number; readonly logs: readonly FinalLog[] };

export interface ZkClient {
  readonly self: NodeId;
  readonly role: string;
  readonly heartbeatUs: number;
  readonly timeoutMs: number;
  readonly requestTimeoutUs: number;
  /** Random per boot, so the controller can tell a restart from a reconnection. */
  boot: number;
  /**
   * One past the highest view-log sequence number in this boot's first directory listing (-1
   * before it arrives). A restarted node treats records below it as history it lost state for.
   */
  firstListingEnd: number;
  session: number;
  connectXid: number;
  connectSentUs: number;
  xid: number;
  expectN: number;
  pending: Map<number, ZkPending>;
  /** The view log: next sequence number to deliver, and fetched records waiting for it. */
  nextViewSeq: number;
  fetched: Map<number, ViewRecord>;
  fetching: Set<number>;
  /** Extra directories this node watches recursively (the controller's). */
  readonly watchDirs: readonly string[];
}

export type ZkEvent =
  | { readonly k: 'session' }
  | { readonly k: 'expired' }
  | { readonly k: 'gap' }
  | { readonly k: 'reply'; readonly purpose: string; readonly req: ZkRequest; readonly rep: Extract<ZkResponse, { type: 'zk.reply' }> }
  | { readonly k: 'lost'; readonly purpose: string; readonly req: ZkRequest }
  | { readonly k: 'watch'; readonly event: string; readonly path: string }
  | { readonly k: 'view'; readonly seq: number; readonly rec: ViewRecord };

type Eff = Effect<NodeMessage>;

export function newZkClient(self: NodeId, role: string, heartbeatMs: number, timeoutMs: number, boot: number, watchDirs: readonly string[] = []): ZkClient {
  const heartbeatUs = Math.max(1, Math.round(heartbeatMs * 1000));
  return {
    self,
    role,
    heartbeatUs,
    timeoutMs,
    // A reply slower than three heartbeats is taken as lost; the owner retries by purpose.
    requestTimeoutUs: 3 * heartbeatUs,
    boot,
    session: 0,
    connectXid: 0,
    connectSentUs: 0,
    xid: 0,
    expectN: 0,
    pending: new Map(),
    firstListingEnd: -1,
    nextViewSeq: 0,
    fetched: new Map(),
    fetching: new Set(),
    watchDirs,
  };
}

/** Opens a session; the heartbeat timer drives everything after that. */
export function zkStart(c: ZkClient, nowUs: number, out: Eff[]): void {
  connect(c, nowUs, out);
  out.push(setTimer(ZK_HEARTBEAT_TIMER, c.heartbeatUs));
}

function connect(c: ZkClient, nowUs: number, out: Eff[]): void {
  c.session = 0;
  c.pending.clear();
  c.fetching.clear();
  c.connectXid = ++c.xid;
  c.connectSentUs = nowUs;
  out.push(send(ZK_NODE_ID, { type: 'zk.connect', xid: c.connectXid, timeoutMs: c.timeoutMs }));
}

/** Issues a request on the current session; returns false when there is no session yet. */
export function zkRequest(c: ZkClient, nowUs: number, purpose: string, make: (session: number, xid: number) => ZkRequest, out: Eff[]): boolean {
  if (c.session === 0) return false;
  assert(c.pending.size < 10_000, 'coordination requests pile up');
  const xid = ++c.xid;
  const req = make(c.session, xid);
  c.pending.set(xid, { req, purpose, sentUs: nowUs });
  out.push(send(ZK_NODE_ID, req));
  return true;
}

export function zkCreate(c: ZkClient, nowUs: number, purpose: string, path: string, data: unknown, mode: CreateMode, out: Eff[]): boolean {
  return zkRequest(c, nowUs, purpose, (session, xid) => ({ type: 'zk.create', session, xid, path, data, mode }), out);
}

export function zkGetData(c: ZkClient, nowUs: number, purpose: string, path: string, out: Eff[]): boolean {
  return zkRequest(c, nowUs, purpose, (session, xid) => ({ type: 'zk.getData', session, xid, path, watch: false }), out);
}

export function zkGetChildren(c: ZkClient, nowUs: number, purpose: string, path: string, out: Eff[]): boolean {
  return zkRequest(c, nowUs, purpose, (session, xid) => ({ type: 'zk.getChildren', session, xid, path, watch: false }), out);
}

/** Heartbeat: ping, time out lost requests, reconnect a session that never answered. */
export function zkOnTimer(c: ZkClient, nowUs: number, out: Eff[]): ZkEvent[] {
  out.push(setTimer(ZK_HEARTBEAT_TIMER, c.heartbeatUs));
  const evs: ZkEvent[] = [];
  if (c.session === 0) {
    if (nowUs - c.connectSentUs >= c.requestTimeoutUs) connect(c, nowUs, out);
    return evs;
  }
  out.push(send(ZK_NODE_ID, { type: 'zk.ping', session: c.session }));
  // A record is waiting for an earlier one that nobody is fetching: read the directory again.
  if (c.fetched.size > 0 && c.fetching.size === 0) zkGetChildren(c, nowUs, 'viewdir', ZK_VIEWS, out);
  for (const [xid, p] of c.pending) {
    if (nowUs - p.sentUs < c.requestTimeoutUs) continue;
    c.pending.delete(xid);
    evs.push(lostEvent(c, p));
  }
  return evs;
}

function lostEvent(c: ZkClient, p: ZkPending): ZkEvent {
  if (p.purpose.startsWith('view:')) c.fetching.delete(Number(p.purpose.slice(5)));
  return { k: 'lost', purpose: p.purpose, req: p.req };
}

/**
 * Handles a message from the coordination service. Events come back in the order the node must
 * act on them; view records only ever in sequence order, each exactly once per boot.
 */
export function zkOnMessage(c: ZkClient, msg: ZkResponse, nowUs: number, out: Eff[]): ZkEvent[] {
  const evs: ZkEvent[] = [];
  switch (msg.type) {
    case 'zk.connected':
      if (msg.xid !== c.connectXid || c.session !== 0) return evs;
      c.session = msg.session;
      c.expectN = msg.n + 1;
      onSession(c, nowUs, out);
      evs.push({ k: 'session' });
      return evs;
    case 'zk.expired':
      if (msg.session !== c.session || c.session === 0) return evs;
      connect(c, nowUs, out);
      evs.push({ k: 'expired' });
      return evs;
    case 'zk.pong':
    case 'zk.reply':
    case 'zk.watch':
      break;
    default:
      return evs;
  }
  if (msg.session !== c.session) return evs;
  const gap = msg.n !== c.expectN;
  c.expectN = msg.n + 1;
  if (msg.type === 'zk.reply') {
    // The service answers a session's requests in order, so older unanswered ones were lost.
    for (const [xid, p] of c.pending) {
      if (xid >= msg.xid) break;
      c.pending.delete(xid);
      evs.push(lostEvent(c, p));
    }
    const p = c.pending.get(msg.xid);
    if (p) {
      c.pending.delete(msg.xid);
      if (!handleOwnReply(c, p, msg, nowUs, out, evs)) evs.push({ k: 'reply', purpose: p.purpose, req: p.req, rep: msg });
    }
  } else if (msg.type === 'zk.watch') {
    if (msg.event === 'NodeCreated' && msg.path.startsWith(ZK_VIEWS + '/')) fetchView(c, msg.path.slice(ZK_VIEWS.length + 1), nowUs, out);
    else evs.push({ k: 'watch', event: msg.event, path: msg.path });
  }
  if (gap) {
    // Lost messages: re-read the view directory (as after a ZooKeeper ConnectionLoss).
    zkGetChildren(c, nowUs, 'viewdir', ZK_VIEWS, out);
    evs.push({ k: 'gap' });
  }
  drainViews(c, evs);
  return evs;
}

function onSession(c: ZkClient, nowUs: number, out: Eff[]): void {
  zkCreate(c, nowUs, 'register', `${ZK_NODES}/${c.self}-`, { id: c.self, role: c.role, boot: c.boot }, 'ephemeralSequential', out);
  zkRequest(c, nowUs, 'watch', (session, xid) => ({ type: 'zk.addWatch', session, xid, path: ZK_VIEWS, mode: 'persistentRecursive' }), out);
  for (const d of c.watchDirs) zkRequest(c, nowUs, 'watch', (session, xid) => ({ type: 'zk.addWatch', session, xid, path: d, mode: 'persistentRecursive' }), out);
  zkGetChildren(c, nowUs, 'viewdir', ZK_VIEWS, out);
}

/** Replies the client handles itself (registration, watches, the view log); false otherwise. */
function handleOwnReply(c: ZkClient, p: ZkPending, rep: Extract<ZkResponse, { type: 'zk.reply' }>, nowUs: number, out: Eff[], evs: ZkEvent[]): boolean {
  if (p.purpose === 'register' || p.purpose === 'watch') return true;
  if (p.purpose === 'viewdir') {
    if (rep.err !== 'ok') return true;
    const names = rep.children ?? [];
    if (c.firstListingEnd < 0) {
      let end = 0;
      for (const name of names) end = Math.max(end, sequenceOf(name) + 1);
      c.firstListingEnd = end;
    }
    for (const name of names) fetchView(c, name, nowUs, out);
    return true;
  }
  if (p.purpose.startsWith('view:')) {
    const seq = Number(p.purpose.slice(5));
    c.fetching.delete(seq);
    if (rep.err !== 'ok') return true;
    const name = (p.req as { path: string }).path.slice(ZK_VIEWS.length + 1);
    const rec = parseViewRecord(name, rep.data);
    if (rec && seq >= c.nextViewSeq) c.fetched.set(seq, rec);
    return true;
  }
  void evs;
  return false;
}

function fetchView(c: ZkClient, name: string, nowUs: number, out: Eff[]): void {
  const seq = sequenceOf(name);
  if (seq < c.nextViewSeq || c.fetched.has(seq) || c.fetching.has(seq)) return;
  if (zkGetData(c, nowUs, `view:${seq}`, `${ZK_VIEWS}/${name}`, out)) c.fetching.add(seq);
}

function drainViews(c: ZkClient, evs: ZkEvent[]): void {
  // Nothing is delivered before this boot's first directory listing: a restarted node must know
  // which records are history before it acts on any.
  if (c.firstListingEnd < 0) return;
  for (;;) {
    const rec = c.fetched.get(c.nextViewSeq);
    if (!rec) return;
    c.fetched.delete(c.nextViewSeq);
    evs.push({ k: 'view', seq: c.nextViewSeq, rec });
    c.nextViewSeq++;
  }
}

function parseViewRecord(name: string, data: unknown): ViewRecord | null {
  const d = data as Record<string, unknown> | null;
  if (d === null || typeof d !== 'object') return null;
  if (name.startsWith('new-')) return { kind: 'new', view: d.view as View, boots: (d.boots ?? {}) as Record<string, number> };
  if (name.startsWith('freeze-')) return { kind: 'freeze', viewId: d.viewId as number, next: d.next };
  if (name.startsWith('finalize-')) return { kind: 'finalize', viewId: d.viewId as number, logs: d.logs as FinalLog[] };
  return null;
}

/** Handles the lost-request events the client can retry by itself; returns the rest. */
export function zkRetryOwn(c: ZkClient, ev: ZkEvent, nowUs: number, out: Eff[]): boolean {
  if (ev.k !== 'lost') return false;
  if (ev.purpose === 'register') {
    // Safe to repeat: a duplicate registration belongs to the same session.
    zkRequest(c, nowUs, ev.purpose, (session, xid) => ({ ...ev.req, session, xid }) as ZkRequest, out);
    return true;
  }
  if (ev.purpose === 'watch') {
    // Events between the lost request and its retry were never sent: re-read what is watched.
    // The node sees the event too, to re-read its own directories.
    zkRequest(c, nowUs, ev.purpose, (session, xid) => ({ ...ev.req, session, xid }) as ZkRequest, out);
    zkGetChildren(c, nowUs, 'viewdir', ZK_VIEWS, out);
    return false;
  }
  if (ev.purpose === 'viewdir' || ev.purpose.startsWith('view:')) {
    zkGetChildren(c, nowUs, 'viewdir', ZK_VIEWS, out);
    return true;
  }
  return false;
}
