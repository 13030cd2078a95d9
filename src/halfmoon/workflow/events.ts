/**
 * The history events the workflow runtime records, and the summary of a log record's payload they
 * carry (values left out, outputs kept). The exactly-once, storage and switching checkers
 * (proofs/) and the reproduction analysis read these; they need nothing else of the runtime.
 */
import type { LogReply, LogRequest } from '../../boki/api.ts';
import type { UserOp } from '../program.ts';
import { decodeRecord, type Envelope, type Json, type Mode, type StepRecord } from '../records.ts';
import type { OpNote } from '../steps.ts';

/** History events the runtime records (see proofs/exactly-once.ts). */
export type RuntimeEvent =
  | {
      readonly ev: 'execStart';
      readonly exec: string;
      readonly iid: string;
      /** '' for a callee re-run by the recovery driver: its path is its caller's plus `ordinal`. */
      readonly path: string;
      readonly requestId: string;
      readonly mode: Mode;
      readonly top: boolean;
      readonly callerIid: string | null;
      readonly ordinal: number;
    }
  | {
      readonly ev: 'wfOp';
      readonly exec: string;
      readonly iid: string;
      readonly path: string;
      readonly requestId: string;
      readonly ordinal: number;
      readonly kind: 'read' | 'write' | 'invoke';
      readonly table: string | null;
      readonly key: string | null;
      readonly value: Json;
      readonly async: boolean;
      readonly note: OpNote;
    }
  | {
      readonly ev: 'execEnd';
      readonly exec: string;
      readonly iid: string;
      readonly path: string;
      readonly requestId: string;
      readonly outcome: 'done' | 'aborted' | 'crashed' | 'fatal';
      readonly output: Json;
      readonly reason: string | null;
      readonly top: boolean;
      readonly replayedDone: boolean;
    }
  | {
      readonly ev: 'logOp';
      readonly exec: string;
      readonly requestId: string;
      readonly path: string;
      readonly op: LogRequest['op'];
      readonly code: LogReply['code'];
      readonly seq: bigint | null;
      readonly tags: readonly bigint[];
      /** What was appended or overwritten (values left out, outputs kept for C4/C5). */
      readonly rec: RecSummary | null;
      readonly stage: Stage;
      readonly opKind: UserOp['kind'] | null;
      /** Payload bytes the call wrote (append, condAppend, overwrite; 0 for reads), for storage accounting. */
      readonly bytes: number;
      /** How long the call took, on this node's clock: the log's service time as the function saw it. */
      readonly waitUs: number;
    }
  | { readonly ev: 'storeOp'; readonly exec: string; readonly requestId: string; readonly path: string; readonly op: string; readonly stage: Stage }
  /** A recovery round began, or ended (clean: nothing new, nothing outstanding). */
  | { readonly ev: 'recoveryRound'; readonly stage: 'start' | 'end'; readonly clean: boolean };

export interface RecSummary {
  readonly kind: StepRecord['kind'];
  readonly iid: string;
  readonly step: number;
  readonly post: boolean;
  readonly marker: boolean;
  readonly table: string | null;
  readonly key: string | null;
  readonly version: bigint | null;
  readonly output: Json | undefined;
}

/** The summary of a record's payload the checkers use (values left out, outputs kept). */
export function summarizeData(data: string): RecSummary | null {
  const env = decodeRecord(data);
  return env === null ? null : summarizeEnv(env);
}

export function summarizeEnv(env: Envelope): RecSummary {
  const r = env.rec;
  return {
    kind: r.kind,
    iid: r.iid,
    step: r.step,
    post: env.post === true,
    marker: env.marker === true,
    table: 'table' in r && r.table !== undefined ? r.table : null,
    key: 'key' in r && r.key !== undefined ? r.key : null,
    version: r.kind === 'PostWrite' || r.kind === 'Marker' ? r.version : null,
    output: r.kind === 'Done' || r.kind === 'InvokeResult' ? r.output : undefined,
  };
}

export type Stage = 'begin' | 'catchup' | 'start' | 'run' | 'op' | 'finish' | 'end' | 'system' | 'over';
