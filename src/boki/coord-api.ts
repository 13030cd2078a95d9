/**
 * The coordination service's protocol: the subset of ZooKeeper that Boki uses (spec §1.1, §9.1),
 * with ZooKeeper's semantics, so that a bridge can back exactly these messages with a real
 * ZooKeeper ensemble in the real runtime.
 *
 * Model.
 * - A tree of znodes addressed by absolute paths ("/boki/view/new-0000000003"). Each holds `data`
 *   (plain data here; the bridge serialises it with `toWire` from src/core/json.ts) and a `Stat`.
 * - Create modes: persistent, persistent-sequential, ephemeral, ephemeral-sequential. A sequential
 *   create appends a 10-digit, zero-padded counter kept per parent (ZooKeeper's cversion-based
 *   counter), so names sort in creation order. Ephemeral znodes belong to the creating session,
 *   cannot have children, and are deleted when the session ends.
 * - Sessions (ZooKeeper's `connect`): a client opens one with a timeout; every message from the
 *   client renews it, and clients send `zk.ping` heartbeats when idle. A session not heard from for
 *   its timeout expires: its ephemeral znodes are deleted (firing watches) and any later request
 *   on it is answered `zk.expired`. The client must open a new session and re-create its state.
 * - Watches. One-shot watches are set by getData / getChildren with `watch: true` and fire once
 *   (NodeDataChanged / NodeDeleted, or NodeChildrenChanged). Persistent watches (ZooKeeper 3.6
 *   `addWatch`) fire on every change at the path, or at and below it in recursive mode
 *   (NodeCreated, NodeDeleted, NodeDataChanged; recursive mode sends no NodeChildrenChanged).
 *   Events carry only the type and the path, as in ZooKeeper; the client reads the data.
 * - Ordering. The server handles requests one at a time in arrival order (one linearizable
 *   history; every update gets the next zxid) and sends each session's replies and watch events
 *   in that order: a client sees a watch event before the reply to any later request.
 * - Connection loss. Every server message carries the session's message counter `n` (1, 2, 3,
 *   ...). ZooKeeper clients see a TCP disconnect; channels here break silently, so a client that
 *   sees `n` jump knows it lost messages (replies and events): it must re-read what it watches and
 *   retry requests whose replies it lost, exactly as a ZooKeeper client does after a
 *   ConnectionLoss (a non-idempotent create may or may not have happened). `zk.pong` answers
 *   every ping, so a gap is noticed within one heartbeat.
 *
 * Errors are ZooKeeper's: ok, noNode, nodeExists, badVersion, notEmpty, noChildrenForEphemerals,
 * badArguments. Versions start at 0 and count setData calls; version -1 matches any.
 */

export type CreateMode = 'persistent' | 'persistentSequential' | 'ephemeral' | 'ephemeralSequential';
export type WatchMode = 'persistent' | 'persistentRecursive';
export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';
export type ZkErr = 'ok' | 'noNode' | 'nodeExists' | 'badVersion' | 'notEmpty' | 'noChildrenForEphemerals' | 'badArguments';

export interface Stat {
  /** zxid of the create. */
  readonly czxid: number;
  /** zxid of the last change. */
  readonly mzxid: number;
  readonly version: number;
  /** Owning session of an ephemeral znode, else 0. */
  readonly ephemeralOwner: number;
  readonly numChildren: number;
}

export type ZkRequest =
  | { readonly type: 'zk.connect'; readonly xid: number; readonly timeoutMs: number }
  | { readonly type: 'zk.ping'; readonly session: number }
  | { readonly type: 'zk.close'; readonly session: number; readonly xid: number }
  | { readonly type: 'zk.create'; readonly session: number; readonly xid: number; readonly path: string; readonly data: unknown; readonly mode: CreateMode }
  | { readonly type: 'zk.delete'; readonly session: number; readonly xid: number; readonly path: string; readonly version: number }
  | { readonly type: 'zk.setData'; readonly session: number; readonly xid: number; readonly path: string; readonly data: unknown; readonly version: number }
  | { readonly type: 'zk.getData'; readonly session: number; readonly xid: number; readonly path: string; readonly watch: boolean }
  | { readonly type: 'zk.getChildren'; readonly session: number; readonly xid: number; readonly path: string; readonly watch: boolean }
  | { readonly type: 'zk.addWatch'; readonly session: number; readonly xid: number; readonly path: string; readonly mode: WatchMode };

export type ZkResponse =
  | { readonly type: 'zk.connected'; readonly xid: number; readonly session: number; readonly timeoutMs: number; readonly n: number }
  | { readonly type: 'zk.pong'; readonly session: number; readonly n: number }
  | {
      readonly type: 'zk.reply';
      readonly session: number;
      readonly xid: number;
      readonly n: number;
      readonly zxid: number;
      readonly err: ZkErr;
      /** create: the created path (with the sequence suffix). */
      readonly path?: string;
      readonly data?: unknown;
      readonly stat?: Stat;
      /** getChildren: child names (not paths), sorted. */
      readonly children?: readonly string[];
    }
  | { readonly type: 'zk.watch'; readonly session: number; readonly n: number; readonly zxid: number; readonly event: WatchEventType; readonly path: string }
  /** The session is gone (expired or closed); the request was not executed. */
  | { readonly type: 'zk.expired'; readonly session: number };

export type ZkMessage = ZkRequest | ZkResponse;

/** The layout Boki keeps under its root (spec §1.1; the real runtime uses /boki as well). */
export const ZK_ROOT = '/boki';
export const ZK_NODES = '/boki/node';
export const ZK_VIEWS = '/boki/view';
export const ZK_FREEZE = '/boki/freeze';
export const ZK_CMD = '/boki/cmd';
/** Persistent paths created by the setup step (the artifact's zk_setup.sh) before nodes boot. */
export const ZK_SETUP_PATHS: readonly string[] = [ZK_ROOT, ZK_NODES, ZK_VIEWS, ZK_FREEZE, ZK_CMD];

/** The counter suffix of a sequential znode name ("new-0000000003" -> 3), or -1. */
export function sequenceOf(name: string): number {
  if (name.length < 10) return -1;
  const tail = name.slice(name.length - 10);
  if (!/^\d{10}$/.test(tail)) return -1;
  return Number(tail);
}

export function sequenceSuffix(n: number): string {
  return String(n).padStart(10, '0');
}

export function isZkMessage(m: { readonly type: string }): m is ZkMessage {
  return m.type.startsWith('zk.');
}
