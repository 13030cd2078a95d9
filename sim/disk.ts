/**
 * The simulated disk of one node. Writes land in a volatile page cache until synced; a synced
 * write makes itself and every earlier write of the node durable (fdatasync of one log file). A
 * crash keeps the synced image and each unsynced write independently with probability
 * 1 - unsyncedLoss, in write order, which is how a power failure treats separate pages.
 */
import type { Decisions } from './decisions.ts';

export class SimDisk {
  private readonly synced = new Map<string, unknown>();
  /** Unsynced writes in order, as parallel arrays (no object per write). */
  private pendingKeys: string[] = [];
  private pendingValues: unknown[] = [];
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
    if (this.pendingKeys.length >= this.pendingMax) this.flush(); // the page cache is bounded too
    this.pendingKeys.push(key);
    this.pendingValues.push(value);
  }

  private apply(key: string, value: unknown): void {
    if (value === undefined) this.synced.delete(key);
    else this.synced.set(key, value);
  }

  private flush(): void {
    const keys = this.pendingKeys;
    const values = this.pendingValues;
    for (let i = 0; i < keys.length; i++) this.apply(keys[i]!, values[i]);
    keys.length = 0;
    values.length = 0;
  }

  get unsynced(): number {
    return this.pendingKeys.length;
  }

  /** Power loss: returns how many unsynced writes were lost. */
  crash(decisions: Decisions, label: string, unsyncedLoss: number): number {
    let lost = 0;
    const keys = this.pendingKeys;
    const values = this.pendingValues;
    for (let i = 0; i < keys.length; i++) {
      if (decisions.bool(label, unsyncedLoss)) lost++;
      else this.apply(keys[i]!, values[i]);
    }
    keys.length = 0;
    values.length = 0;
    return lost;
  }

  /** The image a restarting node reads: everything that reached the platter. */
  image(): ReadonlyMap<string, unknown> {
    return new Map(this.synced);
  }

  /** The view while running: the page cache on top of the platter. */
  current(): Map<string, unknown> {
    const m = new Map(this.synced);
    for (let i = 0; i < this.pendingKeys.length; i++) {
      const v = this.pendingValues[i];
      if (v === undefined) m.delete(this.pendingKeys[i]!);
      else m.set(this.pendingKeys[i]!, v);
    }
    return m;
  }
}
