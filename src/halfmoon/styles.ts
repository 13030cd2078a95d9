/**
 * Each registered mode's record discipline ('halfmoon' or 'boki'), written by `defineProtocol`
 * (protocols.ts) and read by the step machinery and recovery, which protocols.ts itself builds
 * on (so they cannot import the registry without a cycle).
 */
import type { Mode } from './records.ts';

const STYLES = new Map<Mode, 'halfmoon' | 'boki'>();

export function setStyle(mode: Mode, style: 'halfmoon' | 'boki'): void {
  if (!STYLES.has(mode)) STYLES.set(mode, style);
}

/** BokiFlow's discipline: plain appends, the first record per step wins, intent and done markers. */
export function bokiStyle(mode: Mode): boolean {
  return STYLES.get(mode) === 'boki';
}
