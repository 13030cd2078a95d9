/**
 * The recovery driver for abandoned asynchronous invocations (spec §6.2): nobody waits for an
 * async callee, so if its execution dies nobody retries it. The driver scans the INTENT stream
 * (where every PreInvoke lives), remembers async PreInvokes, and once one has been outstanding for
 * `afterUs` without its completion (the InvokeResult overwriting the caller's slot; for BokiFlow
 * the callee's Done marker), it re-invokes the callee with the same instance id. The callee
 * catches up from its own step stream and replays, so a duplicate is harmless: the conditional
 * append arbitrates, as for any duplicate execution.
 *
 * Unlike operation programs, the scan is an explicit state machine that consumes each log answer
 * as it arrives: a scan may cover thousands of records, and re-running it from the start per
 * answer would be quadratic.
 */
import type { LogCall } from './steps.ts';
import type { LogReply } from '../boki/api.ts';
import { bokiStyle } from './styles.ts';
import { decodeRecord, type Json, type Mode, stepTag, type TagScheme } from './records.ts';

export interface AsyncEntry {
  readonly callerIid: string;
  readonly step: number;
  readonly seq: bigint;
  readonly calleeIid: string;
  readonly fn: string;
  readonly input: Json;
  readonly mode: Mode;
  readonly ordinal: number;
  readonly firstSeenUs: number;
  respawns: number;
}

export interface RecoveryConfig {
  readonly enabled: boolean;
  readonly intervalUs: number;
  readonly afterUs: number;
}

export interface RecoveryState {
  phase: 'idle' | 'begin' | 'scan' | 'check';
  scanFrom: bigint;
  entries: Map<string, AsyncEntry>;
  /** Entries due for a completion check in this round, and where a Boki check reads from. */
  queue: string[];
  checkFrom: bigint;
  startedUs: number;
  respawned: number;
  /** Consecutive rounds that found nothing new and nothing outstanding (for quiescence). */
  quietRounds: number;
  /** Whether the running round has seen a new async PreInvoke. */
  sawNew: boolean;
  /** Rounds completed since start (quiescence counts rounds after the system went idle). */
  rounds: number;
  /** Coordinator drain queries waiting for a full round (every entry checked, not only due ones). */
  drainWaiters: { reqId: string; modes: readonly Mode[] }[];
  /** The running round checks every entry (it answers drain queries). */
  full: boolean;
}

/** Async invocations tracked at once, at most. */
export const RECOVERY_ENTRIES_MAX = 1_000_000;

export function freshRecovery(): RecoveryState {
  return { phase: 'begin', scanFrom: 0n, entries: new Map(), queue: [], checkFrom: 0n, startedUs: 0, respawned: 0, quietRounds: 0, sawNew: false, rounds: 0, drainWaiters: [], full: false };
}

export interface RecoveryIo {
  log(call: LogCall): void;
  respawn(e: AsyncEntry): void;
  rearm(): void;
  /** Answers a drain query: how many async invocations of these modes are unfinished. */
  answerDrain(reqId: string, pending: number): void;
  /** Records a round's start, and its end (clean: it found nothing new and nothing outstanding). */
  round(stage: 'start' | 'end', clean: boolean): void;
}

/**
 * A drain query (switching coordinator): answered after the next full round, which scans the
 * INTENT stream to its tail and checks every tracked invocation for completion.
 */
export function recoveryDrain(r: RecoveryState, reqId: string, modes: readonly Mode[], nowUs: number, intentTag: bigint, io: RecoveryIo): void {
  r.drainWaiters.push({ reqId, modes });
  if (r.phase === 'idle') startRound(r, nowUs, intentTag, io, true);
}

/** Starts a round (on the recovery timer). */
export function recoveryTick(r: RecoveryState, nowUs: number, intentTag: bigint, io: RecoveryIo): void {
  if (r.phase !== 'idle') return;
  startRound(r, nowUs, intentTag, io, r.drainWaiters.length > 0);
}

function startRound(r: RecoveryState, nowUs: number, intentTag: bigint, io: RecoveryIo, full: boolean): void {
  io.round('start', false);
  r.phase = 'scan';
  r.startedUs = nowUs;
  r.sawNew = false;
  r.full = full;
  io.log({ op: 'readNext', tag: intentTag, minSeq: r.scanFrom });
}

