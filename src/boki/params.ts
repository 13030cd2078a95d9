/**
 * Parameters of the Boki system (the SystemDef `defaults`) and its named variants.
 *
 * Defaults are the published evaluation setup (spec §7.2): 3 sequencers with 3 metalog replicas,
 * 8 engines that all index every physical log, 3 storage nodes holding every shard, one physical
 * log, 300 us cut intervals. Knobs marked P in spec §7.1 are project rules. Workload knobs drive
 * the log's own workload driver; the Halfmoon system reuses the cluster and ignores them.
 */
import { InputError } from '../core/assert.ts';
import type { VariantDef } from '../core/system.ts';

export interface BokiParams {
  // Topology.
  sequencers: number;
  spareSequencers: number;
  engines: number;
  storages: number;
  // Spec §7.1 knobs.
  metalogReplicas: number;
  userlogReplicas: number;
  indexReplicas: number;
  /**
   * How index engines learn committed entries and their rows (spec §4.2 steps 8 and 11).
   * true (the default), the prototype: the primary sends every committed entry to every index
   * engine, and every storage replica sends the entry's rows to every index engine (indexes keep
   * the first copy). false, the project's compact feed (issue 18, opt-in; 52.6 -> 31.9 events per
   * append on the published topology; on a loaded real cluster it cost throughput, see
   * docs/performance.md): index engine j of a log takes shard k's rows from one replica only,
   * storagesOf(k)[j mod R], and that IndexData carries the entry itself, so the primary sends a
   * NEW_LOGS entry only to its producing engines and their storages (TRIM entries, which have no
   * rows, still go to every index engine); an index that waits a whole repair interval for rows
   * asks every replica (IndexDataReq), and one that misses entries catches up from the primary.
   */
  publishedIndexFeed: boolean;
  numPhylogs: number;
  randomSeed: number;
  globalCutIntervalUs: number;
  localCutIntervalUs: number;
  hashTokens: number;
  sealTailEntries: number;
  engineCache: boolean;
  engineCacheEntries: number;
  propagateAuxData: boolean;
  forceRemoteIndex: boolean;
  probRemoteIndex: number;
  storageCacheEntries: number;
  storageFlushIntervalMs: number;
  storageMaxLiveEntries: number;
  blockingReadTimeoutMs: number;
  maxRecordBytes: number;
  appendRetries: number;
  appendRetryBaseMs: number;
  readTimeoutMs: number;
  readRetries: number;
  heartbeatIntervalMs: number;
  failureTimeoutMs: number;
  reconfigDebounceMs: number;
  storageSyncPolicy: string;
  livenessBoundMs: number;
  // Repair timers (project decisions: channels are resent on timers, spec §9.1).
  repairIntervalMs: number;
  bootWaitMs: number;
  // Workload of the log driver.
  appendsPerSec: number;
  readRatio: number;
  condRatio: number;
  overwriteRatio: number;
  auxRatio: number;
  trimRatio: number;
  blockingReadRatio: number;
  childRatio: number;
  books: number;
  tagsPerBook: number;
  invocations: number;
  opsPerInvocation: number;
  durationMs: number;
  startMs: number;
  settleMs: number;
  clientTimeoutMs: number;
  payloadBytes: number;
  probes: boolean;
  /**
   * The driver's workload: 'mixed' (the random mix above, paced by think times, then drain, probe
   * and settle) or 'script' (explorer-sized: one invocation issuing a fixed handful of operations
   * one after another, done when the last is answered; see driver.ts).
   */
  workload: string;
}

export const BOKI_DEFAULTS: BokiParams = {
  sequencers: 3,
  spareSequencers: 2,
  engines: 8,
  storages: 3,
  metalogReplicas: 3,
  userlogReplicas: 3,
  indexReplicas: 8,
  publishedIndexFeed: true,
  numPhylogs: 1,
  randomSeed: 23333,
  globalCutIntervalUs: 300,
  localCutIntervalUs: 300,
  hashTokens: 128,
  sealTailEntries: 32,
  engineCache: true,
  engineCacheEntries: 65536,
  propagateAuxData: true,
  forceRemoteIndex: false,
  probRemoteIndex: 0,
  storageCacheEntries: 65536,
  storageFlushIntervalMs: 1,
  storageMaxLiveEntries: 65536,
  blockingReadTimeoutMs: 1000,
  maxRecordBytes: 2496,
  appendRetries: 4,
  appendRetryBaseMs: 5,
  readTimeoutMs: 200,
  readRetries: 3,
  heartbeatIntervalMs: 100,
  failureTimeoutMs: 1000,
  reconfigDebounceMs: 200,
  storageSyncPolicy: 'sync-before-progress',
  livenessBoundMs: 5000,
  repairIntervalMs: 20,
  bootWaitMs: 20,
  appendsPerSec: 1000,
  readRatio: 0.3,
  condRatio: 0.1,
  overwriteRatio: 0.02,
  auxRatio: 0.02,
  trimRatio: 0.002,
  blockingReadRatio: 0.02,
  childRatio: 0.05,
  books: 4,
  tagsPerBook: 3,
  invocations: 16,
  opsPerInvocation: 8,
  durationMs: 1000,
  startMs: 10,
  settleMs: 200,
  clientTimeoutMs: 1500,
  payloadBytes: 48,
  probes: true,
  workload: 'mixed',
};

