/**
 * The shared workflow machinery the protocols are written in: operation programs, the step
 * stream, catch-up, and step proposal.
 *
 * An *operation program* is a plain function over an `OpIO` (log calls, store calls, child
 * invocations) and a scratch copy of the execution's position (n, c, w, loaded steps). The
 * runtime re-runs it from the start whenever one of its micro-operations completes, feeding the
 * recorded results, until it returns; so a program's progress is plain data (its results) and
 * protocols read as straight-line code. The scratch is rebuilt from the execution at every re-run
 * and committed only when the program returns.
 */
import type { LogReply, LogRequest } from '../boki/api.ts';
import type { StoreRep, StoreReq } from './store.ts';
import type { UserOp } from './program.ts';
import { bokiStyle } from './styles.ts';
import { decodeRecord, encodeRecord, type Envelope, type Json, type Mode, type StepRecord, stepTag, type TagScheme } from './records.ts';

// ---------------------------------------------------------------------------------------------
// Micro-operations

/** A log request without its invocation id (the runtime fills it in). */
export type LogCall = LogRequest extends infer R ? (R extends { inv: string } ? Omit<R, 'inv'> : never) : never;

export interface ChildSpec {
  readonly calleeIid: string;
  readonly fn: string;
  readonly input: Json;
  readonly startCursor: bigint;
  readonly callerStep: number;
  readonly mode: Mode;
  readonly async: boolean;
  /** The invoke operation's ordinal in the caller, for the callee's logical path. */
  readonly ordinal: number;
}

export interface ChildResult {
  readonly output: Json;
  readonly cursor: bigint;
  readonly cw: number;
}

export type Micro =
  /** `env`: the record an append carries, decoded, so the history need not parse it back. */
  | { readonly m: 'log'; readonly call: LogCall; readonly env?: Envelope }
  | { readonly m: 'store'; readonly req: StoreReq; readonly writeId: string | null }
  | { readonly m: 'random'; readonly label: string }
  | { readonly m: 'invoke'; readonly child: ChildSpec }
  | { readonly m: 'spawn'; readonly child: ChildSpec };

export class MicroSuspend {
  constructor(readonly micro: Micro) {}
}

/** Ends the execution: `fatal` marks a violation (non-determinism, a broken invariant). */
export class AbortExec {
  constructor(
    readonly reason: string,
    readonly fatal: boolean,
  ) {}
}

/** Operations one program may issue, at most; a program that loops forever is a bug. */
export const MICROS_PER_PROGRAM_MAX = 100_000;

export class OpIO {
  private i = 0;
  constructor(private readonly results: readonly unknown[]) {}
  private next<T>(micro: Micro): T {
    if (this.i < this.results.length) return this.results[this.i++] as T;
    if (this.i >= MICROS_PER_PROGRAM_MAX) throw new AbortExec(`more than ${MICROS_PER_PROGRAM_MAX} micro-operations in one program`, true);
    throw new MicroSuspend(micro);
  }
  log(call: LogCall, env?: Envelope): LogReply {
    return this.next(env === undefined ? { m: 'log', call } : { m: 'log', call, env });
  }
  store(req: StoreReq, writeId: string | null = null): StoreRep {
    return this.next({ m: 'store', req, writeId });
  }
  get(row: string): Extract<StoreRep, { op: 'get' }> {
    return this.next({ m: 'store', req: { op: 'get', row }, writeId: null });
  }
  random(label: string): number {
    return this.next({ m: 'random', label });
  }
  invoke(child: ChildSpec): ChildResult {
    return this.next({ m: 'invoke', child });
  }
  spawn(child: ChildSpec): void {
    this.next({ m: 'spawn', child });
  }
  abort(reason: string): never {
    throw new AbortExec(reason, false);
  }
  fatal(reason: string): never {
    throw new AbortExec(reason, true);
  }
}

// ---------------------------------------------------------------------------------------------
// The execution's position, as programs see it

export interface Loaded {
  readonly seq: bigint;
  readonly rec: StepRecord;
}

/** What an operation reports to the history when it returns to the handler. */
export interface OpNote {
  /** Reads: the PostWrite seqnum (HM-R; 0 for INIT) or the version read (base-row reads). */
  witness?: bigint | { s: bigint; w: number; iid: string } | null;
  /** Writes: the commit position (PostWrite seqnum for HM-R and TRANS, the version otherwise). */
  commit?: bigint | { s: bigint; w: number; iid: string } | null;
  /** HM-R reads: the cursor the read was bounded by. */
  cursor?: bigint;
  /** HM-R writes: the version row holding the value. */
  row?: string;
  replayed?: boolean;
}

