/**
 * The latency model of the reproduction, in one place: every parameter that prices time in the
 * simulated Halfmoon-on-Boki cluster, the value used, what it makes a function observe, and where
 * the number comes from. `halfmoon reproduce` applies these as scenario overrides to every
 * experiment, and REPRODUCTION.md prints this table.
 *
 * Two kinds of numbers:
 * - *Set*: a parameter of the simulation (network, disk, store service time, IPC hop).
 * - *Emergent*: what the Boki log's machines produce from them (an append's latency comes from the
 *   links, the disk sync and the 300 µs cut intervals; nothing sets it directly). Emergent values
 *   are measured in every run (`call.*` measures) and reported beside their targets.
 */
export interface CalibrationEntry {
  /** A `--set` key: a system parameter, or a dotted scenario path. */
  readonly key: string;
  readonly value: unknown;
  /** What the functions observe as a result (for the documentation table). */
  readonly observed: string;
  readonly source: string;
}

/** Median one-way latency of a node-to-node link, µs. */
export const LINK_MEDIAN_US = 120;

export const CALIBRATION: readonly CalibrationEntry[] = [
  {
    key: 'log',
    value: 'boki',
    observed: 'the published cluster: 3 sequencers (+2 spares), 3 storage nodes, 8 engines indexing the log, one physical log',
    source: 'Halfmoon spec §9.2 and Boki spec §7.2 (experiments/*/config.json, docker-compose.yml)',
  },
  {
    key: 'logParams',
    value: { globalCutIntervalUs: 300, localCutIntervalUs: 300, metalogReplicas: 3, userlogReplicas: 3, indexReplicas: 8 },
    observed: 'cuts every 300 µs (an append waits for a local cut, the sequencers\' global cut and its replication); metalog 3, userlog 3, index 8 replicas',
    source: 'Halfmoon spec §9.2 and §9.5, Boki spec §7.1-7.2 (published cut intervals and replication)',
  },
  {
    key: 'engines',
    value: 8,
    observed: 'functions co-located with the 8 engines',
    source: 'Halfmoon spec §9.2',
  },
  {
    key: 'network.default.latency',
    value: { dist: 'lognormal', medianUs: LINK_MEDIAN_US, sigma: 0.25, capUs: 2000 },
    observed: 'node-to-node hop ≈ 0.12 ms (an EC2 c5d round trip ≈ 0.24 ms with RPC overhead)',
    source: "the Boki log's own calibration (scenarios/log-smoke.yaml), which lands the append median near 1 ms at 300 µs cuts",
  },
  {
    key: 'disk.syncLatencyUs',
    value: 50,
    observed: 'storage-node fdatasync 50 µs (NVMe)',
    source: 'scenarios/log-smoke.yaml (c5d NVMe)',
  },
  {
    key: 'ipcUs',
    value: 100,
    observed: 'every data-path log call pays a 0.1 ms function-to-engine round trip',
    source: "the prototype's IPC hop, 50 µs each way as in scenarios/log-smoke.yaml; the §8.1 fit puts a log read at ≈0.2 ms",
  },
  {
    key: 'network.client.latency',
    value: { dist: 'constant', us: 500 },
    observed: 'invocation overhead 1 ms per request (0.5 ms each way between gateway and function)',
    source: 'Halfmoon spec §9.5: invocation overhead assumed 1 ms',
  },
  {
    key: 'storeGetUs',
    value: 2000 - 2 * LINK_MEDIAN_US,
    observed: 'store get ≈ 2.0 ms as the function sees it (1.76 ms service + two 0.12 ms hops)',
    source: 'Halfmoon spec §9.5: get 2.0 ms assumed (DynamoDB latency is not published)',
  },
  {
    key: 'storePutUs',
    value: 3800 - 2 * LINK_MEDIAN_US,
    observed: 'store put / conditional update ≈ 3.8 ms as seen (3.56 ms service + two hops)',
    source: 'Halfmoon spec §9.5: put 3.8 ms assumed, from the rw slopes (an update costs ≈1.8 ms more than a get)',
  },
  {
    key: 'storeJitterUs',
    value: 0,
    observed: 'store service times are constant',
    source: 'no published distribution; p99s therefore carry only the log\'s own spread',
  },
  {
    key: 'appendUs',
    value: 1000,
    observed: 'reference log only (--log reference): append 1 ms',
    source: 'Halfmoon spec §9.5 / Boki spec §7.3: append ≈1 ms median at 300 µs cuts',
  },
  {
    key: 'condAppendUs',
    value: 900,
    observed: 'reference log only: conditional append 0.9 ms',
    source: 'Halfmoon spec §9.5: the §8.1 least-squares fit, t_ca ≈ 0.89 ms',
  },
  {
    key: 'readUs',
    value: 200,
    observed: 'reference log only: index read (readPrev, readNext) 0.2 ms',
    source: 'Halfmoon spec §9.5: the §8.1 fit, t_rp ≈ 0.18 ms',
  },
];

/** Calibration targets the emergent latencies are compared with (ms). */
export const TARGETS = {
  appendMs: { lo: 0.88, hi: 1.1, source: 'BokiQueue push median at 300 µs cuts (ut-osa/boki-benchmarks expected_results), Boki spec §7.3' },
  condAppendMs: { value: 0.89, source: 'Halfmoon spec §8.1 fit of the cost model to the early rw data' },
  readPrevMs: { value: 0.18, source: 'Halfmoon spec §8.1 fit' },
  storeGetMs: 2.0,
  storePutMs: 3.8,
  invocationMs: 1.0,
} as const;

/**
 * The overrides, for `runOnce`'s `sets`. Reference-log entries are inert on the Boki log; on the
 * reference log its service times already stand for what a function observes, so the IPC hop is
 * not charged again.
 */
export function calibrationSets(log: 'boki' | 'reference'): [string, unknown][] {
  return CALIBRATION.map((c) => [c.key, c.key === 'log' ? log : c.key === 'ipcUs' && log === 'reference' ? 0 : c.value] as [string, unknown]);
}
