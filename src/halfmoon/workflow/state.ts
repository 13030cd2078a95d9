/**
 * The workflow runtime's state: executions (each one's whole progress as plain data), outstanding
 * log and store requests, reconciliation jobs, and the recovery driver's state; its construction
 * and the protocol environment derived (once per config) from the config.
 */
import type { LogRequest } from '../../boki/api.ts';
import type { Effect } from '../../core/contract.ts';
import type { UserOp } from '../program.ts';
import { intentTag, type Json, type Mode } from '../records.ts';
import type { RecoveryState } from '../recovery.ts';
import type { Loaded, Micro, ProtocolEnv } from '../steps.ts';
import type { StoreMsg } from '../store.ts';
import type { RuntimeEvent, Stage } from './events.ts';
import type { RuntimeConfig, WfReply, RuntimeMsg } from './requests.ts';

export interface Exec {
  readonly id: number;
  readonly key: string;
  readonly iid: string;
  readonly path: string;
  readonly requestId: string;
  readonly reqId: string | null;
  readonly fn: string;
  readonly input: Json;
  readonly mode: Mode;
  readonly top: boolean;
  readonly caller: { readonly exec: number; readonly iid: string; readonly step: number; readonly async: boolean } | null;
  readonly startCursor: bigint;
  /** The engine invocation context of this execution, and of its caller (read-your-writes). */
  readonly inv: string;
  readonly parentInv: string | null;
  stage: Stage;
  n: number;
  c: bigint;
  w: number;
  catchFrom: bigint;
  fsm: Map<number, Loaded>;
  post: Map<number, Loaded>;
  doneOutput: { output: Json } | null;
  foreign: number;
  ops: UserOp[];
  results: Json[];
  /** The current program: its micro-results so far, and the user operation it implements. */
  micro: unknown[];
  op: { readonly op: UserOp; readonly ordinal: number } | null;
  /** Request id (log/store) or "child:<id>" the execution waits on, or null. */
  pending: string | null;
  output: Json;
  /** A system execution (the reconciler) instead of a workflow instance. */
  readonly system: SystemTask | null;
}

/** System work run as executions: the reconciler's base-row scan, and one key's reconciliation. */
export type SystemTask = { readonly kind: 'scan'; readonly job: number } | { readonly kind: 'key'; readonly job: number; readonly row: string };

interface ReconcileJob {
  readonly reqId: string;
  readonly parallelism: number;
  rows: string[];
  next: number;
  active: number;
  markers: number;
}

export interface RuntimeState {
  readonly cfg: RuntimeConfig;
  /**
   * The node's incarnation: a counter kept on disk and bumped (synced) at every boot, so execution
   * keys, invocation ids and store request ids never repeat across restarts, and answers to a
   * previous incarnation's requests are never mistaken for this one's.
   */
  nonce: number;
  nextExec: number;
  nextReq: number;
  execs: Map<number, Exec>;
  /** Outstanding log/store request -> execution id (-1: nobody waits; -2: the recovery driver), issued at `sinceUs`. */
  waiting: Map<string, { exec: number; micro: Micro; sinceUs: number }>;
  /** Log calls held back by the IPC delay (`cfg.ipcUs`), by request id, sent when their timer fires. */
  inIpc: Map<string, LogRequest>;
  recovery: RecoveryState | null;
  jobs: Map<number, ReconcileJob>;
  nextJob: number;
  /** Store requests awaiting an answer, kept to retransmit on timeout. */
  storeOut: Map<string, StoreMsg>;
}

export const RECOVERY_EXEC = -2;

export type Eff = Effect<RuntimeMsg, LogRequest, WfReply, RuntimeEvent>;

/** Executions alive on one node, at most; beyond it new requests are refused (back-pressure). */
export const EXECS_MAX = 100_000;

function envOf(cfg: RuntimeConfig): ProtocolEnv {
  return { tags: cfg.tags, variant: cfg.variant, mirrorBase: cfg.mirrorBase, intentTag: intentTag(cfg.tags) };
}

const envCache = new WeakMap<RuntimeConfig, ProtocolEnv>();

export function env(cfg: RuntimeConfig): ProtocolEnv {
  let e = envCache.get(cfg);
  if (!e) {
    e = envOf(cfg);
    envCache.set(cfg, e);
  }
  return e;
}

export function fresh(cfg: RuntimeConfig): RuntimeState {
  return { cfg, nonce: 0, nextExec: 0, nextReq: 0, execs: new Map(), waiting: new Map(), inIpc: new Map(), recovery: null, jobs: new Map(), nextJob: 0, storeOut: new Map() };
}
