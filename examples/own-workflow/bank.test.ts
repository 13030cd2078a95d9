/**
 * The bank transfer workflows of bank.ts under function crashes and retries, with each protocol:
 * exactly-once (C1-C6), log accounting and liveness must hold for boki, hm-read, hm-write and
 * transitional; the unsafe control (unlogged reads and writes) must be caught.
 */
import { describe, expect, it } from 'vitest';
import { checkSimProperty, PropertyFailure, simProperty } from 'halfmoon/vitest';

describe('bank transfers', () => {
  for (const protocol of ['boki', 'hm-read', 'hm-write', 'transitional']) {
    simProperty(`run exactly once under crashes with ${protocol} (10 seeds)`, { scenario: 'bank.yaml', protocol, seeds: 10 });
  }

  it('the unsafe protocol is caught, with seed, replay command and shrunk trace', async () => {
    const e = await checkSimProperty({ scenario: 'bank.yaml', protocol: 'unsafe', seeds: 10, shrinkRuns: 30 }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(PropertyFailure);
    const f = e as PropertyFailure;
    console.log(`[caught] ${f.message}`);
    expect(f.message).toMatch(/Counterexample: seed \d+: C\d/);
    expect(f.replayCommand).toBe(`halfmoon run --scenario bank.yaml --seed ${f.seed} --set protocol=unsafe`);
  });
});
