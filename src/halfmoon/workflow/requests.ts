/**
 * What the workflow runtime is configured with and what it answers (issue 4 §2): its config, a
 * workflow request and its reply, the switching coordinator's requests, and the messages it
 * exchanges with the store. Clients, the switching coordinator and the system assembly import
 * these without importing the machine.
 */
import type { NodeId } from '../../core/contract.ts';
import type { Json, Mode, TagScheme } from '../records.ts';
import type { RecoveryConfig } from '../recovery.ts';
import type { StoreMsg } from '../store.ts';

export interface RuntimeConfig {
  readonly workload: string;
  readonly store: NodeId;
  readonly book: number;
  readonly tags: TagScheme;
  readonly variant: string | null;
  readonly mirrorBase: boolean;
  /** Probability that a function crashes at each crash point (0 disables injection). */
  readonly crashProbability: number;
  /** Function crashes are injected only before this time (node-local µs): faults stop. */
  readonly crashUntilUs: number;
  /** The recovery driver for abandoned async invocations (recovery.ts). */
  readonly recovery: RecoveryConfig;
  /** A store request unanswered this long is sent again. */
  readonly storeTimeoutUs: number;
  /**
   * The function-to-engine IPC round trip charged to every data-path log call (append,
   * conditional append, overwrite, reads), in µs; 0 (the default) makes calls free. The runtime
   * is composed onto its engine, so without it a log read answered from the local index costs
   * nothing, while the prototype pays an IPC hop each way (the Boki log's own calibration, in
   * scenarios/log-smoke.yaml, charges 50 µs each way).
   */
  readonly ipcUs?: number;
}

export interface WfRequest {
  readonly requestId: string;
  readonly fn: string;
  readonly input: Json;
  readonly mode: Mode;
}

/** Requests of the switching coordinator (switching.ts) to a function node. */
export type CoordRequest =
  /** How many async invocations in these modes are unfinished (answered by a recovery driver). */
  | { readonly coord: 'drain'; readonly modes: readonly Mode[] }
  /** Reconcile every key an HM-W write left newer than its key stream (W -> R). */
  | { readonly coord: 'reconcile'; readonly parallelism: number };

/**
 * The answer to a workflow request: its output, and the read and write counts of the top-level
 * function (the switching controller weighs the read ratio with them).
 */
export type WfReply =
  | { readonly ok: true; readonly output: Json; readonly reads?: number; readonly writes?: number }
  | { readonly ok: false; readonly error: string };

export type RuntimeMsg = StoreMsg;
