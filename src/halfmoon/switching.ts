/**
 * Pauseless protocol switching (spec §8.2-§8.4): the coordinator and the adaptive controller,
 * as plain data and pure functions the gateway (client.ts) drives.
 *
 * Coordinator. Mode is per instance and fixed at admission (recorded in the Intent, inherited by
 * callees). `admit()` answers at once: the current mode in STABLE, TRANS otherwise, so no request
 * ever waits for a switch. A switch snapshots the unfinished old-mode top-level requests; clients
 * retry crashed ones, so they stay unfinished until answered. When the last answers, the
 * coordinator asks a recovery driver (through the log) whether any old-mode async invocation is
 * still unfinished (DRAIN), then, for HM-W -> HM-R, runs the reconciler (RECONCILE), and only then
 * adopts the new mode. Transitional instances log both sides, so they are safe beside either era.
 *
 * Controller. An exponentially weighted moving average (time constant `windowUs`) of the
 * operation-weighted read ratio of completed requests; it requests HM-R above r* + h and HM-W
 * below r* - h, only in STABLE and after `dwellUs` in the current mode. r* comes from the latency
 * cost model, 2·t_ca / (3·t_ca - t_rp), or from the log-count rule (0.5).
 */
import type { Mode } from './records.ts';

export type Phase = 'STABLE' | 'TRANSITION' | 'DRAIN' | 'RECONCILE';

export interface Transition {
  readonly from: Mode;
  readonly to: Mode;
  readonly startUs: number;
  drainedUs: number;
  endUs: number;
  /** Old-mode requests the transition waited for, when it started. */
  readonly waitedFor: number;
}

export interface CoordState {
  current: Mode;
  target: Mode | null;
  phase: Phase;
  /** Old-mode requests outstanding when the switch began (request ids). */
  oldLive: Set<string>;
  /** The coordinator request in flight (drain or reconcile) and its attempt. */
  pendingReq: string | null;
  attempt: number;
  transitions: Transition[];
  /** When the current mode was adopted (dwell time). */
  sinceUs: number;
}

export interface ControllerConfig {
  /** 'cost': r* = 2·t_ca / (3·t_ca - t_rp); 'count': the log-count rule, r* = 0.5. */
  readonly rule: 'cost' | 'count';
  readonly tCaUs: number;
  readonly tRpUs: number;
  readonly hysteresis: number;
  readonly windowUs: number;
  readonly dwellUs: number;
}

export interface ControllerState {
  reads: number;
  ops: number;
  lastUs: number;
}

export function freshCoord(mode: Mode, nowUs = 0): CoordState {
  return { current: mode, target: null, phase: 'STABLE', oldLive: new Set(), pendingReq: null, attempt: 0, transitions: [], sinceUs: nowUs };
}

export function admit(c: CoordState): Mode {
  return c.phase === 'STABLE' ? c.current : 'TRANS';
}

/** The mode whose read path sees the current state: the current one, TRANS while switching. */
export function effectiveMode(c: CoordState): Mode {
  return admit(c);
}

/**
 * Begins a switch to `to` if the coordinator is STABLE in another mode; `outstanding` lists the
 * top-level requests in flight with their modes. Returns whether the switch began.
 */
export function requestSwitch(c: CoordState, to: Mode, nowUs: number, outstanding: Iterable<[string, Mode]>): boolean {
  if (c.phase !== 'STABLE' || c.current === to) return false;
  c.target = to;
  c.phase = 'TRANSITION';
  c.oldLive = new Set();
  for (const [id, m] of outstanding) if (m === c.current) c.oldLive.add(id);
  c.transitions.push({ from: c.current, to, startUs: nowUs, drainedUs: -1, endUs: -1, waitedFor: c.oldLive.size });
  return true;
}

/** A top-level request finished; true when the transition can move on to DRAIN. */
export function requestFinished(c: CoordState, id: string): boolean {
  if (c.phase !== 'TRANSITION') return false;
  c.oldLive.delete(id);
  return c.oldLive.size === 0;
}

/** The new mode takes over. */
export function adopt(c: CoordState, nowUs: number): void {
  const t = c.transitions[c.transitions.length - 1]!;
  t.endUs = nowUs;
  c.current = c.target!;
  c.target = null;
  c.phase = 'STABLE';
  c.pendingReq = null;
  c.sinceUs = nowUs;
}

export function needsReconcile(c: CoordState): boolean {
  return c.transitions[c.transitions.length - 1]!.from === 'HMW' && c.target === 'HMR';
}

// ---------------------------------------------------------------------------------------------
// The adaptive controller

export function freshController(): ControllerState {
  return { reads: 0, ops: 0, lastUs: 0 };
}

export function threshold(cfg: ControllerConfig): number {
  if (cfg.rule === 'count') return 0.5;
  return (2 * cfg.tCaUs) / (3 * cfg.tCaUs - cfg.tRpUs);
}

/** Folds one completed request into the moving average. */
export function observe(s: ControllerState, cfg: ControllerConfig, nowUs: number, reads: number, writes: number): void {
  const decay = Math.exp(-Math.max(0, nowUs - s.lastUs) / cfg.windowUs);
  s.reads = s.reads * decay + reads;
  s.ops = s.ops * decay + reads + writes;
  s.lastUs = nowUs;
}

export function readRatio(s: ControllerState): number | null {
  return s.ops > 1e-9 ? s.reads / s.ops : null;
}

/** The mode the controller wants now, or null to stay. */
export function decide(s: ControllerState, cfg: ControllerConfig, c: CoordState, nowUs: number): Mode | null {
  if (c.phase !== 'STABLE' || nowUs - c.sinceUs < cfg.dwellUs) return null;
  const r = readRatio(s);
  if (r === null) return null;
  const t = threshold(cfg);
  if (r > t + cfg.hysteresis && c.current !== 'HMR') return 'HMR';
  if (r < t - cfg.hysteresis && c.current !== 'HMW') return 'HMW';
  return null;
}
