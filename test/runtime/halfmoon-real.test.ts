/**
 * Methodology: the real runtime is generic over systems. The Halfmoon system (engines with the
 * workflow runtime, the reference log, the store, a driver) runs unchanged on loopback TCP with
 * real timers and fsync'ed stores, once per protocol, and the system's own checkers (exactly-once,
 * accounting, liveness) must pass on the real history with every request answered.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../src/runtime/real/local.ts';
import { PROTOCOLS } from '../../src/systems/halfmoon.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { tempDir } from './helpers.ts';

const root = tempDir('hm-hmreal-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the Halfmoon system on the real runtime', () => {
  for (const protocol of Object.keys(PROTOCOLS)) {
    it(`runs protocol ${protocol} with every checker passing`, async () => {
      const s = parseScenario({ name: 'hm-real', description: 'x', system: 'halfmoon', params: { protocol, requests: 40, engines: 3, concurrency: 8 } }, 'test');
      const c = await LocalCluster.start({ instance: buildInstance(s), cluster: 'halfmoon', dataRoot: `${root}/${protocol}` });
      try {
        await c.whenDone(60_000);
        const r = c.judge();
        expect(r.violations).toEqual([]);
        expect(r.replies).toHaveLength(40);
        expect(r.replies.every((x) => x.reply !== undefined)).toBe(true);
      } finally {
        await c.stop();
      }
    }, 90_000);
  }
});