/** Consumes one log answer of the running round. */
export function recoveryAnswer(r: RecoveryState, rep: LogReply, tags: TagScheme, intentTag: bigint, afterUs: number, io: RecoveryIo): void {
  switch (r.phase) {
    case 'begin':
      r.phase = 'idle';
      io.rearm();
      return;
    case 'scan': {
      if (rep.code === 'READ_OK') {
        r.scanFrom = rep.record.seqnum + 1n;
        const env = decodeRecord(rep.record.data);
        const rec = env?.rec;
        if (rec) {
          const id = `${rec.iid}|${rec.step}`;
          if (rec.kind === 'PreInvoke' && rec.async && !r.entries.has(id) && r.entries.size < RECOVERY_ENTRIES_MAX) {
            r.entries.set(id, { callerIid: rec.iid, step: rec.step, seq: rep.record.seqnum, calleeIid: rec.calleeIid, fn: rec.fn, input: rec.input, mode: rec.mode, ordinal: rec.ordinal, firstSeenUs: r.startedUs, respawns: 0 });
            r.sawNew = true;
          } else if (rec.kind === 'InvokeResult') r.entries.delete(id);
        }
        io.log({ op: 'readNext', tag: intentTag, minSeq: r.scanFrom });
        return;
      }
      r.queue = [];
      for (const [id, e] of r.entries) if (r.full || due(r, e, afterUs)) r.queue.push(id);
      r.phase = 'check';
      r.checkFrom = 0n;
      return nextCheck(r, tags, io, afterUs);
    }
    case 'check': {
      const id = r.queue[0]!;
      const e = r.entries.get(id)!;
      if (bokiStyle(e.mode)) {
        // BokiFlow: the callee's own stream holds its Done marker once it completed.
        if (rep.code === 'READ_OK') {
          const env = decodeRecord(rep.record.data);
          if (env && env.marker && env.rec.kind === 'Done' && env.rec.iid === e.calleeIid) return finishCheck(r, id, true, tags, io, afterUs);
          r.checkFrom = rep.record.seqnum + 1n;
          io.log({ op: 'readNext', tag: stepTag(tags, e.calleeIid), minSeq: r.checkFrom });
          return;
        }
        return finishCheck(r, id, false, tags, io, afterUs);
      }
      // Halfmoon: the callee overwrote the caller's PreInvoke slot with its InvokeResult.
      let done = false;
      if (rep.code === 'READ_OK' && rep.record.seqnum === e.seq) {
        const env = decodeRecord(rep.record.data);
        done = env !== null && env.rec.kind === 'InvokeResult';
      }
      return finishCheck(r, id, done, tags, io, afterUs);
    }
    case 'idle':
      return;
  }
}

function due(r: RecoveryState, e: AsyncEntry, afterUs: number): boolean {
  return r.startedUs - e.firstSeenUs >= afterUs * (e.respawns + 1);
}

function nextCheck(r: RecoveryState, tags: TagScheme, io: RecoveryIo, afterUs: number): void {
  const id = r.queue[0];
  if (id === undefined) {
    r.phase = 'idle';
    const clean = !r.sawNew && r.entries.size === 0;
    r.quietRounds = clean ? r.quietRounds + 1 : 0;
    r.rounds++;
    io.round('end', clean);
    if (r.full) {
      // Only waiters that were queued before this round began are answered by it.
      const waiters = r.drainWaiters;
      r.drainWaiters = [];
      for (const w of waiters) {
        let pending = 0;
        for (const e of r.entries.values()) if (w.modes.includes(e.mode)) pending++;
        io.answerDrain(w.reqId, pending);
      }
    }
    io.rearm();
    return;
  }
  const e = r.entries.get(id)!;
  r.checkFrom = 0n;
  if (bokiStyle(e.mode)) io.log({ op: 'readNext', tag: stepTag(tags, e.calleeIid), minSeq: 0n });
  else io.log({ op: 'readNext', tag: stepTag(tags, e.callerIid), minSeq: e.seq });
}

function finishCheck(r: RecoveryState, id: string, done: boolean, tags: TagScheme, io: RecoveryIo, afterUs: number): void {
  r.queue.shift();
  const e = r.entries.get(id)!;
  if (done) {
    r.entries.delete(id);
    r.sawNew = true; // something settled this round; wait for a round that finds nothing
  } else if (due(r, e, afterUs)) {
    e.respawns++;
    r.respawned++;
    io.respawn(e);
  }
  nextCheck(r, tags, io, afterUs);
}
