/**
 * Progress on long work (sweep, suite, check, reproduce), on stderr. On a terminal: a bar
 * (cli-progress) with seeds done / total, seeds per second, ETA and failures so far. Otherwise
 * one plain line every ~10 s (HALFMOON_PROGRESS_INTERVAL_MS overrides), so CI logs show a long run
 * is alive without filling up. Nothing with --json when stdout is the terminal too, and never
 * anything on stdout. The wall clock read here is the front end's: it never reaches a run.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `unit` names what is counted (seeds, runs, states). */
  update(done: number, total: number, failing: number | null, note?: string): void;
  /** Ends the bar (a newline on a terminal). */
  stop(): void;
}

export interface ProgressStreams {
  readonly err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stdoutIsTTY: boolean;
  /** Milliseconds, for rates and the plain-line interval. */
  readonly now: () => number;
  readonly intervalMs: number;
}

export function defaultStreams(): ProgressStreams {
  const env = process.env.HALFMOON_PROGRESS_INTERVAL_MS;
  const intervalMs = env !== undefined && /^\d+$/.test(env) ? Number(env) : 10_000;
  return { err: process.stderr, stdoutIsTTY: process.stdout.isTTY === true, now: () => Date.now(), intervalMs };
}

const fmtS = (s: number) => (!Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

/** A progress reporter for `label`, or null when nothing should be shown. */
export function startProgress(label: string, unit: string, json: boolean, streams: ProgressStreams = defaultStreams()): Progress | null {
  const t0 = streams.now();
  const rate = (done: number) => {
    const s = (streams.now() - t0) / 1000;
    return s > 0 ? done / s : 0;
  };
  if (streams.err.isTTY === true) {
    if (json && streams.stdoutIsTTY) return null;
    const bar = new SingleBar({
      stream: streams.err,
      format: `${label} [{bar}] {value}/{total} ${unit} | {speed} ${unit}/s | ETA {etaText} | {failText}{note}`,
      barsize: 24,
      hideCursor: false,
      clearOnComplete: false,
      linewrap: false,
      fps: 10,
    });
    let started = false;
    return {
      update(done, total, failing, note = '') {
        const r = rate(done);
        const payload = { speed: r.toFixed(1), etaText: r > 0 ? fmtS((total - done) / r) : '?', failText: failing === null ? '' : `${failing} failing `, note };
        if (!started) {
          bar.start(total, done, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(done, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = t0;
  return {
    update(done, total, failing, note = '') {
      const now = streams.now();
      if (now - last < streams.intervalMs) return;
      last = now;
      const r = rate(done);
      streams.err.write(`${label}: ${done}/${total} ${unit}, ${r.toFixed(1)} ${unit}/s, ETA ${r > 0 ? fmtS((total - done) / r) : '?'}${failing === null ? '' : `, ${failing} failing`}${note ? `, ${note}` : ''}\n`);
    },
    stop() {},
  };
}
