/**
 * Precise timers for the real runtime. Node's `setTimeout` counts whole milliseconds and fires
 * late by up to another one (libuv's timers are ms-resolution, the loop rounds the wait up), so a
 * machine's 300 µs cut timer armed as `setTimeout(1)` fired after 1.15 ms p50 and an append, which
 * waits for two such timers, paid ~2.3 ms of rounding before any I/O.
 *
 * Here a timer fires at its due time, never before, to within the OS's wake-up latency:
 * - due now (a zero delay): `setImmediate`, after the I/O already pending, no timer at all;
 * - due within `FINE_MS`: a helper thread sleeps in `Atomics.wait` (a futex with a microsecond
 *   timeout) until the earliest such due time and posts one message, which wakes the event loop;
 *   it sleeps while no fine timer is armed, so an idle node costs nothing (no polling, no spin);
 * - due later: a coarse `setTimeout` for all but the last `FINE_MS - 1` ms moves the timer to the
 *   fine set, so long timers (leases, retries) cost one ordinary timer each.
 * Without worker threads (or when the helper cannot start) fine timers fall back to `setTimeout`.
 *
 * One scheduler per process (tests run many hosts in one): the fine set holds only timers due
 * within a few milliseconds, so firing scans a small set, and its size is bounded by the hosts'
 * own timer limits.
 */
import { Worker } from 'node:worker_threads';

/** Timers due within this many ms wait in the fine set (the helper thread's wake-up). */
const FINE_MS = 3;
/** setTimeout's largest delay; longer coarse waits are chained. */
const TIMEOUT_MAX_MS = 2_147_483_647;

/** The monotonic clock both threads read (CLOCK_MONOTONIC), in ms. */
export function hrMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * The helper thread: plain JavaScript (no TypeScript loader in the worker). `ctl[0]` is bumped by
 * the main thread on every change of the deadline `dl[0]` (0: none); the helper sleeps until the
 * deadline or a change, posts once when the deadline has passed, then waits for the next change.
 */
const HELPER = `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.ctl);
const dl = new Float64Array(workerData.dl);
const now = () => Number(process.hrtime.bigint()) / 1e6;
for (;;) {
  const seq = Atomics.load(ctl, 0);
  if (seq < 0) break;
  const d = dl[0];
  if (d === 0) { Atomics.wait(ctl, 0, seq); continue; }
  const left = d - now();
  if (left > 0) { Atomics.wait(ctl, 0, seq, left); continue; }
  Atomics.add(ctl, 1, 1);
  Atomics.notify(ctl, 1);
  Atomics.wait(ctl, 0, seq);
}
`;

/** `Atomics.waitAsync` (V8 8.7+, so every Node 20), missing from this project's TypeScript lib. */
interface AtomicsWaitAsync {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}

export interface TimerHandle {
  due: number;
  readonly fire: () => void;
  live: boolean;
  coarse: NodeJS.Timeout | null;
  immediate: NodeJS.Immediate | null;
  fine: boolean;
}

class PreciseTimers {
  private readonly fine = new Set<TimerHandle>();
  private worker: Worker | null = null;
  private failed = false;
  private ctl: Int32Array | null = null;
  private dl: Float64Array | null = null;
  /** The deadline the helper currently sleeps towards (0: none). */
  private armed = 0;
  private fallback: NodeJS.Timeout | null = null;
  private reffed = false;
  /** A timer that never fires, referenced while a fine timer is armed (the helper never is). */
  private readonly keepAlive = setInterval(() => undefined, TIMEOUT_MAX_MS).unref();
  /** The helper thread runs (until then the fallback timer covers the deadline too). */
  private online = false;
  readonly counters = { fired: 0, fineWakes: 0, coarse: 0, immediate: 0 };

  /** Calls `fire` once, at or after `delayMs` from now, unless cancelled first. */
  schedule(delayMs: number, fire: () => void): TimerHandle {
    const h: TimerHandle = { due: hrMs() + Math.max(0, delayMs), fire, live: true, coarse: null, immediate: null, fine: false };
    this.place(h, delayMs);
    return h;
  }

  cancel(h: TimerHandle): void {
    if (!h.live) return;
    h.live = false;
    if (h.coarse) clearTimeout(h.coarse);
    if (h.immediate) clearImmediate(h.immediate);
    h.coarse = null;
    h.immediate = null;
    if (h.fine) {
      h.fine = false;
      this.fine.delete(h);
      // The helper is left armed (a re-armed timer would point it back at once): its wake finds
      // nothing due and re-arms for what is left, or for nothing.
    }
  }

