/**
 * The simulated disk folds durable writes into its image lazily (sim/disk.ts); it must behave
 * exactly like the eager disk it replaced: same image at every restart (entries and their
 * order, which `Machine.recover` iterates), same unsynced count, same losses at a crash drawing
 * the same decisions. Checked against the eager model on random operation sequences, with a small
 * page-cache bound so that bound is exercised too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Hash64 } from '../../src/core/hash.ts';
import { Decisions } from '../../sim/decisions.ts';
import { SimDisk } from '../../sim/disk.ts';
import { createRng } from '../../sim/rng.ts';

/** The eager disk: every durable write applied to the image at once. */
class EagerDisk {
  private readonly synced = new Map<string, unknown>();
  private pending: { key: string; value: unknown }[] = [];
  constructor(private readonly pendingMax: number) {}
  write(key: string, value: unknown, sync: boolean): void {
    if (sync) {
      this.flush();
      this.apply(key, value);
      return;
    }
    if (this.pending.length >= this.pendingMax) this.flush();
    this.pending.push({ key, value });
  }
  private apply(key: string, value: unknown): void {
    if (value === undefined) this.synced.delete(key);
    else this.synced.set(key, value);
  }
  private flush(): void {
    for (const w of this.pending) this.apply(w.key, w.value);
    this.pending = [];
  }
  get unsynced(): number {
    return this.pending.length;
  }
  crash(d: Decisions, label: string, p: number): number {
    let lost = 0;
    for (const w of this.pending) {
      if (d.bool(label, p)) lost++;
      else this.apply(w.key, w.value);
    }
    this.pending = [];
    return lost;
  }
  image(): [string, unknown][] {
    return [...this.synced];
  }
  current(): [string, unknown][] {
    const m = new Map(this.synced);
    for (const w of this.pending) {
      if (w.value === undefined) m.delete(w.key);
      else m.set(w.key, w.value);
    }
    return [...m];
  }
}

const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('write' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), value: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }), sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('crash' as const), p: fc.constantFrom(0, 0.5, 1) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'image' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'current' as const }) },
);

describe('SimDisk', () => {
  it('matches the eager disk on random writes, syncs, crashes and reads', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1000 }), (ops, pendingMax, seed) => {
        const lazy = new SimDisk(pendingMax);
        const eager = new EagerDisk(pendingMax);
        const d1 = new Decisions(createRng(seed), new Hash64());
        const d2 = new Decisions(createRng(seed), new Hash64());
        for (const o of ops) {
          if (o.k === 'write') {
            lazy.write(o.key, o.value, o.sync);
            eager.write(o.key, o.value, o.sync);
          } else if (o.k === 'crash') {
            expect(lazy.crash(d1, 'x', o.p)).toBe(eager.crash(d2, 'x', o.p));
          } else if (o.k === 'image') {
            expect([...lazy.image()]).toEqual(eager.image());
          } else {
            expect([...lazy.current()]).toEqual(eager.current());
          }
          expect(lazy.unsynced).toBe(eager.unsynced);
        }
        expect([...lazy.image()]).toEqual(eager.image());
      }),
      { numRuns: 1000, seed: 18 },
    );
  });
});
