/**
 * Two-phase commit as specified by the TLA+ module TwoPhase of Gray and Lamport, "Consensus on
 * Transaction Commit" (MSR-TR-2003-96, 2004): one transaction manager (TM) and N resource
 * managers (RMs); messages are kept as a set that only grows, so a message, once sent, can be
 * received any number of times; the TM may abort spontaneously while it is still in its initial
 * state, and a working RM may choose to abort. This is the model Stateright ships as
 * `examples/2pc.rs` and the one used to compare explicit-state checkers with TLC; its published
 * unique-state counts (288 states for 3 RMs, 8,832 for 5, 665 for 5 under Stateright's symmetry
 * reduction) pin our explorer.
 *
 * A state is packed into one number: per RM a 4-bit nibble (bits 0-1 the RM's state in the order
 * working < prepared < committed < aborted, bit 2 "the TM has received its Prepared", bit 3 "its
 * Prepared message was sent"), RMs 0-7 in the low 32 bits and RMs 8-11 above them, followed by the
 * TM's state (2 bits) and the Commit and Abort messages (1 bit each). Successors are bit
 * operations; the fingerprint is the packed value itself, which cannot collide.
 *
 * Variants (deliberate bugs, for testing that the explorer and its reductions find them):
 * - `commit-early`: the TM commits once any RM is prepared instead of all of them;
 * - `abort-after-prepare`: a prepared RM may still choose to abort, breaking its promise.
 */
import { InputError, assertNever } from '../../../src/core/assert.ts';
import type { Fp, Model, Property, TraceAdapter } from '../model.ts';

export const RM_WORKING = 0;
export const RM_PREPARED = 1;
export const RM_COMMITTED = 2;
export const RM_ABORTED = 3;
const RM_NAMES = ['working', 'prepared', 'committed', 'aborted'] as const;
const TM_NAMES = ['init', 'committed', 'aborted'] as const;

const TM_PREPARED_BIT = 4;
const PREPARED_MSG_BIT = 8;
const TWO32 = 4294967296;

/** Action codes: kind * 16 + rm. */
export const TM_RCV_PREPARED = 0;
export const TM_COMMIT = 1;
export const TM_ABORT = 2;
export const RM_PREPARE = 3;
export const RM_CHOOSE_TO_ABORT = 4;
export const RM_RCV_COMMIT = 5;
export const RM_RCV_ABORT = 6;
const ACTION_NAMES = ['TmRcvPrepared', 'TmCommit', 'TmAbort', 'RmPrepare', 'RmChooseToAbort', 'RmRcvCommitMsg', 'RmRcvAbortMsg'] as const;

export type TwoPcVariant = 'commit-early' | 'abort-after-prepare';
export const TWOPC_VARIANTS: readonly { name: TwoPcVariant; description: string }[] = [
  { name: 'commit-early', description: 'the TM commits as soon as one RM is prepared, not all of them' },
  { name: 'abort-after-prepare', description: 'a prepared RM may still choose to abort' },
];

/** Symmetry reductions offered: Stateright's (sort RMs by their state alone) or a full canonical form. */
export type TwoPcSymmetry = 'sort' | 'full';

export interface TwoPcParams {
  readonly rms: number;
  readonly variant: TwoPcVariant | null;
  readonly symmetry: TwoPcSymmetry;
}

export const RMS_MAX = 12;

/** Field access on a packed state, split into its two 32-bit words. */
function nibble(lo: number, hi: number, rm: number): number {
  return rm < 8 ? (lo >>> (rm * 4)) & 15 : (hi >>> ((rm - 8) * 4)) & 15;
}

export class TwoPcModel implements Model<number, number> {
  readonly name = '2pc';
  readonly params: Readonly<Record<string, unknown>>;
  readonly n: number;
  readonly variant: TwoPcVariant | null;
  /** Bit offset of the TM fields within the high word. */
  private readonly tmShift: number;
  readonly properties: readonly Property<number>[];
  readonly symmetry: Model<number, number>['symmetry'];
  readonly trace: TraceAdapter<number, number>;
  private readonly scratch: number[];