  private place(h: TimerHandle, leftMs: number): void {
    if (leftMs <= 0) {
      this.counters.immediate++;
      h.immediate = setImmediate(() => {
        h.immediate = null;
        this.run(h);
      });
      return;
    }
    if (leftMs > FINE_MS) {
      this.counters.coarse++;
      h.coarse = setTimeout(() => {
        h.coarse = null;
        if (h.live) this.place(h, h.due - hrMs());
      }, Math.min(TIMEOUT_MAX_MS, Math.floor(leftMs - (FINE_MS - 1))));
      return;
    }
    h.fine = true;
    this.fine.add(h);
    if (this.armed === 0 || h.due < this.armed) this.arm(h.due);
  }

  private run(h: TimerHandle): void {
    if (!h.live) return;
    h.live = false;
    this.counters.fired++;
    h.fire();
  }

  /** Points the helper at a new deadline (0: sleep until told). */
  private arm(due: number): void {
    if (due === this.armed && this.online) return;
    this.armed = due;
    const worker = this.ensureWorker();
    if (!worker || !this.online) {
      // No helper, or one still starting (a thread takes tens of ms to boot on a loaded machine):
      // a millisecond timer stands in, and whichever wakes first fires what is due.
      if (this.fallback) clearTimeout(this.fallback);
      this.fallback = due === 0 ? null : setTimeout(() => this.wake(), Math.max(0, Math.ceil(due - hrMs())));
      if (!worker) return;
    }
    this.dl![0] = due;
    Atomics.add(this.ctl!, 0, 1);
    Atomics.notify(this.ctl!, 0);
    // An armed fine timer keeps the process alive, as a setTimeout would; an idle helper does not.
    const want = due !== 0;
    if (want !== this.reffed) {
      this.reffed = want;
      if (want) this.keepAlive.ref();
      else this.keepAlive.unref();
    }
  }

  /** Fires every fine timer now due, earliest first, then re-arms for the next. */
  private wake(): void {
    this.counters.fineWakes++;
    const now = hrMs();
    let due: TimerHandle[] | null = null;
    let next = 0;
    for (const h of this.fine) {
      if (h.due <= now) (due ??= []).push(h);
      else if (next === 0 || h.due < next) next = h.due;
    }
    if (due !== null) {
      for (const h of due) {
        this.fine.delete(h);
        h.fine = false;
      }
      due.sort((a, b) => a.due - b.due);
    }
    this.arm(next);
    if (due !== null) for (const h of due) this.run(h);
  }

  private ensureWorker(): boolean {
    if (this.worker !== null) return true;
    if (this.failed) return false;
    try {
      const ctl = new SharedArrayBuffer(8);
      const dl = new SharedArrayBuffer(8);
      const w = new Worker(HELPER, { eval: true, workerData: { ctl, dl }, stdout: false, stderr: false });
      w.once('online', () => {
        this.online = true;
        if (this.fallback) clearTimeout(this.fallback);
        this.fallback = null;
      });
      w.on('error', () => this.lose());
      w.on('exit', () => this.lose());
      // Never keeps the process alive: `keepAlive` does that while a fine timer is armed.
      w.unref();
      this.ctl = new Int32Array(ctl);
      this.dl = new Float64Array(dl);
      this.worker = w;
      this.listen();
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }

  /**
   * Waits (without blocking) for the helper's next wake: `Atomics.waitAsync` resolves on the
   * event loop once the helper bumps `ctl[1]`, cheaper than a message (no clone, no event).
   */
  private listen(): void {
    const ctl = this.ctl!;
    const seen = Atomics.load(ctl, 1);
    const r = (Atomics as unknown as AtomicsWaitAsync).waitAsync(ctl, 1, seen);
    const woke = () => {
      if (this.worker === null) return;
      this.listen();
      this.wake();
    };
    if (r.async) void r.value.then(woke);
    else queueMicrotask(woke);
  }

  /** The helper died: fall back to setTimeout for what is armed. */
  private lose(): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = null;
    this.online = false;
    const due = this.armed;
    this.armed = 0;
    if (due !== 0) this.arm(due);
  }
}

export const preciseTimers = new PreciseTimers();