export interface ExecInfo {
  readonly iid: string;
  readonly mode: Mode;
  readonly top: boolean;
  readonly fsm: ReadonlyMap<number, Loaded>;
  readonly post: ReadonlyMap<number, Loaded>;
  readonly caller: { readonly iid: string; readonly step: number; readonly async: boolean } | null;
  readonly startCursor: bigint;
  readonly input: Json;
  readonly fn: string;
  /** The operations this execution's function has issued and seen answered so far, in order. */
  readonly ops: readonly UserOp[];
}

export interface Scratch {
  readonly ex: ExecInfo;
  readonly env: ProtocolEnv;
  n: number;
  c: bigint;
  w: number;
  catchFrom: bigint;
  readonly fsmAdd: Map<number, Loaded>;
  readonly postAdd: Map<number, Loaded>;
  /** Set by catch-up when the stream holds a Done (top-level) record. */
  doneOutput: { output: Json } | null;
  foreign: number;
  note: OpNote;
}

/** Run-wide settings the protocol rules consult (variants, tag scheme, switching). */
export interface ProtocolEnv {
  readonly tags: TagScheme;
  readonly variant: string | null;
  /** Switching is enabled: HM-R writes mirror into the base row (spec §3.2 step 5, §8.3). */
  readonly mirrorBase: boolean;
  readonly intentTag: bigint;
}

export function stepAt(x: Scratch, s: number): Loaded | undefined {
  return x.fsmAdd.get(s) ?? x.ex.fsm.get(s);
}

export function postAt(x: Scratch, s: number): Loaded | undefined {
  return x.postAdd.get(s) ?? x.ex.post.get(s);
}

export function variant(x: Scratch, name: string): boolean {
  return x.env.variant === name;
}

