/**
 * History records the log's machines emit (`record` effects), for the checkers in proofs/log.
 * Their number is proportional to client operations: one per append attempt, one per attempt
 * outcome, one per completed API call, and a handful per reconfiguration. Per-metalog-entry
 * checks (prefix agreement, identical decisions) are incremental invariants over node states
 * instead, so they never flood the history.
 */
import type { LogReply, LogRequest } from './api.ts';
import type { Kind } from './messages.ts';

/** An append attempt left the engine: (ls, engine, counter) names its slot if it gets ordered. */
export interface AttemptRec {
  readonly ev: 'attempt';
  readonly attemptId: string;
  readonly reqId: string;
  readonly inv: string;
  readonly book: number;
  readonly ls: number;
  readonly engine: number;
  readonly counter: number;
  readonly kind: Kind;
  readonly data: string;
}

/** The attempt's fate as the engine learned it; `ls`/`pos` give the seqnum for ordered ones. */
export interface AttemptEndRec {
  readonly ev: 'attemptEnd';
  readonly attemptId: string;
  readonly code: 'APPEND_OK' | 'COND_FAILED' | 'DISCARDED';
  readonly ls: number;
  readonly pos: number;
}

/** A completed API call, with the progress tokens before and after and, for reads, the frontier. */
export interface OpRec {
  readonly ev: 'op';
  readonly reqId: string;
  readonly inv: string;
  readonly book: number;
  readonly req: LogRequest;
  readonly rep: LogReply;
  readonly pin: bigint;
  readonly pout: bigint;
  /** Reads: the first seqnum the answering current-view index did not cover. */
  readonly frontier: bigint;
  /** Reads and invocations: the parent invocation's progress when a child began. */
  readonly t0: number;
  /** The attempt that produced an APPEND_OK / COND_FAILED / DISCARDED answer, if any. */
  readonly attemptId: string | null;
}

export interface ControllerRec {
  readonly ev: 'reconfigStart' | 'reconfigDone' | 'underProvisioned' | 'provisioned';
  readonly view: number;
}

export type LogHistoryRec = AttemptRec | AttemptEndRec | OpRec | ControllerRec;
