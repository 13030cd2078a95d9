/**
 * The view model's shape: the columns, records and constants the model builder (`model.ts`)
 * produces, the browser client draws from and the Perfetto exporter converts. Types and
 * constants only, no code, so the client bundle and the Node side share one definition.
 */

export const MODEL_FORMAT = 'halfmoon-view';
export const MODEL_VERSION = 1;

export const INPUT_KINDS = ['start', 'restart', 'message', 'timer', 'client', 'response', 'other'] as const;
export type InputKindName = (typeof INPUT_KINDS)[number];
export const IK_START = 0;
export const IK_RESTART = 1;
export const IK_MESSAGE = 2;
export const IK_TIMER = 3;
export const IK_CLIENT = 4;
export const IK_RESPONSE = 5;
export const IK_OTHER = 6;

/** Step flags. */
export const SF_STATE = 1; // the record holds the state after the step
export const SF_VIOLATION = 2; // a violation is attributed to this step
export const SF_FATAL = 4; // the step returned a fatal effect

/** Arrow kinds: how one copy of a message ended. */
export const AK_DELIVERED = 0;
export const AK_DUPLICATE = 1; // a second delivery of a duplicated message
export const AK_LOST = 2; // lost on the way: partitioned, stale connection, receiver down
export const AK_DROPPED = 3; // dropped (or blocked by a partition) when it was sent
export const AK_IN_FLIGHT = 4; // still in flight when the trace ended

/** Arrow flags, from the fates the network decided at send time. */
export const AF_REORDERED = 1;
export const AF_DELAYED = 2;
export const AF_DUPLICATED = 4;

/** Lane interval kinds. */
export const LANE_DOWN = 0;
export const LANE_PAUSED = 1;
export const LANE_HALTED = 2;

export interface ViewNode {
  readonly id: string;
  readonly role: string;
  readonly driver: boolean;
}

export interface ViewMeta {
  readonly file: string;
  readonly source: string;
  readonly system: string | null;
  readonly variant: string | null;
  readonly scenario: string | null;
  readonly seed: number | null;
  readonly replay: string | null;
  readonly outcome: string | null;
  readonly traceHash: string | null;
  /** "us" (virtual or wall-clock microseconds) or "step" (explorer step indices). */
  readonly timeUnit: 'us' | 'step';
  readonly clock: 'virtual' | 'wall' | 'steps';
  /** Absolute time of t = 0 in the trace's own unit (the first record's, for wall clocks). */
  readonly t0: number;
  readonly tEnd: number;
  readonly pEnd: number;
  readonly records: number;
  readonly hasStates: boolean;
  readonly hasNet: boolean;
  readonly msgIdMode: 'ids' | 'content';
  readonly faultCounts: Readonly<Record<string, unknown>> | null;
  readonly report: Readonly<Record<string, unknown>> | null;
  readonly syncLatencyUs: number;
}

export interface StepCols {
  rec: number[];
  /** The trace's own step index (`i`), or -1. */
  i: number[];
  t: number[];
  node: number[];
  kind: number[];
  label: number[];
  /** Message index delivered by this step, or -1. */
  msg: number[];
  /** Request (string index), or -1. */
  req: number[];
  /** Record index of the node's state before the step (boot or previous step), or -1. */
  prev: number[];
  flags: number[];
  nEff: number[];
  /** Handling time in the trace's time unit (synced persists delay later effects), >= 0. */
  dur: number[];
}

export interface MsgCols {
  /** The trace's message id (negative for ids the viewer made up by matching contents). */
  id: number[];
  from: number[];
  /** Receiver node, or -1 when unknown. */
  to: number[];
  /** Sending step, or -1. */
  send: number[];
  /** Index of the sending effect in that step's effects, or -1. */
  eff: number[];
  label: number[];
  kind: number[];
  req: number[];
}

export interface ArrowCols {
  msg: number[];
  from: number[];
  to: number[];
  p0: number[];
  t0: number[];
  p1: number[];
  t1: number[];
  kind: number[];
  flags: number[];
  /** Delivering step for delivered copies, else -1. */
  step: number[];
  /** The fate (string index) for lost or dropped copies, else -1. */
  fate: number[];
}

export interface TimerCols {
  node: number[];
  set: number[];
  fire: number[];
  name: number[];
}

export interface ViewFault {
  readonly kind: string;
  readonly nodes: number[];
  readonly p: number;
  readonly t: number;
  readonly rec: number;
  readonly detail: Record<string, unknown>;
  readonly refused: string | null;
  readonly text: string;
}

export interface LaneCols {
  node: number[];
  kind: number[];
  p0: number[];
  t0: number[];
  p1: number[];
  t1: number[];
}

export interface SpanCols {
  p0: number[];
  t0: number[];
  p1: number[];
  t1: number[];
}

export interface NetMark {
  readonly fate: string;
  readonly from: number;
  readonly to: number;
  readonly p: number;
  readonly t: number;
}

export interface ViewOp {
  readonly reqId: string;
  readonly client: number;
  readonly node: number;
  readonly input: unknown;
  output: unknown;
  readonly callT: number;
  callStep: number;
  retT: number;
  retStep: number;
}

export interface ViewViolation {
  readonly invariant: string;
  readonly message: string;
  readonly eventIndex: number | null;
  readonly node: string | null;
  readonly input: unknown;
  readonly rec: number;
  /** The step it is attributed to, or -1 for a judgement on the whole history. */
  step: number;
  /** Where the viewer opens: the step, or the return of the first operation it names. */
  focus: number;
  /** Request ids its message (or the lens's explanation) names, the one to open on first. */
  reqs: string[];
  /** The system lens's concrete witness, when it found one (e.g. a stale read). */
  explanation: string | null;
  /** Steps that lead to it, in order (its causal past, or the steps of the operations it names). */
  lead: number[];
  readonly p: number;
  readonly t: number;
}

export interface ViewModel {
  readonly format: typeof MODEL_FORMAT;
  readonly v: typeof MODEL_VERSION;
  readonly meta: ViewMeta;
  readonly nodes: ViewNode[];
  readonly strings: string[];
  readonly steps: StepCols;
  readonly msgs: MsgCols;
  readonly arrows: ArrowCols;
  readonly timers: TimerCols;
  readonly faults: ViewFault[];
  readonly lanes: LaneCols;
  readonly partitions: SpanCols;
  readonly netMarks: NetMark[];
  readonly ops: ViewOp[];
  /** Restart steps and the record of the node's last state before the crash (what it lost). */
  readonly restarts: { step: number[]; lost: number[] };
  readonly violations: ViewViolation[];
  /** Message kinds present (string indices), for the filter. */
  readonly kinds: number[];
  readonly warnings: string[];
}

/** How many steps the lead-up of a step-anchored violation shows. */
export const LEAD_STEPS_MAX = 40;
/** How many steps the lead-up of a history-level violation shows. */
export const LEAD_OP_STEPS_MAX = 400;
