/**
 * The simulator's own bookkeeping, apart from its event loop (`simulator.ts`): the queue items
 * (numeric kinds, flat objects), one node's runtime record (`SimNode`), the contexts a step runs
 * with (the seeded one, and the recording and echoing pair that checks mode uses), and the
 * interface the fault injection (`faults.ts`) drives the simulator through. Split out of
 * simulator.ts so that each file stays readable; no behaviour lives here beyond the contexts.
 */
import { AssertionFailure } from '../src/core/assert.ts';
import type { Ctx, Machine, NodeId } from '../src/core/contract.ts';
import type { FaultRecord, NodeSpec, SystemInstance, WorldView } from '../src/core/system.ts';
import type { ScriptedFault, RandomFaults, Scenario } from '../src/scenario/scenario.ts';
import type { Decisions } from './decisions.ts';
import type { SimDisk } from './disk.ts';
import type { EventQueue } from './queue.ts';
import type { Network } from './network.ts';


// ---------------------------------------------------------------------------------------------
// Queue items. Numeric kinds and flat objects keep dispatch a jump table.

export const DELIVER = 0;
export const TIMER = 1;
export const REQUEST = 2;
export const RESPONSE = 3;
export const START = 4;
export const RESTART = 5;
export const RESUME = 6;
export const FAULT = 7;
export const NEMESIS = 8;
export const UNBLOCK = 9;
export const LINK_CLEAR = 10;

export type Item =
  | { k: typeof DELIVER; to: number; from: number; msg: unknown; msgId: number; epoch: number }
  | { k: typeof TIMER; node: number; name: string; gen: number }
  | { k: typeof REQUEST; to: number; from: number; reqId: string; body: unknown; msgId: number; epoch: number }
  | { k: typeof RESPONSE; to: number; from: number; reqId: string; body: unknown; msgId: number; epoch: number }
  | { k: typeof START; node: number }
  | { k: typeof RESTART; node: number }
  | { k: typeof RESUME; node: number }
  | { k: typeof FAULT; fault: ScriptedFault; index: number }
  | { k: typeof NEMESIS }
  | { k: typeof UNBLOCK; pairs: number[] }
  | { k: typeof LINK_CLEAR; pairs: number[] };

export interface SimNode {
  readonly idx: number;
  readonly id: NodeId;
  readonly role: string;
  readonly spec: NodeSpec;
  readonly machine: Machine;
  readonly driver: boolean;
  readonly faultable: boolean;
  state: unknown;
  up: boolean;
  halted: boolean;
  paused: boolean;
  deferred: Item[];
  timers: Map<string, number>;
  readonly disk: SimDisk;
  skewUs: number;
  driftPpm: number;
  driftSinceUs: number;
  driftAccumUs: number;
  readonly ctx: SimCtx;
  readonly labels: { maybe: string; random: string; crash: string };
}

export class SimCtx implements Ctx {
  nowUs = 0;
  constructor(
    readonly self: NodeId,
    private readonly d: Decisions,
    private readonly labels: { maybe: string; random: string },
  ) {}
  maybe(label: string, p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new AssertionFailure(`ctx.maybe(${label}): probability ${p} outside [0, 1]`);
    return this.d.bool(this.labels.maybe + label, p);
  }
  randomU32(label: string): number {
    return this.d.u32(this.labels.random + label);
  }
}

/** Replays a recorded sequence of choices into a second step, for checks mode. */
export class EchoCtx implements Ctx {
  private i = 0;
  constructor(
    readonly self: NodeId,
    readonly nowUs: number,
    private readonly choices: (boolean | number)[],
  ) {}
  maybe(): boolean {
    return this.choices[this.i++] as boolean;
  }
  randomU32(): number {
    return this.choices[this.i++] as number;
  }
}

export class RecordingCtx implements Ctx {
  readonly choices: (boolean | number)[] = [];
  constructor(private readonly inner: SimCtx) {}
  get self(): NodeId {
    return this.inner.self;
  }
  get nowUs(): number {
    return this.inner.nowUs;
  }
  maybe(label: string, p: number): boolean {
    const v = this.inner.maybe(label, p);
    this.choices.push(v);
    return v;
  }
  randomU32(label: string): number {
    const v = this.inner.randomU32(label);
    this.choices.push(v);
    return v;
  }
}

export function deepFreeze(v: unknown, depth = 0): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v) || depth > 64) return;
  if (v instanceof Map || v instanceof Set || ArrayBuffer.isView(v)) return; // cannot be frozen in place
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k], depth + 1);
}

/** Stops the event loop from inside a handler. */
export class StopRun extends Error {}

/** What the fault injection (`faults.ts`) may touch of the simulator. */
export interface FaultHost extends WorldView {
  readonly scenario: Scenario;
  readonly instance: SystemInstance;
  readonly nodes: SimNode[];
  readonly byId: Map<NodeId, SimNode>;
  readonly queue: EventQueue<Item>;
  readonly decisions: Decisions;
  readonly net: Network;
  readonly randomFaults: RandomFaults | null;
  nowUs: number;
  down: number;
  crash(n: SimNode, unsyncedLoss: number): boolean;
  restart(n: SimNode): void;
  pause(n: SimNode, durationUs: number): boolean;
  setDrift(n: SimNode, ppm: number): void;
  recordFault(f: FaultRecord): void;
  guard(f: FaultRecord): boolean;
}
