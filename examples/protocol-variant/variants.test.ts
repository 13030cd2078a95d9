/**
 * The protocol variants of variants.ts, checked with halfmoon's vitest helpers. The scenarios list
 * the plugin in `plugins:`, the exploration names it in `plugins` (import it directly instead,
 * and it would register twice).
 */
import { describe, expect, it } from 'vitest';
import { checkSimProperty, explores, PropertyFailure, simProperty } from 'halfmoon/vitest';

async function failure(p: Promise<unknown>): Promise<PropertyFailure> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(PropertyFailure);
  console.log(`[caught] ${(e as Error).message}`);
  return e as PropertyFailure;
}

describe('hm-read-mirrored (correct)', () => {
  simProperty('runs every request exactly once under function crashes (20 seeds)', { scenario: 'crashes.yaml', seeds: 20 });
  simProperty('appends exactly the records its formula declares (failure-free)', { scenario: 'exact.yaml', seeds: 5 });
  explores('survives 20,000 coverage-guided steps of the tiny workflow model', { model: 'wf-tiny', plugins: ['variants.ts'], protocol: 'hm-read-mirrored', strategy: 'coverage', maxStates: 20_000, seed: 1 });
});

describe('hm-read-base (broken)', () => {
  it('is caught replaying a read differently after a crash, with seed, replay command and shrunk trace', async () => {
    const e = await failure(checkSimProperty({ scenario: 'crashes.yaml', seeds: 20, protocol: 'hm-read-base', shrinkRuns: 30 }));
    expect(e.message).toMatch(/Counterexample: seed \d+: C2-replay: /);
    expect(e.replayCommand).toBe(`halfmoon run --scenario crashes.yaml --seed ${e.seed} --set protocol=hm-read-base`);
  });
});

describe('hm-read-miscounted (a wrong record formula)', () => {
  it('is rejected by log accounting', async () => {
    const e = await failure(checkSimProperty({ scenario: 'exact.yaml', seeds: 5, protocol: 'hm-read-miscounted', shrinkRuns: 0 }));
    expect(e.message).toMatch(/P1-exact-counts: request \S+: \d+ records appended, the HMRX formula gives \d+/);
  });
});
