/**
 * The chain replication plugin (chain.ts) checked with halfmoon's vitest helpers: a seed sweep
 * under the simulator and an exhaustive exploration of small configurations, for the correct
 * protocol (must hold) and the broken `ack-at-head` variant (must be caught, with the seed, the
 * replay command and the shrunk trace in the message).
 */
import { describe, expect, it } from 'vitest';
import { checkExplores, checkSimProperty, explores, PropertyFailure, simProperty } from 'halfmoon/vitest';

/** 2 clients x 1 operation, read or write explored both ways; retransmissions only when idle. */
const SMALL = { opsPerClient: 1, timers: 'quiescent', freeTimers: ['driver:next:'], branchRandom: { 'driver:op': [0, 0xffff_ffff] } };

async function failure(p: Promise<unknown>): Promise<PropertyFailure> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(PropertyFailure);
  console.log(`[caught] ${(e as Error).message}`);
  return e as PropertyFailure;
}

describe('chain replication', () => {
  simProperty('is linearizable on 30 seeds', { scenario: 'chain.yaml', seeds: 30 });

  explores('is linearizable in every interleaving of 2 clients x 1 operation', { model: 'system:chain', plugins: ['chain.ts'], set: SMALL, depth: 60 });

  it('ack-at-head is caught by the simulator, with seed, replay command and shrunk trace', async () => {
    const e = await failure(checkSimProperty({ scenario: 'chain.yaml', seeds: 30, variant: 'ack-at-head', shrinkRuns: 50 }));
    expect(e.message).toMatch(/^Property failed after \d+ tests/);
    expect(e.message).toMatch(/\{ seed: \d+/);
    expect(e.seed).toBeGreaterThan(0);
    expect(e.replayCommand).toBe(`halfmoon run --scenario chain.yaml --seed ${e.seed} --variant ack-at-head`);
    expect(e.message).toContain(`Replay: ${e.replayCommand}`);
    expect(e.shrunkTrace).toMatch(/shrunk-seed-\d+\.jsonl$/);
  });

  it('ack-at-head is caught by the explorer, with a counterexample trace', async () => {
    const e = await failure(checkExplores({ model: 'system:chain', plugins: ['chain.ts'], set: SMALL, depth: 60, variant: 'ack-at-head' }));
    expect(e.message).toContain('linearizability');
    expect(e.replayCommand).toMatch(/^halfmoon replay --plugin chain.ts .*\.jsonl$/);
  });
});