  constructor(p: TwoPcParams) {
    if (!Number.isInteger(p.rms) || p.rms < 1 || p.rms > RMS_MAX) throw new InputError(`rms: must be an integer in [1, ${RMS_MAX}], got ${p.rms}`);
    this.n = p.rms;
    this.variant = p.variant;
    this.params = { rms: p.rms, variant: p.variant, symmetry: p.symmetry };
    this.tmShift = Math.max(0, p.rms - 8) * 4;
    this.scratch = new Array<number>(p.rms).fill(0);
    const self = this;
    this.properties = [
      { kind: 'sometimes', name: 'abort agreement', holds: (s) => self.allIn(s, RM_ABORTED) },
      { kind: 'sometimes', name: 'commit agreement', holds: (s) => self.allIn(s, RM_COMMITTED) },
      {
        kind: 'always',
        name: 'consistent',
        check: (s) => (self.some(s, RM_ABORTED) && self.some(s, RM_COMMITTED) ? 'one RM committed while another aborted' : null),
      },
    ];
    this.symmetry = {
      name: p.symmetry === 'sort' ? 'rms (sorted by RM state)' : 'rms (full canonical form)',
      canonicalFingerprint: p.symmetry === 'sort' ? (s, out) => this.sortedFp(s, out, 3) : (s, out) => this.sortedFp(s, out, 15),
    };
    this.trace = twoPcTrace(this);
  }

  // -------------------------------------------------------------------------------------------
  // Packing

  lo(s: number): number {
    return s >>> 0;
  }
  hi(s: number): number {
    return (s - (s >>> 0)) / TWO32;
  }
  private pack(lo: number, hi: number): number {
    return (hi >>> 0) * TWO32 + (lo >>> 0);
  }
  rmField(s: number, rm: number): number {
    return nibble(this.lo(s), this.hi(s), rm);
  }
  tmState(s: number): number {
    return (this.hi(s) >>> this.tmShift) & 3;
  }
  hasCommitMsg(s: number): boolean {
    return ((this.hi(s) >>> (this.tmShift + 2)) & 1) === 1;
  }
  hasAbortMsg(s: number): boolean {
    return ((this.hi(s) >>> (this.tmShift + 3)) & 1) === 1;
  }
  private withNibble(s: number, rm: number, v: number): number {
    let lo = this.lo(s);
    let hi = this.hi(s);
    if (rm < 8) lo = (lo & ~(15 << (rm * 4))) | (v << (rm * 4));
    else hi = (hi & ~(15 << ((rm - 8) * 4))) | (v << ((rm - 8) * 4));
    return this.pack(lo, hi);
  }
  private withTm(s: number, tm: number, msgBit: number): number {
    const hi = (this.hi(s) & ~(3 << this.tmShift)) | (tm << this.tmShift) | (msgBit << this.tmShift);
    return this.pack(this.lo(s), hi);
  }

