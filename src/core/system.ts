/**
 * A *system* assembles machines into a runnable configuration: which nodes exist, with which
 * machine and config, which invariants hold after every event, which checkers judge the history,
 * and what extra figures a run reports. Runtimes (simulator, explorer, real) consume a
 * `SystemInstance`; they know nothing of what the machines do.
 */
import type { Machine, NodeId } from './contract.ts';

export interface NodeSpec {
  readonly id: NodeId;
  readonly role: string;
  readonly machine: Machine;
  readonly config: unknown;
  /** Workload drivers model the world outside the system: they issue requests, never crash. */
  readonly driver?: boolean;
  /** Whether the fault injector may crash, pause or partition this node (default true). */
  readonly faultable?: boolean;
  /**
   * Shape checks for bodies that reach this node over a real network, where anything may arrive.
   * The real runtime closes the connection a failing body came on; the simulator ignores them.
   */
  readonly wire?: WireChecks;
}

/** Each returns null when the body is acceptable, else a short reason. */
export interface WireChecks {
  /** A message this node receives from a peer. */
  message?(msg: unknown): string | null;
  /** A request body this node serves. */
  request?(body: unknown): string | null;
  /** A reply body this node sends (checked by the client that receives it). */
  reply?(body: unknown): string | null;
}

/** One entry of a run's history: everything client-visible plus what machines chose to record. */
export type HistoryEvent =
  | { readonly kind: 'call'; readonly t: number; readonly reqId: string; readonly client: NodeId; readonly node: NodeId; readonly body: unknown }
  | { readonly kind: 'ret'; readonly t: number; readonly reqId: string; readonly client: NodeId; readonly node: NodeId; readonly body: unknown }
  | { readonly kind: 'record'; readonly t: number; readonly node: NodeId; readonly event: unknown }
  | { readonly kind: 'fault'; readonly t: number; readonly fault: FaultRecord }
  | { readonly kind: 'fatal'; readonly t: number; readonly node: NodeId; readonly reason: string };

/** A fault that took effect, as recorded in the history and the trace. */
export interface FaultRecord {
  readonly kind: FaultKind;
  readonly nodes?: readonly NodeId[];
  readonly detail?: Readonly<Record<string, unknown>>;
}

export const FAULT_KINDS = [
  'crash',
  'restart',
  'pause',
  'resume',
  'partition',
  'heal',
  'clockSkew',
  'clockDrift',
  'linkFault',
  'linkHeal',
  'drop',
  'duplicate',
  'reorder',
  'delay',
  'unsyncedLoss',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Violation {
  /** The invariant or checker that failed. */
  readonly invariant: string;
  readonly message: string;
  /** Index of the event (step) after which it was detected, when known. */
  readonly eventIndex?: number;
  readonly timeUs?: number;
  readonly node?: NodeId;
}

/** Read-only view of a running world, for invariants and reports. */
export interface WorldView {
  readonly nowUs: number;
  readonly eventIndex: number;
  nodeIds(): readonly NodeId[];
  role(id: NodeId): string;
  isUp(id: NodeId): boolean;
  state(id: NodeId): unknown;
  readonly history: readonly HistoryEvent[];
  /** Time of the last fault that took effect, or -1. */
  readonly lastFaultUs: number;
}

/**
 * Checked after every event. Implementations may keep their own incremental state (they are
 * created fresh for every run by `SystemInstance.invariants`), so each check stays O(change).
 * Return a message to report a violation, or null.
 */
export interface Invariant {
  readonly name: string;
  afterStep?(view: WorldView, node: NodeId): string | null;
  onHistory?(ev: HistoryEvent, view: WorldView): string | null;
}

/** Judges a finished run's history (and final states), once. */
export interface Checker {
  readonly name: string;
  check(run: FinishedRun): readonly Violation[];
}

export interface FinishedRun {
  readonly history: readonly HistoryEvent[];
  readonly view: WorldView;
  readonly endUs: number;
  readonly lastFaultUs: number;
  /** True when the run stopped early on a limit; liveness checks must not blame the system then. */
  readonly truncated: boolean;
  /** True when nothing was left to happen (empty event queue): pending operations never finish. */
  readonly quiescent: boolean;
}

/** The fault budget: may this fault take effect now? Returning a string refuses it, with reason. */
export type FaultGuard = (fault: FaultRecord, view: WorldView) => string | null;

export interface SystemInstance {
  readonly nodes: readonly NodeSpec[];
  readonly invariants: readonly Invariant[];
  /**
   * A new, unprimed set of the same invariants. The explorer judges each step with a fresh set
   * primed from the state before it; without this it rebuilds the whole instance to get one.
   */
  freshInvariants?(): readonly Invariant[];
  readonly checkers: readonly Checker[];
  /**
   * Is the run finished (all requests issued and answered, background work settled)? Checked
   * after every driver step and every 256th step.
   */
  done?(view: WorldView): boolean;
  /** Extra fields merged into the run's JSON report. */
  report?(run: FinishedRun): Record<string, unknown>;
  faultGuard?: FaultGuard;
  /** Resolves symbolic node selectors in fault schedules ("primary-sequencer") to node ids. */
  resolveSelector?(selector: string, view: WorldView): NodeId | null;
  /**
   * A random fault schedule the system asks for through its parameters (such as `crashes: true`),
   * in the scenario format of `faults.random`; used when the scenario defines none.
   */
  randomFaults?: unknown;
}

export interface VariantDef {
  readonly name: string;
  readonly description: string;
  /** The scenario (and settings) that exposes it. */
  readonly exposedBy: string;
}

export interface SystemDef<P = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** Parameter defaults; a scenario's `params` and `--set` override them, with the same types. */
  readonly defaults: P;
  readonly variants: readonly VariantDef[];
  /** Validates parameters; throws InputError naming the field. */
  validate?(params: P): void;
  /**
   * Integer workload parameters (sizes, counts) the shrinker may lower while a failure persists.
   * Never list bounds or timeouts: lowering those changes what is being checked.
   */
  readonly shrinkable?: readonly (keyof P & string)[];
  build(params: P, variant: string | null): SystemInstance;
}
