/**
 * Methodology: the real runtime's precise timers (src/runtime/real/timers.ts) over the three
 * paths a delay takes (zero: setImmediate; under 3 ms: the helper thread; longer: a coarse
 * setTimeout first). Properties that hold at any machine load, so no assertion is about speed:
 * a timer never fires before its due time, timers fire in due order, a cancelled timer never
 * fires, and re-arming many times from inside a firing timer keeps working.
 */
import { describe, expect, it } from 'vitest';
import { hrMs, preciseTimers } from '../../src/runtime/real/timers.ts';

function after(delayMs: number, log: { due: number; at: number; tag: string }[], tag: string) {
  const due = hrMs() + delayMs;
  return preciseTimers.schedule(delayMs, () => log.push({ due, at: hrMs(), tag }));
}

describe('precise timers', () => {
  it('fire never early, in due order, across the zero, fine and coarse paths; cancelled ones never', async () => {
    const log: { due: number; at: number; tag: string }[] = [];
    const delays = [7, 0, 0.3, 2.5, 0.05, 1, 4, 0.3, 12, 0];
    delays.forEach((d, i) => after(d, log, `t${i}`));
    const gone = [after(0.2, log, 'x1'), after(5, log, 'x2'), after(0, log, 'x3')];
    for (const h of gone) preciseTimers.cancel(h);
    // Bounded wait for the ten to fire (a loaded machine may be slow; nothing here measures speed).
    for (let i = 0; i < 500 && log.length < delays.length; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20)); // and a little longer, for a cancelled one to misfire
    expect(log.map((e) => e.tag).sort()).toEqual(delays.map((_, i) => `t${i}`).sort());
    for (const e of log) expect(e.at).toBeGreaterThanOrEqual(e.due);
    for (let i = 1; i < log.length; i++) {
      // Fired in due order, except timers due together (within the clock's reading of them).
      if (log[i]!.due > log[i - 1]!.due + 0.01) expect(log[i]!.at).toBeGreaterThanOrEqual(log[i - 1]!.at);
    }
  });

  it('re-arms from inside a firing timer, as a machine re-arms its periodic timer', async () => {
    let n = 0;
    let early = 0;
    await new Promise<void>((done) => {
      const go = () => {
        const due = hrMs() + 0.3;
        preciseTimers.schedule(0.3, () => {
          if (hrMs() < due) early++;
          if (++n < 200) go();
          else done();
        });
      };
      go();
    });
    expect(n).toBe(200);
    expect(early).toBe(0);
  });
});
