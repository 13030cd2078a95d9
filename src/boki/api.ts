/**
 * The shared-log API that function code uses (Boki §3, plus Halfmoon's condAppend and overwrite),
 * as the request and reply bodies an *engine* machine serves.
 *
 * Function code reaches its engine's API as `client` inputs whose body is a `LogRequest`; the
 * engine answers each with exactly one `reply` effect whose body is a `LogReply` (for the same
 * reqId), possibly much later. Who asks does not matter to the engine: in the log scenarios a
 * workload driver sends these requests over the network; in the Halfmoon system the function
 * runtime composed onto the same node feeds them in directly (see src/core/compose.ts). Therefore
 * the engine must never assume the requester is a driver, and must answer every request once.
 *
 * Invocations. Read-your-writes and monotonic reads hold per invocation and down its call chain,
 * through a metalog progress token per invocation (§5.4). `begin` creates an invocation context
 * on the engine (a child copies its parent's progress, which must live on the same engine), `end`
 * frees it. Every other request names its invocation; an unknown invocation gets BAD_ARGS.
 *
 * Types follow the spec's TypeScript encoding: seqnums, localids and tags are bigint; positions in
 * a stream (`condPos`, `pos`) are plain numbers; payloads are strings (their UTF-8 length counts
 * toward the 2496-byte record limit together with 8 bytes per tag).
 */

export type Seqnum = bigint;
export type Tag = bigint;
export type BookId = number;

/** The tail sentinel: `readPrev(tag, MAX_SEQNUM)` is `checkTail(tag)`. */
export const MAX_SEQNUM: Seqnum = 0xffff_0000_0000_0000n;
export const INVALID_SEQNUM: Seqnum = 0xffff_ffff_ffff_ffffn;
/** Tag 0 means "any record" in queries and is forbidden in appends; 2^64-1 is invalid. */
export const TAG_ANY: Tag = 0n;
export const TAG_INVALID: Tag = 0xffff_ffff_ffff_ffffn;
export const MAX_RECORD_BYTES = 2496;

export type LogRequest =
  | { readonly op: 'begin'; readonly inv: string; readonly book: BookId; readonly parent: string | null }
  | { readonly op: 'end'; readonly inv: string }
  | { readonly op: 'append'; readonly inv: string; readonly tags: readonly Tag[]; readonly data: string }
  | {
      readonly op: 'condAppend';
      readonly inv: string;
      readonly tags: readonly Tag[];
      readonly data: string;
      readonly condTag: Tag;
      readonly condPos: number;
    }
  | { readonly op: 'overwrite'; readonly inv: string; readonly tag: Tag; readonly pos: number; readonly data: string }
  | { readonly op: 'readNext'; readonly inv: string; readonly tag: Tag; readonly minSeq: Seqnum; readonly blocking?: boolean }
  | { readonly op: 'readPrev'; readonly inv: string; readonly tag: Tag; readonly maxSeq: Seqnum }
  | { readonly op: 'checkTail'; readonly inv: string; readonly tag: Tag }
  | { readonly op: 'setAuxData'; readonly inv: string; readonly seqnum: Seqnum; readonly data: string }
  | { readonly op: 'trim'; readonly inv: string; readonly uptoSeq: Seqnum };

export type LogOp = LogRequest['op'];

export interface LogRecord {
  readonly book: BookId;
  readonly seqnum: Seqnum;
  readonly localid: bigint;
  readonly tags: readonly Tag[];
  /** The payload; for an overwritten record, the payload of the last overwrite (§3.2). */
  readonly data: string;
  readonly auxData: string | null;
}

export type LogReply =
  | { readonly code: 'OK' } // begin, end
  | { readonly code: 'APPEND_OK'; readonly seqnum: Seqnum } // append, condAppend (success); overwrite: the target's seqnum
  | { readonly code: 'READ_OK'; readonly record: LogRecord }
  | { readonly code: 'EMPTY' }
  | { readonly code: 'DATA_LOST' }
  | { readonly code: 'DISCARDED' } // after the client retry policy of §3.3 was exhausted
  | { readonly code: 'COND_FAILED' }
  | { readonly code: 'TRIM_OK' }
  | { readonly code: 'TRIM_FAILED' }
  | { readonly code: 'AUXDATA_OK' }
  | { readonly code: 'BAD_ARGS'; readonly reason: string };

export type LogCode = LogReply['code'];

/** UTF-8 byte length of a payload, without allocating for ASCII. */
export function payloadBytes(data: string): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The record size rule of §3: data plus 8 bytes per tag, at most 2496 bytes. */
export function recordFits(data: string, tagCount: number): boolean {
  return payloadBytes(data) + 8 * tagCount <= MAX_RECORD_BYTES;
}

/**
 * One slot of a book as a final audit sees it (Boki §10 "final audit"): every ordered record,
 * visible or not, with its final payload (after overwrites). Checkers judge runs against it
 * because it is the ground truth: a client may crash after its append took effect, before it
 * hears the answer.
 */
export interface AuditSlot {
  readonly seqnum: Seqnum;
  readonly book: BookId;
  readonly tags: readonly Tag[];
  readonly data: string;
  readonly visible: boolean;
}
