/**
 * The latency model of the real cluster on one machine's loopback, beside the AWS one
 * (calibration.ts): the same kind of entries, but every number measured here, by the real-mode
 * benches (`halfmoon bench --only real-mode,real-append`), and the topology and store settings
 * of the real Halfmoon-on-Boki cluster (clusters/halfmoon-boki-rw.yaml). With it a simulated run
 * predicts what `cluster run` of the same scenario should take on this machine if the real
 * runtime added nothing but the network and disk it runs on:
 *
 *   halfmoon run --scenario wf-rw --protocol hm-read --calibration loopback --json
 *   halfmoon cluster run --config clusters/halfmoon-boki-rw.yaml --scenario wf-rw --protocol hm-read --json
 *
 * The simulator charges no CPU time for a step, a frame's encoding or a message's validation; the
 * real runtime pays them on every hop (tens of µs each on this shared 2-core machine), so the gap
 * between the two `latencyUs.p50` figures is the real runtime's own cost (bench `real-wf`).
 */
import type { CalibrationEntry } from './calibration.ts';

/** Median one-way loopback hop between two node processes, µs (half the framed round trip). */
export const LOOPBACK_LINK_MEDIAN_US = 30;
/** Median append + fdatasync of a small record on this machine's disk, µs. */
export const LOOPBACK_SYNC_US = 300;

export const LOOPBACK_CALIBRATION: readonly CalibrationEntry[] = [
  {
    key: 'log',
    value: 'boki',
    observed: 'the real cluster: the full Boki log (3 sequencers + 2 spares, 3 storage nodes, a controller) on ZooKeeper',
    source: 'clusters/halfmoon-boki.yaml and clusters/halfmoon-boki-rw.yaml (the scenario defaults of the Boki log)',
  },
  {
    key: 'engines',
    value: 3,
    observed: 'functions run inside the 3 engine processes',
    source: 'the real cluster configs (engines: 3)',
  },
  {
    key: 'network.default.latency',
    value: { dist: 'lognormal', medianUs: LOOPBACK_LINK_MEDIAN_US, sigma: 0.25, capUs: 2000 },
    observed: 'node-to-node hop ≈ 30 µs',
    source: 'bench real-mode tcpRttP50Us: a framed 64-byte round trip between two Node processes, 48-63 µs p50 measured here (load 10-17)',
  },
  {
    key: 'network.client.latency',
    value: { dist: 'constant', us: LOOPBACK_LINK_MEDIAN_US },
    observed: 'the workload driver reaches an engine in one loopback hop',
    source: 'as network.default (the driver is a node process on the same loopback)',
  },
  {
    key: 'disk.syncLatencyUs',
    value: LOOPBACK_SYNC_US,
    observed: 'every synced persist (storage records, metalog entries, the durable store) waits 0.3 ms',
    source: 'bench real-mode syncedAppendP50Us: a ~130-byte append + fdatasync through the store, 240-670 µs p50 measured here',
  },
  {
    key: 'ipcUs',
    value: 0,
    observed: 'a log call is a step in the engine process the function runs in: no IPC hop',
    source: 'src/runtime/real (functions and their engine share a process)',
  },
  {
    key: 'storeDurable',
    value: true,
    observed: 'the store syncs every mutation before it answers (its service time is its disk)',
    source: 'the real cluster configs (storeDurable: true)',
  },
  {
    key: 'storeGetUs',
    value: 0,
    observed: 'the store answers a get at once',
    source: 'the real cluster configs (storeGetUs: 0)',
  },
  {
    key: 'storePutUs',
    value: 0,
    observed: 'the store answers a put once its sync is done',
    source: 'the real cluster configs (storePutUs: 0)',
  },
  {
    key: 'storeJitterUs',
    value: 0,
    observed: 'no added spread',
    source: 'the real cluster configs',
  },
];

/** The overrides, for `--set`-style lists (`run --calibration loopback`). */
export function loopbackCalibrationSets(): [string, unknown][] {
  return LOOPBACK_CALIBRATION.map((c) => [c.key, c.value] as [string, unknown]);
}

/**
 * The parameters a real cluster config gives the same topology (what clusters/halfmoon-boki-rw.yaml
 * sets, plus the controller's boot wait a real start needs).
 */
export const LOOPBACK_CLUSTER_PARAMS = { log: 'boki', engines: 3, storeDurable: true, storeGetUs: 0, storePutUs: 0, storeJitterUs: 0, ipcUs: 0, logParams: { bootWaitMs: 3000 } } as const;
