/**
 * The explorer world's data: the options that choose the model (network, time, faults, symmetry),
 * the immutable world state (node slots, messages in flight, fault budget, shared history), the
 * actions, and the pure helpers over them (packet keys and order, FIFO ranks, timer order, the
 * canonical hashes of machine states and slots). `world.ts` steps worlds; this file only says
 * what a world is, so the symmetry, view, property and trace files share it without a cycle.
 *
 * Modelling choices (each an option, see `WorldOptions`):
 * - In flight as a *set* by default (Stateright's and TLA+'s choice): sending a message that is
 *   already in flight changes nothing, which keeps retransmission loops finite; a message is
 *   received twice only through the duplicate budget. As a *multiset*, copies accumulate up to
 *   `inFlightMax` (beyond it the action is disabled).
 * - Time: untimed by default (every `ctx.nowUs` is 0, timers fire at any moment); with
 *   `timeStepUs` each step advances a global clock and a timer fires no earlier than its deadline,
 *   which makes the clock part of the state. Timers may fire in any order, in DSLabs' duration
 *   order (a timer waits for timers armed earlier with no longer a delay), or only when nothing is
 *   in flight.
 * - `ctx.maybe(label, p)` with 0 < p < 1 branches (both outcomes are explored); `ctx.randomU32`
 *   derives its value from the stepping node's own state and input, so a step is a function of
 *   that node alone, or branches over listed values for labels named in `branchRandom` (the
 *   register driver's read-or-write choice).
 * - Links break on a crash, as in the simulator: messages to and from a crashed node are lost, and
 *   messages sent to a down node are lost. Links of the nodes listed in `fifo` deliver in send
 *   order (the simulator's TCP-like links); all others are unordered.
 * - A run ends where the system's `done` holds with `stopAtDone`, as the simulator stops there:
 *   for systems whose background timers never fall silent, the only terminal states.
 * - Pauses, partitions and clock faults are not separate actions: an unordered network already
 *   delays any message arbitrarily, and a partition's effect on safety is that of dropped messages.
 */
import type { Effect, Input } from '../../src/core/contract.ts';
import { hashInto, Lanes, sortedKeys } from '../../src/core/hash.ts';
import { AssertionFailure } from '../../src/core/assert.ts';
import type { HistoryEvent, NodeSpec, Violation } from '../../src/core/system.ts';

export interface WorldOptions {
  /** Fault budget: at most this many crashes, restarts, dropped and duplicated messages. */
  readonly crashes: number;
  readonly restarts: number;
  readonly drops: number;
  readonly duplicates: number;
  /** How many `ctx.maybe` choices may come out true along a path (e.g. injected function crashes). */
  readonly maybes: number;
  readonly inFlight: 'set' | 'multiset';
  /** Multiset only: a step that would leave more messages in flight than this is disabled. */
  readonly inFlightMax: number;
  /**
   * Nodes whose links, both ways, deliver in send order, like the simulator's `fifo` links (TCP
   * sessions): only the oldest message in flight on such a link can be delivered. For protocols
   * that rely on in-order sessions (a ZooKeeper client takes any out-of-order reply as a lost
   * connection and re-reads everything); other links stay unordered.
   */
  readonly fifo: readonly string[];
  readonly timers: 'unordered' | 'duration' | 'quiescent';
  /**
   * With quiescent timers: how many times along a path a timer may fire while messages are in
   * flight anyway (a premature timeout, counted like a fault).
   */
  readonly earlyTimers: number;
  /**
   * Timers that fire at any moment whatever the timer mode, as "<node>:<name prefix>" (node may
   * be "*"): a workload driver's think times are pacing, not timeouts.
   */
  readonly freeTimers: readonly string[];
  /** 0: untimed. Otherwise each step advances the clock by this much. */
  readonly timeStepUs: number;
  readonly maybe: 'branch' | 'never';
  /** randomU32 labels (bare, or "<node>:<label>") that branch over the listed values. */
  readonly branchRandom: Readonly<Record<string, readonly number[]>>;
  /** Groups of interchangeable node ids, for symmetry reduction. */
  readonly symmetry: readonly (readonly string[])[];
  readonly checkers: 'terminal' | 'every';
  /** Cache checker verdicts by history alone (sound when checkers read only the history). */
  readonly checkerCache: 'history' | 'state';
  /** Crashes may keep any prefix of the unsynced writes, or always lose them all. */
  readonly unsyncedLoss: 'prefixes' | 'all';
  /** May drop and duplicate faults hit messages to and from workload drivers? */
  readonly faultDriverLinks: boolean;
  /**
   * Every invariant judges the stepping node alone (true of `replica-timestamp-monotonic`): steps
   * of different nodes then commute, and partial-order reduction is sound.
   */
  readonly localInvariants: boolean;
  /** Step every input twice on separate copies and demand identical results. */
  readonly checks: boolean;
  /**
   * A state where the system's `done` holds ends the run, as in the simulator (outcome 'done'):
   * it has no actions, so it is terminal, and its checkers judge a run that was stopped, not a
   * quiescent one (liveness judges nothing pending as "never completes"). For systems whose
   * background work (heartbeats, repair timers) never falls silent, so no state is otherwise
   * terminal.
   */
  readonly stopAtDone: boolean;
}

