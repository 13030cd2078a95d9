/**
 * Halfmoon's artifact variants (spec §10.2) and the log-layer ones it shares with Boki: each a
 * published behaviour kept reachable as a flag, with the schedule that exposes it.
 */
import type { VariantDef } from '../core/system.ts';

export const HALFMOON_VARIANTS: readonly VariantDef[] = [
  { name: 'invoke-result-unwrapped', description: 'callee writes its raw result into the caller\'s slot: no wrapper, no cursor', exposedBy: 'wf-variant-invoke-result-unwrapped (sync invoke, caller crash before Done, retry)' },
  { name: 'advisory-exit', description: 'after COND_FAILED the execution carries on instead of aborting', exposedBy: 'wf-variant-duplicates (concurrent duplicate executions)' },
  { name: 'gapped-condpos-crash', description: 'a conditional append beyond the stream length crashes the engine', exposedBy: 'a condAppend past the stream length (log layer; the canonical runtime never issues one)' },
  { name: 'readprev-pending-hang', description: 'a readPrev parked ahead of the index is never re-examined (Boki engine)', exposedBy: 'log-variant-readprev-pending-hang (a Boki engine variant; with log=boki the Halfmoon system passes it to the engines)' },
  { name: 'hmw-version-tie', description: 'HM-W versions are the cursor alone, so two writes between logged steps tie', exposedBy: 'wf-variant-version-tie (two writes to one key, no logged step between)' },
  { name: 'hmr-caller-misses-callee-writes', description: 'no cursor propagation from callee to caller (HM-R)', exposedBy: 'callee writes k, caller then reads k' },
  { name: 'hmw-caller-write-dropped', description: 'no cursor propagation from callee to caller (HM-W)', exposedBy: 'callee writes k, caller then writes k' },
  { name: 'hmr-read-past-cursor', description: 'deliberate bug: HM-R reads take the latest version of the key, not the latest at or below the cursor', exposedBy: 'a read concurrent with a later write of its key (failure-free; only the C6 past-cursor check sees it)' },
  { name: 'hmr-empty-snapshot-reads-latest', description: 'deliberate bug: an HM-R read of a key with no version at or below its cursor reads the latest version row, not INIT (the witness stays INIT)', exposedBy: 'a read of a never-written key concurrent with its first write (failure-free; only the C6 witness check sees it)' },
  { name: 'hmw-reread-unlogged', description: 'deliberate bug: HM-W logs only the first read of a key in an execution; a repeat read goes to the base row live', exposedBy: 'a request that reads one key twice (failure-free; only P5-unlogged-op sees it, a crash between the reads makes the replay read anew)' },
  { name: 'eventual-store-reads', description: 'store reads may return state up to 5 ms old', exposedBy: 'reads just after writes' },
  { name: 'version-float64', description: 'versions stored as float64 collapse seqnums beyond 2^53', exposedBy: 'large seqnums differing in low bits' },
  { name: 'keytag-xor-symmetric', description: 'key tag = h(t) XOR h(k) with no (t, k) check', exposedBy: 'write (a, b), read (b, a)' },
  { name: 'step-hash-collision-fatal', description: '3-bit step tags and a fatal foreign record, as with hashed tags', exposedBy: 'two instances whose step tags collide' },
  { name: 'done-plain-append', description: 'Done is a plain append, duplicated by concurrent executions', exposedBy: 'duplicate executions both completing' },
  { name: 'done-replay-drops-output', description: 'deliberate bug: a retry that finds the request\'s Done answers null instead of the output Done recorded', exposedBy: 'a retry of a completed request (response lost or late); only C5-stable-output sees it' },
  { name: 'random-top-level-id', description: 'a retried request gets a fresh instance id', exposedBy: 'lost response, retry' },
  { name: 'hmr-no-postwrite-skip', description: 'replay re-puts the version row although the PostWrite is logged', exposedBy: 'crash after PostWrite (no violation expected without GC: reportable)' },
  { name: 'switch-no-reconciliation', description: 'switching without the base-row mirror or markers, one shared initial row', exposedBy: 'wf-switching (write k in one era, read it in the next)' },
  { name: 'switch-drain-never-starts', description: 'deliberate bug: the coordinator never starts the drain when the last old-mode request ends, so a switch begun with requests in flight stays transitional', exposedBy: 'wf-switching (a switch with requests in flight; only switch-liveness sees it, the transitional mode is safe)' },
  { name: 'transitional-early-commit', description: 'transitional writes log the PostWrite before the store writes land', exposedBy: 'wf-switching with crashes (PostWrite lands, the put is lost)' },
  { name: 'transitional-dual-order', description: 'transitional base-row version = PreWrite seqnum, stream ordered by PostWrite', exposedBy: 'two transitional writers of one key with crossing PreWrite/PostWrite orders' },
  { name: 'postread-untyped', description: 'PostRead records lack table and key, so replay checks fail', exposedBy: 'HM-W re-execution after a logged read' },
  // Log-optimality ablations (spec §7.4): each omits one record kind; the operation runs live on
  // every execution, the cursor does not move, derived fields take a live substitute.
  { name: 'ablate-intent', description: 'ablation: no Intent record; the start cursor is checkTail(INTENT), read anew by each execution', exposedBy: 'read, crash, a concurrent write commits, the re-execution starts from a newer cursor (HM-R C2; HM-W C3)' },
  { name: 'ablate-done', description: 'ablation: no Done record (expected to survive: retries replay the steps)', exposedBy: 'response lost, retry (no violation expected)' },
  { name: 'ablate-prewrite', description: 'ablation: no PreWrite; the version is the current cursor (Boki: the latest step seqnum)', exposedBy: 'HM-R: async callee and caller write one key at a shared cursor; Boki: two writes to one key with no step between (C1)' },
  { name: 'ablate-postwrite', description: 'ablation: no PostWrite (HM-R: writes never commit; Boki: expected to survive, the replayed condUpdate is a no-op)', exposedBy: 'HM-R: any write, failure-free (C1)' },
  { name: 'ablate-postread', description: 'ablation: no PostRead/Read record; reads go to the base row live, as unsafe', exposedBy: 'read, crash, a concurrent write commits, the re-execution reads the new value (C2)' },
  { name: 'ablate-preinvoke', description: 'ablation: no PreInvoke; a fresh callee id per execution, starting at the cursor', exposedBy: 'caller crashes after the callee finished; the re-execution creates a second callee (C3/C4)' },
  { name: 'ablate-invokeresult', description: 'ablation: no InvokeResult (expected to survive without GC: the callee replays deterministically)', exposedBy: 'caller crash after the callee finished (no violation expected without GC)' },
  { name: 'ablate-callee-markers', description: 'ablation (Boki): callees append no Intent or Done marker (expected to survive: Halfmoon drops them)', exposedBy: 'no violation expected' },
];
