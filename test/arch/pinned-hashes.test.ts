/**
 * Trace hashes and state counts pinned across the layering move (issue 13) and every refactor
 * after it: a move must not change behaviour, and these runs cover the log under every fault
 * kind, the workflow protocols, the register and the explorer through both kinds of model.
 * A deliberate change of the event order updates a value here with the reason in its commit.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import { explore } from '../../sim/explore/index.ts';
import { buildModel } from '../../sim/explore/registry.ts';

const RUNS: readonly { scenario: string; seed: number; sets?: [string, unknown][]; variant?: string; hash: string; events: number }[] = [
  { scenario: 'log-smoke', seed: 1, hash: 'b18694e23e0eb227', events: 23_241 },
  { scenario: 'log-storage-crash', seed: 1, hash: '96ccd2beaadfbb79', events: 45_418 },
  { scenario: 'log-chaos', seed: 275, hash: '6bf8675320196f32', events: 67_609 },
  { scenario: 'wf-crash-storm', seed: 299, hash: '03d899c342d33b8a', events: 12_545 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'boki']], hash: '1f77946deec0d46c', events: 83_969 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'hm-read']], hash: '34fa1f7169cf80d2', events: 69_202 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'hm-write']], hash: 'feccbcd76fe8182c', events: 42_497 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'unsafe']], hash: '4d48403b88fa03fa', events: 21_249 },
  { scenario: 'register-partition', seed: 4, variant: 'read-one', hash: 'b977f6001aa26eec', events: 2_285 },
];

describe('pinned trace hashes', () => {
  for (const r of RUNS) {
    const label = `${r.scenario} seed ${r.seed}${r.sets ? ` ${r.sets.map(([k, v]) => `${k}=${String(v)}`).join(' ')}` : ''}${r.variant ? ` --variant ${r.variant}` : ''}`;
    it(label, () => {
      const res = runOnce({ scenario: r.scenario, seed: r.seed, sets: r.sets ?? [], variant: r.variant ?? null });
      expect({ hash: res.traceHash, events: res.events }).toEqual({ hash: r.hash, events: r.events });
    }, 60_000);
  }
});

describe('pinned state counts', () => {
  it('2pc rms=5: 8,832 states (bfs)', () => {
    const r = explore(buildModel('2pc', [['rms', 5]], null), { strategy: 'bfs' });
    expect([r.uniqueStates, r.complete]).toEqual([8_832, true]);
  });
  it('wf-tiny hm-read: bfs to depth 10 and 20,000 coverage-guided steps', () => {
    const bfs = explore(buildModel('wf-tiny', [['protocol', 'hm-read']], null), { strategy: 'bfs', depthMax: 10 });
    const cov = explore(buildModel('wf-tiny', [['protocol', 'hm-read']], null), { strategy: 'coverage', statesMax: 20_000, seed: 1 });
    expect({ bfs: bfs.uniqueStates, coverage: cov.uniqueStates }).toEqual({ bfs: 1_041, coverage: 19_701 });
  }, 60_000);
});