export const DEFAULT_WORLD_OPTIONS: WorldOptions = {
  crashes: 0,
  restarts: 0,
  drops: 0,
  duplicates: 0,
  maybes: 1_000_000,
  inFlight: 'set',
  inFlightMax: 64,
  fifo: [],
  timers: 'unordered',
  earlyTimers: 0,
  freeTimers: [],
  timeStepUs: 0,
  maybe: 'branch',
  branchRandom: {},
  symmetry: [],
  checkers: 'terminal',
  checkerCache: 'state',
  unsyncedLoss: 'prefixes',
  faultDriverLinks: false,
  localInvariants: false,
  checks: false,
  stopAtDone: false,
};

export const CHOICES_MAX = 64;

// ---------------------------------------------------------------------------------------------
// World state

export const PKT_MSG = 0;
export const PKT_REQ = 1;
export const PKT_REP = 2;

/** A message in flight. Immutable and shared between worlds. */
export interface Packet {
  readonly kind: number;
  readonly from: number;
  readonly to: number;
  readonly reqId: string;
  readonly body: unknown;
  /** Digest of the body alone, so a permutation that leaves the body alone reuses it. */
  readonly b0: number;
  readonly b1: number;
  readonly h0: number;
  readonly h1: number;
  /** Hash lanes under each symmetry permutation, filled lazily. */
  sym?: Int32Array;
  /** Whether the body names an interchangeable node (0 unknown, 1 no, 2 yes). */
  names?: number;
  /** The hash as 16 hex digits, filled lazily (action keys). */
  hex?: string;
  /** On a FIFO link: the send order (only its rank among the link's messages is state). */
  readonly ord?: number;
}

export interface ArmedTimer {
  readonly name: string;
  readonly delayUs: number;
  readonly deadlineUs: number;
}

export interface PendingWrite {
  readonly key: string;
  readonly value: unknown;
}

/** One node. Immutable and shared between worlds until the node changes. */
export interface Slot {
  readonly up: boolean;
  readonly halted: boolean;
  readonly state: unknown;
  readonly synced: ReadonlyMap<string, unknown>;
  readonly pending: readonly PendingWrite[];
  readonly timers: readonly ArmedTimer[];
  /** For a crashed node, the state it had when it went down (what invariants last observed). */
  readonly lastUp: unknown;
  readonly h0: number;
  readonly h1: number;
  sym?: Int32Array;
  /** Whether the slot names an interchangeable node (0 unknown, 1 no, 2 yes). */
  names?: number;
}

/** The history as a shared list, newest first, with a running hash. */
export interface Hist {
  readonly ev: HistoryEvent;
  readonly prev: Hist | null;
  readonly len: number;
  /** Digest of the event alone. */
  readonly e0: number;
  readonly e1: number;
  /** Running hash of the history up to and including this event. */
  readonly h0: number;
  readonly h1: number;
  sym?: Int32Array;
  names?: number;
}