function setCursor(x: Scratch, seq: bigint): void {
  if (seq > x.c) {
    x.c = seq;
    x.w = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Catch-up (spec §1.6): read the step stream from the start, loading every record.

export function catchUp(io: OpIO, x: Scratch): void {
  const tag = stepTag(x.env.tags, x.ex.iid);
  for (let guard = 0; guard < MICROS_PER_PROGRAM_MAX; guard++) {
    const r = io.log({ op: 'readNext', tag, minSeq: x.catchFrom });
    if (r.code === 'EMPTY') return;
    if (r.code !== 'READ_OK') io.abort(`catch-up read failed: ${r.code}`);
    const seq = r.record.seqnum;
    x.catchFrom = seq + 1n;
    const env = decodeRecord(r.record.data);
    if (env === null) io.fatal(`catch-up: undecodable record at ${seq}`);
    if (env.rec.iid !== x.ex.iid) {
      // A record of another instance under a colliding tag (only with hashed tags).
      if (variant(x, 'step-hash-collision-fatal') || variant(x, 'invoke-result-unwrapped')) io.fatal(`catch-up: foreign record of ${env.rec.iid} in the stream of ${x.ex.iid}`);
      x.foreign++;
      continue;
    }
    load(x, seq, env);
  }
  io.abort('catch-up did not reach the end of the stream');
}

function load(x: Scratch, seq: bigint, env: Envelope): void {
  const rec = env.rec;
  if (bokiStyle(x.ex.mode)) {
    // BokiFlow: the first record per (step, post) in log order wins; intent/done markers ride apart.
    if (env.marker) {
      if (rec.kind === 'Done' && x.doneOutput === null) x.doneOutput = { output: rec.output };
      return;
    }
    const m = env.post ? x.postAdd : x.fsmAdd;
    const known = env.post ? postAt(x, rec.step) : stepAt(x, rec.step);
    if (!known) m.set(rec.step, { seq, rec });
    return;
  }
  if (!stepAt(x, rec.step)) x.fsmAdd.set(rec.step, { seq, rec });
  if (rec.kind === 'Done' && x.doneOutput === null) x.doneOutput = { output: rec.output };
}

// ---------------------------------------------------------------------------------------------
// Step proposal

export interface Proposed {
  readonly seq: bigint;
  readonly rec: StepRecord;
  readonly replayed: boolean;
}

type Payload = StepRecord extends infer R ? (R extends { iid: string; step: number } ? Omit<R, 'iid' | 'step'> : never) : never;

function matches(rec: StepRecord, want: Payload): boolean {
  if (want.kind === 'PreInvoke') return rec.kind === 'PreInvoke' || rec.kind === 'InvokeResult';
  if (rec.kind !== want.kind) return false;
  if ('table' in want && 'table' in rec) return rec.table === want.table && rec.key === want.key;
  if ('table' in want && rec.kind === 'PostRead') return false; // an untyped PostRead cannot be checked
  return true;
}

/**
 * Halfmoon's proposeStep (spec §1.7): replay the step if it is loaded, otherwise claim its slot
 * with a conditional append at position `n`; losing the slot aborts the execution at once.
 */
export function proposeStep(io: OpIO, x: Scratch, tags: readonly bigint[], want: Payload): Proposed {
  const s = x.n;
  x.n = s + 1;
  const have = stepAt(x, s);
  if (have) {
    if (!matches(have.rec, want)) io.fatal(`replay mismatch at step ${s} of ${x.ex.iid}: logged ${describe(have.rec)}, expected ${want.kind}`);
    setCursor(x, have.seq);
    return { seq: have.seq, rec: have.rec, replayed: true };
  }
  const rec = { ...want, iid: x.ex.iid, step: s } as StepRecord;
  const env: Envelope = { rec };
  const r = io.log({ op: 'condAppend', tags, data: encodeRecord(env), condTag: stepTag(x.env.tags, x.ex.iid), condPos: s }, env);
  if (r.code === 'COND_FAILED') {
    if (variant(x, 'advisory-exit')) return { seq: -1n, rec, replayed: false }; // the artifact: carry on
    io.abort(`lost step ${s} to another execution`);
  }
  if (r.code !== 'APPEND_OK') io.abort(`step ${s} append failed: ${r.code}${r.code === 'BAD_ARGS' ? ` (${r.reason})` : ''}`);
  x.fsmAdd.set(s, { seq: r.seqnum, rec });
  x.c = r.seqnum;
  x.w = 0;
  return { seq: r.seqnum, rec, replayed: false };
}

/** A plain append to the step stream (Boki steps and markers, the done-plain-append variant). */
export function appendToStream(io: OpIO, x: Scratch, iid: string, extraTags: readonly bigint[], env: Envelope): bigint {
  const r = io.log({ op: 'append', tags: [stepTag(x.env.tags, iid), ...extraTags], data: encodeRecord(env) }, env);
  if (r.code !== 'APPEND_OK') io.abort(`append failed: ${r.code}`);
  return r.seqnum;
}

/**
 * BokiFlow's ProposeNextStep (spec §5.1, §8 of the Boki document): append the step record, read
 * the stream onward until EMPTY, and adopt the step's winner (the first record in log order).
 */
export function bokiPropose(io: OpIO, x: Scratch, want: Payload, extraTags: readonly bigint[] = []): Proposed {
  const s = x.n;
  x.n = s + 1;
  const have = stepAt(x, s);
  if (have) {
    if (!matches(have.rec, want)) io.fatal(`replay mismatch at step ${s} of ${x.ex.iid}: logged ${describe(have.rec)}, expected ${want.kind}`);
    setCursor(x, have.seq);
    return { seq: have.seq, rec: have.rec, replayed: true };
  }
  const rec = { ...want, iid: x.ex.iid, step: s } as StepRecord;
  appendToStream(io, x, x.ex.iid, extraTags, { rec });
  catchUp(io, x);
  const won = stepAt(x, s);
  if (!won) io.fatal(`boki step ${s} of ${x.ex.iid}: own record not found after catch-up`);
  setCursor(x, won.seq);
  return { seq: won.seq, rec: won.rec, replayed: false };
}

/** A Boki post-step: plain append, no catch-up (spec §5.1). */
export function bokiPost(io: OpIO, x: Scratch, iid: string, rec: StepRecord): bigint {
  return appendToStream(io, x, iid, [], { rec, post: true });
}

export function describe(rec: StepRecord): string {
  return 'table' in rec && rec.table !== undefined ? `${rec.kind}(${rec.table}/${rec.key})` : rec.kind;
}