/** Published behaviours (spec §9.2) and deliberate bugs (prefix `bug-`), each a flag. */
export const BOKI_VARIANTS = [
  'seal-only-from-view-0',
  'continuation-flag',
  'metalog-single-replica-stall',
  'localid-reuse-after-restart',
  'storage-restart-abort',
  'finalize-no-catchup',
  'finalize-ahead-by-one',
  'manual-reconfig-only',
  'reconfig-keeps-dead-nodes',
  'read-no-timeout',
  'lazy-blocking-timeout',
  'storage-lazy-unsynced',
  'trim-unimplemented',
  'gapped-condpos-crash',
  'readprev-pending-hang',
  'bug-cut-skips-min',
  'bug-discard-covered',
  'bug-lost-discard',
  'bug-seqnum-shard-order',
  'bug-cond-ge',
  'bug-no-progress',
  'bug-backup-reorders',
  'bug-blocking-no-wait',
] as const;

export type BokiVariant = (typeof BOKI_VARIANTS)[number];

export const BOKI_VARIANT_DEFS: readonly VariantDef[] = [
  { name: 'seal-only-from-view-0', description: 'the seal quorum check compares a logspace id with a sequencer id, so only view 0 ever seals', exposedBy: 'log-variant-seal-only-from-view-0' },
  { name: 'continuation-flag', description: 'a remote index treats every query as initial and dies on progress from a newer view', exposedBy: 'log-variant-continuation-flag' },
  { name: 'metalog-single-replica-stall', description: 'with no backups the replicated position never advances, so nothing commits', exposedBy: 'log-variant-metalog-single-replica-stall' },
  { name: 'localid-reuse-after-restart', description: 'a restarted engine restarts its localid counter at 0 inside the view', exposedBy: 'log-variant-localid-reuse-after-restart' },
  { name: 'storage-restart-abort', description: 'a restarted storage forgets its unordered records and aborts on the first entry covering one', exposedBy: 'log-variant-storage-restart-abort' },
  { name: 'finalize-no-catchup', description: 'a node more than sealTailEntries behind at finalize is fatal instead of catching up', exposedBy: 'log-variant-finalize-no-catchup' },
  { name: 'finalize-ahead-by-one', description: 'a primary one entry past the final position keeps that entry', exposedBy: 'log-variant-finalize-ahead-by-one' },
  { name: 'manual-reconfig-only', description: 'crashes are only recorded; nothing reconfigures without an operator', exposedBy: 'log-sequencer-failover' },
  { name: 'reconfig-keeps-dead-nodes', description: 'a new view keeps every engine and storage node, dead or alive', exposedBy: 'log-variant-reconfig-keeps-dead-nodes' },
  { name: 'read-no-timeout', description: 'reads never time out or retry at another replica', exposedBy: 'log-variant-read-no-timeout' },
  { name: 'lazy-blocking-timeout', description: 'blocking reads expire only when the index advances', exposedBy: 'log-variant-lazy-blocking-timeout' },
  { name: 'storage-lazy-unsynced', description: 'storage persists records only after ordering, without sync', exposedBy: 'log-variant-storage-lazy-unsynced' },
  { name: 'trim-unimplemented', description: 'trim aborts the engine with NOT_IMPLEMENTED', exposedBy: 'log-smoke' },
  { name: 'gapped-condpos-crash', description: 'a condAppend with condPos beyond the stream length aborts the engine', exposedBy: 'log-smoke' },
  { name: 'readprev-pending-hang', description: 'the loop over parked readPrev queries neither advances nor erases', exposedBy: 'log-variant-readprev-pending-hang' },
  { name: 'bug-cut-skips-min', description: 'deliberate bug: the primary cuts at the largest storage progress, not the smallest', exposedBy: 'log-storage-crash' },
  { name: 'bug-discard-covered', description: 'deliberate bug: finalize answers DISCARDED even for appends the final tail covers', exposedBy: 'log-variant-bug-discard-covered' },
  { name: 'bug-lost-discard', description: 'deliberate bug: finalize forgets uncovered pending appends instead of discarding them', exposedBy: 'log-sequencer-failover' },
  { name: 'bug-seqnum-shard-order', description: 'deliberate bug: engines assign seqnums to shards in reverse engine order', exposedBy: 'log-smoke' },
  { name: 'bug-cond-ge', description: 'deliberate bug: a conditional append succeeds when the stream is at least condPos long', exposedBy: 'log-smoke' },
  { name: 'bug-no-progress', description: 'deliberate bug: an append does not advance its invocation\'s progress token', exposedBy: 'log-variant-bug-no-progress' },
  { name: 'bug-backup-reorders', description: 'deliberate bug: a backup applies entries as they arrive, without buffering gaps', exposedBy: 'log-variant-bug-backup-reorders' },
  { name: 'bug-blocking-no-wait', description: 'deliberate bug: a blocking readNext that finds nothing answers EMPTY at once instead of parking', exposedBy: 'log-variant-lazy-blocking-timeout' },
];

