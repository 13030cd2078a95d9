/**
 * The simulated disk of one node. Writes land in a volatile page cache until synced; a synced
 * write makes itself and every earlier write of the node durable (fdatasync of one log file). A
 * crash keeps the synced image and each unsynced write independently with probability
 * 1 - unsyncedLoss, in write order, which is how a power failure treats separate pages.
 */
import type { Decisions } from './decisions.ts';

export class SimDisk {
  private readonly synced = new Map<string, unknown>();
  private pending: { key: string; value: unknown }[] = [];
  /** Bytes are not modelled; counts are, for reports and limits. */
  writes = 0;
  syncs = 0;

  constructor(readonly pendingMax = 1_000_000) {}

  write(key: string, value: unknown, sync: boolean): void {
    this.writes++;
    if (sync) {
      this.flush();
      this.apply(key, value);
      this.syncs++;
      return;
    }
    if (this.pending.length >= this.pendingMax) this.flush(); // the page cache is bounded too
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

  /** Power loss: returns how many unsynced writes were lost. */
  crash(decisions: Decisions, label: string, unsyncedLoss: number): number {
    let lost = 0;
    for (const w of this.pending) {
      if (decisions.bool(label, unsyncedLoss)) lost++;
      else this.apply(w.key, w.value);
    }
    this.pending = [];
    return lost;
  }

  /** The image a restarting node reads: everything that reached the platter. */
  image(): ReadonlyMap<string, unknown> {
    return new Map(this.synced);
  }

  /** The view while running: the page cache on top of the platter. */
  current(): Map<string, unknown> {
    const m = new Map(this.synced);
    for (const w of this.pending) {
      if (w.value === undefined) m.delete(w.key);
      else m.set(w.key, w.value);
    }
    return m;
  }
}