  private allIn(s: number, st: number): boolean {
    for (let rm = 0; rm < this.n; rm++) if ((this.rmField(s, rm) & 3) !== st) return false;
    return true;
  }
  private some(s: number, st: number): boolean {
    for (let rm = 0; rm < this.n; rm++) if ((this.rmField(s, rm) & 3) === st) return true;
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // The transition system

  initStates(): readonly number[] {
    // Every RM working, the TM in its initial state, no message sent: all fields zero.
    return [0];
  }

  actions(s: number, out: number[]): void {
    const lo = this.lo(s);
    const hi = this.hi(s);
    const tm = (hi >>> this.tmShift) & 3;
    const commitMsg = (hi >>> (this.tmShift + 2)) & 1;
    const abortMsg = (hi >>> (this.tmShift + 3)) & 1;
    if (tm === 0) {
      let prepared = 0;
      for (let rm = 0; rm < this.n; rm++) if (nibble(lo, hi, rm) & TM_PREPARED_BIT) prepared++;
      const commitOk = this.variant === 'commit-early' ? prepared > 0 : prepared === this.n;
      if (commitOk) out.push(TM_COMMIT * 16);
      out.push(TM_ABORT * 16);
    }
    for (let rm = 0; rm < this.n; rm++) {
      const f = nibble(lo, hi, rm);
      const st = f & 3;
      if (tm === 0 && (f & PREPARED_MSG_BIT) !== 0) out.push(TM_RCV_PREPARED * 16 + rm);
      if (st === RM_WORKING) out.push(RM_PREPARE * 16 + rm);
      if (st === RM_WORKING || (st === RM_PREPARED && this.variant === 'abort-after-prepare')) out.push(RM_CHOOSE_TO_ABORT * 16 + rm);
      if (commitMsg) out.push(RM_RCV_COMMIT * 16 + rm);
      if (abortMsg) out.push(RM_RCV_ABORT * 16 + rm);
    }
  }

  next(s: number, a: number, _forks: number[] | null): number {
    const rm = a & 15;
    const kind = a >>> 4;
    switch (kind) {
      case TM_RCV_PREPARED:
        return this.withNibble(s, rm, this.rmField(s, rm) | TM_PREPARED_BIT);
      case TM_COMMIT:
        return this.withTm(s, 1, 4 | (this.hasAbortMsg(s) ? 8 : 0));
      case TM_ABORT:
        return this.withTm(s, 2, 8 | (this.hasCommitMsg(s) ? 4 : 0));
      case RM_PREPARE:
        return this.withNibble(s, rm, (this.rmField(s, rm) & ~3) | RM_PREPARED | PREPARED_MSG_BIT);
      case RM_CHOOSE_TO_ABORT:
      case RM_RCV_ABORT:
        return this.withNibble(s, rm, (this.rmField(s, rm) & ~3) | RM_ABORTED);
      case RM_RCV_COMMIT:
        return this.withNibble(s, rm, (this.rmField(s, rm) & ~3) | RM_COMMITTED);
      default:
        throw new InputError(`2pc: unknown action code ${a}`);
    }
  }

  fingerprint(s: number, out: Fp): void {
    out[0] = s >>> 0;
    out[1] = (s - (s >>> 0)) / TWO32;
  }

  /**
   * Permutes the RMs so their nibbles are sorted by `keyMask` of the nibble, ties kept in index
   * order (a stable counting sort), and writes the fingerprint of the result. With mask 3 this is
   * Stateright's representative (`RewritePlan::from_values_to_sort` over the RM states, applied to
   * every per-RM field); with mask 15 the whole per-RM record is the key and the result is a true
   * canonical form: one representative per orbit.
   */
  private sortedFp(s: number, out: Fp, keyMask: number): void {
    const lo = this.lo(s);
    const hi = this.hi(s);
    const nib = this.scratch;
    let k = 0;
    for (let key = 0; key <= keyMask; key++) {
      for (let rm = 0; rm < this.n; rm++) {
        const f = nibble(lo, hi, rm);
        if ((f & keyMask) === key) nib[k++] = f;
      }
    }
    let nlo = 0;
    // Keep the TM fields of the high word; RMs 8-11, when present, sit below them.
    let nhi = hi & ~((1 << this.tmShift) - 1);
    for (let rm = 0; rm < this.n; rm++) {
      if (rm < 8) nlo |= nib[rm]! << (rm * 4);
      else nhi |= nib[rm]! << ((rm - 8) * 4);
    }
    out[0] = nlo;
    out[1] = nhi;
  }

  independent(a: number, b: number): boolean {
    const ka = a >>> 4;
    const kb = b >>> 4;
    const rmA = ka >= RM_PREPARE || ka === TM_RCV_PREPARED;
    const rmB = kb >= RM_PREPARE || kb === TM_RCV_PREPARED;
    // RM-local steps of different RMs touch disjoint fields, and so does the TM's receipt of one
    // RM's Prepared next to another RM's step. Two TM steps, or a step next to TmCommit/TmAbort,
    // conflict.
    if (!rmA || !rmB) return false;
    if ((a & 15) === (b & 15)) return false;
    return !(ka === TM_RCV_PREPARED && kb === TM_RCV_PREPARED);
  }

  thread(a: number): number {
    const kind = a >>> 4;
    return kind <= TM_ABORT ? 0 : 1 + (a & 15);
  }

  actionKey(a: number): string {
    const kind = a >>> 4;
    return kind === TM_COMMIT || kind === TM_ABORT ? ACTION_NAMES[kind]! : `${ACTION_NAMES[kind]!}(${a & 15})`;
  }

  describeAction(a: number): string {
    return this.actionKey(a);
  }

  describeState(s: number): unknown {
    const rms = [];
    for (let rm = 0; rm < this.n; rm++) {
      const f = this.rmField(s, rm);
      rms.push({ state: RM_NAMES[f & 3], tmPrepared: (f & TM_PREPARED_BIT) !== 0, preparedSent: (f & PREPARED_MSG_BIT) !== 0 });
    }
    const msgs: string[] = [];
    for (let rm = 0; rm < this.n; rm++) if (this.rmField(s, rm) & PREPARED_MSG_BIT) msgs.push(`Prepared(${rm})`);
    if (this.hasCommitMsg(s)) msgs.push('Commit');
    if (this.hasAbortMsg(s)) msgs.push('Abort');
    return { tm: TM_NAMES[this.tmState(s)], rms, msgs };
  }
}

/** Draws 2pc as nodes `tm`, `rm0`, ... for the trace viewer. */
function twoPcTrace(m: TwoPcModel): TraceAdapter<number, number> {
  const rmId = (rm: number) => `rm${rm}`;
  const rmState = (s: number, rm: number) => {
    const f = m.rmField(s, rm);
    return { state: RM_NAMES[f & 3], preparedSent: (f & PREPARED_MSG_BIT) !== 0 };
  };
  const tmState = (s: number) => {
    const prepared: number[] = [];
    for (let rm = 0; rm < m.n; rm++) if (m.rmField(s, rm) & TM_PREPARED_BIT) prepared.push(rm);
    return { state: TM_NAMES[m.tmState(s)], prepared };
  };
  const toAll = (type: string) => Array.from({ length: m.n }, (_, rm) => ({ type: 'send', to: rmId(rm), msg: { type } }));
  return {
    nodes: () => [{ id: 'tm', role: 'tm', driver: false }, ...Array.from({ length: m.n }, (_, rm) => ({ id: rmId(rm), role: 'rm', driver: false }))],
    boot: (s) => [{ type: 'boot', t: 0, node: 'tm', state: tmState(s) }, ...Array.from({ length: m.n }, (_, rm) => ({ type: 'boot', t: 0, node: rmId(rm), state: rmState(s, rm) }))],
    step(_prev, a, next, i) {
      const kind = a >>> 4;
      const rm = a & 15;
      const base = { type: 'step', i, t: i + 1 };
      switch (kind) {
        case TM_RCV_PREPARED:
          return [{ ...base, node: 'tm', input: { type: 'message', from: rmId(rm), msg: { type: 'Prepared', rm } }, effects: [], state: tmState(next) }];
        case TM_COMMIT:
          return [{ ...base, node: 'tm', input: { type: 'timer', timer: 'TmCommit' }, effects: toAll('Commit'), state: tmState(next) }];
        case TM_ABORT:
          return [{ ...base, node: 'tm', input: { type: 'timer', timer: 'TmAbort' }, effects: toAll('Abort'), state: tmState(next) }];
        case RM_PREPARE:
          return [{ ...base, node: rmId(rm), input: { type: 'timer', timer: 'RmPrepare' }, effects: [{ type: 'send', to: 'tm', msg: { type: 'Prepared', rm } }], state: rmState(next, rm) }];
        case RM_CHOOSE_TO_ABORT:
          return [{ ...base, node: rmId(rm), input: { type: 'timer', timer: 'RmChooseToAbort' }, effects: [], state: rmState(next, rm) }];
        case RM_RCV_COMMIT:
          return [{ ...base, node: rmId(rm), input: { type: 'message', from: 'tm', msg: { type: 'Commit' } }, effects: [], state: rmState(next, rm) }];
        case RM_RCV_ABORT:
          return [{ ...base, node: rmId(rm), input: { type: 'message', from: 'tm', msg: { type: 'Abort' } }, effects: [], state: rmState(next, rm) }];
        default:
          return assertNever(kind as never, '2pc action');
      }
    },
  };
}
