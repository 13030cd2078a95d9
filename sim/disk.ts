/**
 * The simulated disk of one node. Writes land in a volatile page cache until synced; a synced
 * write makes itself and every earlier write of the node durable (fdatasync of one log file). A
 * crash keeps the synced image and each unsynced write independently with probability
 * 1 - unsyncedLoss, in write order, which is how a power failure treats separate pages.
 */
import type { Decisions } from './decisions.ts';

export class SimDisk {
  /** The platter as a map, up to `log[folded]`: writes are folded in only when the image is read. */
  private readonly synced = new Map<string, unknown>();
  /**
   * Every write in order, as parallel arrays (no object per write): [0, folded) are in `synced`,
   * [folded, durable) are on the platter but not folded yet, [durable, length) are in the page
   * cache. Folding lazily spares a map update per write on the hot path: most runs never read
   * a disk back (only a restart does), and a bounded tail is folded whenever it grows long.
   */
  private readonly keys: string[] = [];
  private readonly values: unknown[] = [];
  private folded = 0;
  private durable = 0;
  /** Bytes are not modelled; counts are, for reports and limits. */
  writes = 0;
  syncs = 0;

  constructor(readonly pendingMax = 1_000_000) {}

  write(key: string, value: unknown, sync: boolean): void {
    this.writes++;
    if (sync) {
      this.keys.push(key);
      this.values.push(value);
      this.durable = this.keys.length;
      this.syncs++;
    } else {
      if (this.keys.length - this.durable >= this.pendingMax) this.durable = this.keys.length; // the page cache is bounded too
      this.keys.push(key);
      this.values.push(value);
    }
    if (this.durable - this.folded >= FOLD_AT) this.fold();
  }

  /** Applies the durable, unfolded writes to `synced`, in write order, and drops them from the log. */
  private fold(): void {
    const keys = this.keys;
    const values = this.values;
    for (let i = this.folded; i < this.durable; i++) {
      const v = values[i];
      if (v === undefined) this.synced.delete(keys[i]!);
      else this.synced.set(keys[i]!, v);
    }
    keys.splice(0, this.durable);
    values.splice(0, this.durable);
    this.folded = 0;
    this.durable = 0;
  }

  get unsynced(): number {
    return this.keys.length - this.durable;
  }

  /** Power loss: returns how many unsynced writes were lost. */
  crash(decisions: Decisions, label: string, unsyncedLoss: number): number {
    let lost = 0;
    const keys = this.keys;
    const values = this.values;
    let w = this.durable;
    for (let i = this.durable; i < keys.length; i++) {
      if (decisions.bool(label, unsyncedLoss)) lost++;
      else {
        keys[w] = keys[i]!;
        values[w] = values[i];
        w++;
      }
    }
    keys.length = w;
    values.length = w;
    this.durable = w;
    return lost;
  }

  /** The image a restarting node reads: everything that reached the platter. */
  image(): ReadonlyMap<string, unknown> {
    this.fold();
    return new Map(this.synced);
  }

  /** The view while running: the page cache on top of the platter. */
  current(): Map<string, unknown> {
    this.fold();
    const m = new Map(this.synced);
    for (let i = 0; i < this.keys.length; i++) {
      const v = this.values[i];
      if (v === undefined) m.delete(this.keys[i]!);
      else m.set(this.keys[i]!, v);
    }
    return m;
  }
}

/** Durable writes kept unfolded at most (a bound on the log; folding is O(writes) either way). */
const FOLD_AT = 1 << 16;
