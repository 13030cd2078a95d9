/**
 * The node contract. Every role of every system (register replicas, Boki sequencers, storage
 * nodes, engines, the controller, the coordination service, the workflow runtime, workload
 * drivers) is a `Machine`: a pure state machine whose only way to act on the world is to return
 * effects as data. A runtime adapter (the simulator, the explorer, the real runtime) feeds inputs
 * and executes effects; machines know nothing of which one runs them.
 *
 * Ownership. `step` receives a state it owns and may update it in place; it returns the resulting
 * state (the same object or a new one). A caller that wants to keep the old state (the explorer
 * branching, the checks mode comparing two steps) passes a clone. Messages, requests and persisted
 * values are immutable once emitted: a machine must never mutate an object after putting it in an
 * effect, nor an object it received in an input. Checks mode freezes them to enforce this.
 *
 * Durability. What survives a crash is exactly what the machine persisted through `persist`
 * effects (the node's durable part, its disk). Everything in `state` is volatile. After a crash
 * the runtime rebuilds the state with `recover(config, disk)` from the writes that survived:
 * synced writes always, unsynced writes only with the configured probability per write.
 *
 * Effects run in order. A synced `persist` is durable before any later effect of the same step
 * takes place (the simulator delays later sends by the disk's sync latency; the real runtime
 * awaits fsync), so "sync, then acknowledge" is expressed by effect order alone.
 */

export type NodeId = string;

/** Inputs a runtime feeds to a machine. */
export type Input<M = unknown, Req = unknown, Rep = unknown> =
  /** First boot with an empty disk. */
  | { readonly type: 'start' }
  /** Boot after a crash; the state came from `recover`. */
  | { readonly type: 'restart' }
  /** A message from another node. */
  | { readonly type: 'message'; readonly from: NodeId; readonly msg: M }
  /** A timer set with `setTimer` fired (at most once per `setTimer`). */
  | { readonly type: 'timer'; readonly timer: string }
  /** A request from outside the system (a workload driver or a real client). */
  | { readonly type: 'client'; readonly reqId: string; readonly body: Req }
  /** For workload drivers only: the reply to a request they issued. */
  | { readonly type: 'response'; readonly reqId: string; readonly from: NodeId; readonly body: Rep };

export type InputType = Input['type'];

/** Effects a machine returns. Plain data; the runtime executes them in order. */
export type Effect<M = unknown, Req = unknown, Rep = unknown, H = unknown> =
  | { readonly type: 'send'; readonly to: NodeId; readonly msg: M }
  /** Arms (or re-arms, replacing) a named timer; the delay is in the node's local microseconds. */
  | { readonly type: 'setTimer'; readonly timer: string; readonly delayUs: number }
  | { readonly type: 'cancelTimer'; readonly timer: string }
  /** Writes one key of the node's disk; `value: undefined` deletes it. */
  | { readonly type: 'persist'; readonly key: string; readonly value: unknown; readonly sync: boolean }
  /** Answers a `client` input. */
  | { readonly type: 'reply'; readonly reqId: string; readonly body: Rep }
  /** For workload drivers only: issues a request that reaches `to` as a `client` input. */
  | { readonly type: 'request'; readonly to: NodeId; readonly reqId: string; readonly body: Req }
  /** Appends an event to the run's history, for checkers. */
  | { readonly type: 'record'; readonly event: H }
  /** The node reached a state it cannot continue from; it stops, and the run reports a violation. */
  | { readonly type: 'fatal'; readonly reason: string };

export type EffectType = Effect['type'];

/** The disk image a node recovers from: key -> last surviving value. */
export type DiskImage = ReadonlyMap<string, unknown>;

/**
 * What a runtime offers a machine during a step. Every nondeterministic choice a machine makes
 * goes through here, so the simulator can record it and the explorer can branch on it.
 */
export interface Ctx {
  readonly self: NodeId;
  /** The node's local clock in integer microseconds (skew and drift applied). */
  readonly nowUs: number;
  /**
   * Asks whether to take a rare path (FoundationDB's BUGGIFY). Recorded like any other choice;
   * the real runtime always answers false. `p` is a probability in [0, 1].
   */
  maybe(label: string, p: number): boolean;
  /** A uniformly random unsigned 32-bit integer for protocol use (fresh ids, replica choice). */
  randomU32(label: string): number;
}

export interface StepResult<S, E> {
  readonly state: S;
  readonly effects: readonly E[];
}

/**
 * A role of a system. `Cfg` is plain data (from the scenario), `S` plain data (no closures, no
 * class instances), `M` the messages it sends and receives.
 */
export interface Machine<Cfg = any, S = any, M = any, Req = any, Rep = any, H = any> {
  /** Role name, e.g. "replica", "sequencer". */
  readonly role: string;
  init(config: Cfg, self: NodeId): S;
  recover(config: Cfg, self: NodeId, disk: DiskImage): S;
  step(state: S, input: Input<M, Req, Rep>, ctx: Ctx): StepResult<S, Effect<M, Req, Rep, H>>;
  /**
   * Optional: what a trace shows of the state (for the viewer). Machines whose state grows with
   * the run (a log, a store) return a bounded summary; the default is the whole state, elided by
   * the tracer beyond a size budget.
   */
  traceView?(state: S): unknown;
}

// ---------------------------------------------------------------------------------------------
// Effect constructors. Literal objects keep shapes monomorphic and allocation minimal.

export type SendEffect<M> = { readonly type: 'send'; readonly to: NodeId; readonly msg: M };
export type SetTimerEffect = { readonly type: 'setTimer'; readonly timer: string; readonly delayUs: number };
export type CancelTimerEffect = { readonly type: 'cancelTimer'; readonly timer: string };
export type PersistEffect = { readonly type: 'persist'; readonly key: string; readonly value: unknown; readonly sync: boolean };
export type ReplyEffect<Rep> = { readonly type: 'reply'; readonly reqId: string; readonly body: Rep };
export type RequestEffect<Req> = { readonly type: 'request'; readonly to: NodeId; readonly reqId: string; readonly body: Req };
export type RecordEffect<H> = { readonly type: 'record'; readonly event: H };
export type FatalEffect = { readonly type: 'fatal'; readonly reason: string };

export const send = <M>(to: NodeId, msg: M): SendEffect<M> => ({ type: 'send', to, msg });
export const setTimer = (timer: string, delayUs: number): SetTimerEffect => ({ type: 'setTimer', timer, delayUs });
export const cancelTimer = (timer: string): CancelTimerEffect => ({ type: 'cancelTimer', timer });
export const persist = (key: string, value: unknown, sync: boolean): PersistEffect => ({ type: 'persist', key, value, sync });
export const reply = <Rep>(reqId: string, body: Rep): ReplyEffect<Rep> => ({ type: 'reply', reqId, body });
export const request = <Req>(to: NodeId, reqId: string, body: Req): RequestEffect<Req> => ({ type: 'request', to, reqId, body });
export const record = <H>(event: H): RecordEffect<H> => ({ type: 'record', event });
export const fatal = (reason: string): FatalEffect => ({ type: 'fatal', reason });

export const NO_EFFECTS: readonly never[] = Object.freeze([]);