/** How a world was reached, for traces. Not part of the state. */
export interface Via {
  readonly kind: 'step' | 'crash' | 'restart' | 'drop' | 'duplicate';
  readonly node: number;
  readonly input: Input | null;
  readonly effects: readonly Effect[];
  readonly events: readonly HistoryEvent[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface World {
  readonly slots: readonly Slot[];
  /** Sorted by hash: the canonical order of the set (or multiset). */
  readonly net: readonly Packet[];
  /** Left of the budget: crashes, restarts, drops, duplicates, true maybes, early timers. */
  readonly budget: readonly number[];
  readonly hist: Hist | null;
  readonly nowUs: number;
  /** The invariant the step into this world violated, if any. */
  readonly violation: Violation | null;
  readonly h0: number;
  readonly h1: number;
  readonly via: Via | null;
  /** The history as an array, built on first use. */
  histArray?: readonly HistoryEvent[];
}

// ---------------------------------------------------------------------------------------------
// Actions

export const A_DELIVER = 0;
export const A_TIMER = 1;
export const A_CRASH = 2;
export const A_RESTART = 3;
export const A_DROP = 4;
export const A_DUP = 5;

/** What a step touched, recorded by `next` for partial-order reduction. */
export interface StepInfo {
  readonly node: number;
  readonly fault: boolean;
  readonly wroteHistory: boolean;
  /** The packet the step consumed, or null (packets compare by their content hash). */
  readonly consumed: Packet | null;
  /** The packets it sent. */
  readonly sent: readonly Packet[];
}

export interface WAction {
  readonly k: number;
  readonly node: number;
  readonly pkt: Packet | null;
  readonly name: string;
  readonly keep: number;
  readonly choices: readonly number[];
  /** The action's key (`SystemModel.actionKey`), built on first use. */
  key: string | null;
  info: StepInfo | null;
}

const bodyHasher = new Lanes();
const packetHasher = new Lanes();

export function bodyLanes(body: unknown): [number, number] {
  const bh = bodyHasher.reset(0x62);
  hashInto(bh, body);
  bh.done();
  return [bh.r0, bh.r1];
}

export function packetLanes(kind: number, from: number, to: number, reqId: string, b0: number, b1: number): [number, number] {
  const h = packetHasher.reset(0x70).u32(kind).u32(from).u32(to).str(reqId).u32(b0).u32(b1).done();
  return [h.r0, h.r1];
}

export function hex(h0: number, h1: number): string {
  return (h0 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

/** The key of the packet a send effect creates (its content hash), as action keys name it. */
export function packetKey(kind: number, from: number, to: number, reqId: string, body: unknown): string {
  const [b0, b1] = bodyLanes(body);
  const [h0, h1] = packetLanes(kind, from, to, reqId, b0, b1);
  return hex(h0, h1);
}

export function pktKey(p: Packet): string {
  return (p.hex ??= hex(p.h0, p.h1));
}

export function cmpPkt(a: Packet, b: Packet): number {
  return (a.h0 >>> 0) - (b.h0 >>> 0) || (a.h1 >>> 0) - (b.h1 >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function applyWrite(m: Map<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) m.delete(key);
  else m.set(key, value);
}

/** Is `p` deliverable under FIFO order: no older message in flight on its link? */
export function fifoHead(net: readonly Packet[], p: Packet): boolean {
  return p.ord === undefined || fifoRank(net, p) === 0;
}

/** How many messages in flight on `p`'s FIFO link are older than `p`. */
export function fifoRank(net: readonly Packet[], p: Packet): number {
  let r = 0;
  for (const q of net) if (q.from === p.from && q.to === p.to && q.ord !== undefined && q.ord < p.ord!) r++;
  return r;
}

/** The first index of the sorted `net` whose packet is not below `p` (where `p` would be inserted). */
export function packetLowerBound(net: readonly Packet[], p: Packet): number {
  let lo = 0;
  let hi = net.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmpPkt(net[mid]!, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function findPacket(net: readonly Packet[], p: Packet): number {
  const lo = packetLowerBound(net, p);
  return lo < net.length && cmpPkt(net[lo]!, p) === 0 ? lo : -1;
}

/** DSLabs' timer order: a timer waits for every timer armed before it with no longer a delay. */
export function earlierNotLonger(ts: readonly ArmedTimer[], j: number): boolean {
  for (let i = 0; i < j; i++) if (ts[i]!.delayUs <= ts[j]!.delayUs) return true;
  return false;
}

/** A machine state's canonical hash; the immutable `cfg` it carries is left out. */
export function hashState(h: Lanes, state: unknown, rename: ReadonlyMap<string, string> | null): void {
  if (typeof state === 'object' && state !== null && !Array.isArray(state) && !(state instanceof Map) && !(state instanceof Set) && 'cfg' in state) {
    const keys = Object.keys(state).filter((k) => k !== 'cfg');
    const sorted = rename === null ? sortedKeys(keys) : keys.map((k) => [rename.get(k) ?? k, k] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map((x) => x[1]);
    h.u32(21).u32(sorted.length);
    for (const k of sorted) {
      h.str(rename?.get(k) ?? k);
      hashInto(h, (state as Record<string, unknown>)[k], 1, rename);
    }
    return;
  }
  hashInto(h, state, 0, rename);
}

export function stateHash(v: unknown): string {
  const h = new Lanes(0);
  hashInto(h, v);
  h.done();
  return hex(h.r0, h.r1);
}

export function hashSlot(
  h: Lanes,
  up: boolean,
  halted: boolean,
  state: unknown,
  synced: ReadonlyMap<string, unknown>,
  pending: readonly PendingWrite[],
  timers: readonly ArmedTimer[],
  lastUp: unknown,
  timed: boolean,
  rename: ReadonlyMap<string, string> | null,
): void {
  h.u32(up ? 1 : 0).u32(halted ? 1 : 0);
  if (up) hashState(h, state, rename);
  else hashState(h, lastUp, rename);
  hashInto(h, synced, 0, rename);
  h.u32(pending.length);
  for (const p of pending) {
    h.str(rename?.get(p.key) ?? p.key);
    hashInto(h, p.value, 0, rename);
  }
  h.u32(timers.length);
  for (const t of timers) {
    h.str(t.name).num(t.delayUs);
    if (timed) h.num(t.deadlineUs);
  }
}

/** An action's key (`SystemModel.actionKey`), built on first use (most actions are never asked for theirs). */
export function actionKeyOf(a: WAction, specs: readonly NodeSpec[]): string {
  if (a.key !== null) return a.key;
  const id = specs[a.node]!.id;
  let key: string;
  switch (a.k) {
    case A_DELIVER:
      key = `deliver ${pktKey(a.pkt!)}`;
      break;
    case A_DUP:
      key = `duplicate ${pktKey(a.pkt!)}`;
      break;
    case A_DROP:
      key = `drop ${pktKey(a.pkt!)}`;
      break;
    case A_TIMER:
      key = `timer ${id} ${a.name}`;
      break;
    case A_CRASH:
      key = `crash ${id} keep ${a.keep}`;
      break;
    case A_RESTART:
      key = `restart ${id}`;
      break;
    default:
      throw new AssertionFailure(`unknown explorer action kind ${a.k}`);
  }
  if (a.choices.length > 0) key += `#${a.choices.join('.')}`;
  a.key = key;
  return key;
}

/** An action as one readable line. */
export function describeWAction(a: WAction, w: World, specs: readonly NodeSpec[]): string {
  const id = (n: number) => specs[n]!.id;
  const pkt = (p: Packet) => {
    const body = p.kind === PKT_MSG ? (p.body as { type?: unknown })?.type ?? 'message' : p.kind === PKT_REQ ? `request ${p.reqId}` : `response ${p.reqId}`;
    return `${String(body)} ${id(p.from)}->${id(p.to)}`;
  };
  const ch = a.choices.length > 0 ? ` [choices ${a.choices.join('.')}]` : '';
  switch (a.k) {
    case A_DELIVER:
      return `deliver ${pkt(a.pkt!)}${ch}`;
    case A_DUP:
      return `duplicate ${pkt(a.pkt!)} (delivered, and a copy stays in flight)${ch}`;
    case A_DROP:
      return `drop ${pkt(a.pkt!)}`;
    case A_TIMER:
      return `timer ${a.name} fires at ${id(a.node)}${ch}`;
    case A_CRASH: {
      const lost = w.slots[a.node]!.pending.length - a.keep;
      return `crash ${id(a.node)}${lost > 0 ? ` (${lost} unsynced write${lost > 1 ? 's' : ''} lost)` : ''}`;
    }
    case A_RESTART:
      return `restart ${id(a.node)}${ch}`;
    default:
      return `action ${a.k}`;
  }
}