export function isBokiVariant(v: string | null): v is BokiVariant {
  return v !== null && (BOKI_VARIANTS as readonly string[]).includes(v);
}

export function validateBokiParams(p: BokiParams): void {
  const int = (k: keyof BokiParams, lo: number, hi: number) => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new InputError(`params.${k}: must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  };
  const ratio = (k: keyof BokiParams) => {
    const v = p[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new InputError(`params.${k}: must be a number in [0, 1], got ${String(v)}`);
  };
  int('sequencers', 1, 64);
  int('spareSequencers', 0, 64);
  int('engines', 1, 256);
  int('storages', 1, 256);
  int('metalogReplicas', 1, 15);
  int('userlogReplicas', 1, 15);
  int('indexReplicas', 1, 256);
  if (typeof p.publishedIndexFeed !== 'boolean') throw new InputError(`params.publishedIndexFeed: must be true or false, got ${String(p.publishedIndexFeed)}`);
  int('numPhylogs', 1, 64);
  int('randomSeed', 0, 0xffff_ffff);
  int('globalCutIntervalUs', 10, 1_000_000);
  int('localCutIntervalUs', 10, 1_000_000);
  int('hashTokens', 1, 4096);
  int('sealTailEntries', 1, 4096);
  int('engineCacheEntries', 0, 10_000_000);
  int('storageCacheEntries', 0, 10_000_000);
  int('storageFlushIntervalMs', 1, 60_000);
  int('storageMaxLiveEntries', 1, 100_000_000);
  int('blockingReadTimeoutMs', 1, 600_000);
  int('maxRecordBytes', 16, 2496);
  int('appendRetries', 0, 64);
  int('appendRetryBaseMs', 0, 60_000);
  int('readTimeoutMs', 1, 600_000);
  int('readRetries', 0, 64);
  int('heartbeatIntervalMs', 1, 600_000);
  int('failureTimeoutMs', 1, 3_600_000);
  int('reconfigDebounceMs', 0, 3_600_000);
  int('livenessBoundMs', 1, 3_600_000);
  int('repairIntervalMs', 1, 600_000);
  int('bootWaitMs', 0, 600_000);
  int('appendsPerSec', 0, 10_000_000);
  int('books', 1, 1_000_000);
  int('tagsPerBook', 1, 64);
  int('invocations', 1, 100_000);
  int('opsPerInvocation', 1, 1_000_000);
  int('durationMs', 0, 3_600_000);
  int('startMs', 0, 3_600_000);
  int('settleMs', 0, 3_600_000);
  int('clientTimeoutMs', 1, 3_600_000);
  int('payloadBytes', 1, 2400);
  for (const k of ['readRatio', 'condRatio', 'overwriteRatio', 'auxRatio', 'trimRatio', 'blockingReadRatio', 'childRatio', 'probRemoteIndex'] as const) ratio(k);
  if (p.readRatio + p.condRatio + p.overwriteRatio + p.auxRatio + p.trimRatio > 1) {
    throw new InputError('params: readRatio + condRatio + overwriteRatio + auxRatio + trimRatio must be at most 1 (the rest are appends)');
  }
  if (p.numPhylogs > p.sequencers) throw new InputError(`params.numPhylogs: ${p.numPhylogs} physical logs need at least as many sequencers (${p.sequencers})`);
  if (p.metalogReplicas > p.sequencers) throw new InputError(`params.metalogReplicas: ${p.metalogReplicas} replicas need at least as many sequencers (${p.sequencers})`);
  if (p.userlogReplicas > p.storages) throw new InputError(`params.userlogReplicas: ${p.userlogReplicas} replicas need at least as many storage nodes (${p.storages})`);
  if (p.storageSyncPolicy !== 'sync-before-progress' && p.storageSyncPolicy !== 'lazy-after-order') {
    throw new InputError(`params.storageSyncPolicy: must be 'sync-before-progress' or 'lazy-after-order', got '${p.storageSyncPolicy}'`);
  }
  if (p.workload !== 'mixed' && p.workload !== 'script') throw new InputError(`params.workload: must be 'mixed' or 'script', got '${String(p.workload)}'`);
  if (p.payloadBytes + 8 * (p.tagsPerBook + 1) > p.maxRecordBytes) throw new InputError('params.payloadBytes: the workload\'s records must fit maxRecordBytes');
}

/**
 * The parameters the nodes keep in their state: without the driver-only `workload` key, so that
 * adding it changed no machine state (state digests and trace hashes are as they were).
 */
export function nodeParams(p: BokiParams): BokiParams {
  const { workload, ...rest } = p;
  void workload;
  return rest as BokiParams;
}
