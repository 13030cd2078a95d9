/**
 * The simulator's event queue: a binary min-heap ordered by (time, sequence number). The sequence
 * number is assigned at scheduling, so two events due at the same instant run in the order they
 * were scheduled and no tie is ever left to chance.
 *
 * Keys live in parallel typed arrays (time, seq) beside a payload array, so a comparison touches
 * no object and the heap allocates nothing per operation once it has grown.
 */
import { assert } from '../src/core/assert.ts';

export class EventQueue<T> {
  private times: Float64Array;
  private seqs: Float64Array;
  private items: (T | undefined)[];
  private n = 0;
  private nextSeq = 0;
  readonly capacityMax: number;

  constructor(initialCapacity = 1024, capacityMax = 1 << 24) {
    this.times = new Float64Array(initialCapacity);
    this.seqs = new Float64Array(initialCapacity);
    this.items = new Array(initialCapacity);
    this.capacityMax = capacityMax;
  }

  get size(): number {
    return this.n;
  }

  /** Sequence number the next `push` will use. */
  get seq(): number {
    return this.nextSeq;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.n === 0 ? Infinity : this.times[0]!;
  }

  push(t: number, item: T): number {
    assert(t === t && t >= 0, 'event time must be a non-negative number');
    if (this.n === this.times.length) this.grow();
    const seq = this.nextSeq++;
    let i = this.n++;
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p]!;
      if (pt < t || (pt === t && seqs[p]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[p]!;
      items[i] = items[p];
      i = p;
    }
    times[i] = t;
    seqs[i] = seq;
    items[i] = item;
    return seq;
  }

  /** Removes the earliest event; its time and seq are left in `lastTime` and `lastSeq`. */
  pop(): T | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    const top = items[0];
    this.lastTime = times[0]!;
    this.lastSeq = seqs[0]!;
    const last = n - 1;
    this.n = last;
    if (last > 0) {
      const t = times[last]!;
      const s = seqs[last]!;
      const it = items[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        let c = l;
        if (r < last) {
          const lt = times[l]!;
          const rt = times[r]!;
          if (rt < lt || (rt === lt && seqs[r]! < seqs[l]!)) c = r;
        }
        const ct = times[c]!;
        if (t < ct || (t === ct && s < seqs[c]!)) break;
        times[i] = ct;
        seqs[i] = seqs[c]!;
        items[i] = items[c];
        i = c;
      }
      times[i] = t;
      seqs[i] = s;
      items[i] = it;
    }
    items[last] = undefined;
    return top;
  }

  lastTime = 0;
  lastSeq = 0;

  clear(): void {
    for (let i = 0; i < this.n; i++) this.items[i] = undefined;
    this.n = 0;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    assert(cap <= this.capacityMax, `event queue over its limit of ${this.capacityMax} events (a runaway schedule?)`);
    const times = new Float64Array(cap);
    times.set(this.times);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
    this.items.length = cap;
  }
}
