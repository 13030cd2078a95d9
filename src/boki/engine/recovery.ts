/**
 * Restart recovery within a view (spec §9.3): after a restart the engine asks the storages of its
 * shard what they hold, relays every record some replica holds to the replicas that lack it
 * (fillers only for holes nobody holds), and resumes its localid counter above everything held.
 * Appends wait (Producer.held) until this is done.
 */
import { type Ctx, send } from '../../core/contract.ts';
import { armRepair } from '../common.ts';
import type { Replicate, ShardRecoverAck } from '../messages.ts';
import { attempt } from './appends.ts';
import { requestCatchup } from './shared.ts';
import type { Producer, EngineState, Eff } from './state.ts';

/**
 * Makes every replica of the shard hold the same record at every counter some replica holds, and
 * resumes the counter above all of them (spec §9.3, steps 2-4).
 *
 * Deviation from the spec's step 3, which fills every counter some replica lacks with a filler
 * that *replaces* pending entries: a replica that already holds the real record may have counted
 * it in a progress report, so once the lacking replicas receive their fillers the cut covers the
 * counter while the filler meant to replace the real record may still be in flight (or lost), and
 * replicas order different records at one seqnum. Relaying the real record, taken from a replica
 * that holds it, to the replicas that lack it cannot diverge; fillers remain only for counters no
 * replica holds. Both are resent like pending appends until ordered (a lost copy would stall the
 * shard), under the new incarnation so storages accept them.
 */
function repairShard(s: EngineState, p: Producer, all: readonly ShardRecoverAck[], relay: boolean, ctx: Ctx, out: Eff[]): void {
  let hi = -1;
  const byCounter = new Map<number, Replicate>();
  for (const a of all) {
    hi = Math.max(hi, a.progress - 1);
    for (const r of a.records) {
      hi = Math.max(hi, r.counter);
      if (!byCounter.has(r.counter)) byCounter.set(r.counter, r);
    }
  }
  const lo = Math.min(...all.map((a) => a.progress));
  for (let c = lo; relay && c <= hi; c++) {
    const lacking = all.some((a) => c >= a.progress && !a.held.includes(c));
    if (!lacking) continue;
    const real = byCounter.get(c);
    const rec: Replicate = real
      ? { ...real, incarnation: s.incarnation }
      : { type: 'replicate', ls: p.ls, engine: s.num, counter: c, incarnation: s.incarnation, book: 0, tags: [], data: '', kind: 'filler', condTag: 0n, condPos: 0, attemptId: `${s.self}:${s.incarnation}:filler:${c}` };
    for (const st of p.storages) out.push(send(st, rec));
    p.pending.set(c, { reqId: '', rec, sentUs: ctx.nowUs, resendUs: s.cfg.p.repairIntervalMs * 1000 });
  }
  p.counter = hi + 1;
}

export function startRecovery(s: EngineState, p: Producer, ctx: Ctx, out: Eff[]): void {
  p.recovering = new Map(p.storages.map((st) => [st, null]));
  sendRecover(s, p, ctx, out);
}

export function sendRecover(s: EngineState, p: Producer, ctx: Ctx, out: Eff[]): void {
  p.recoverSentUs = ctx.nowUs;
  for (const [st, ack] of p.recovering!) if (ack === null) out.push(send(st, { type: 'shardRecover', ls: p.ls, engine: s.num, incarnation: s.incarnation }));
  armRepair(s, out);
}

export function onRecoverAck(s: EngineState, from: string, m: ShardRecoverAck, ctx: Ctx, out: Eff[]): void {
  const p = s.producers.get(m.ls);
  if (!p || p.recovering === null || m.incarnation !== s.incarnation || !p.recovering.has(from)) return;
  p.recovering.set(from, m);
  const acks = [...p.recovering.values()];
  if (acks.some((a) => a === null)) return;
  const all = acks as ShardRecoverAck[];
  // Even when the view is already finalized somewhere, the counter must resume above every
  // counter held: a replay of the metalog would otherwise complete new appends with old records.
  repairShard(s, p, all, !all.some((a) => a.finalized), ctx, out);
  p.recovering = null;
  // Replay the committed metalog in lite mode to learn this shard's applied position.
  requestCatchup(s, p.ls, [p.info.primary], 0, ctx, out);
  const held = p.held;
  p.held = [];
  for (const reqId of held) {
    const op = s.ops.get(reqId);
    if (op && op.k === 'append') attempt(s, op, ctx, out);
  }
}
