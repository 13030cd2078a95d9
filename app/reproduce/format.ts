/** Number formatting for tables and prose: fixed decimals, ± confidence half-widths, percentages. */
import type { Summary } from './stats.ts';

export function fx(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const s = v.toFixed(digits);
  return s.startsWith('-') && Number(s) === 0 ? s.slice(1) : s;
}

/** "49.5 ± 0.2" (mean ± 95% CI half-width across seeds); just the mean for a single run. */
export function pm(s: Summary | null | undefined, digits = 1): string {
  if (!s) return '–';
  return s.n > 1 ? `${fx(s.mean, digits)} ± ${fx(s.ci95, digits)}` : fx(s.mean, digits);
}

/** A fraction as a signed percentage: -0.243 -> "−24.3%". */
export function pct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const s = `${(v * 100).toFixed(digits)}%`;
  return s.startsWith('-') ? `−${s.slice(1)}` : s;
}

export function ratio(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)}×`;
}

/** Protocol display names as in the paper's legends. */
export const PROTOCOL_NAMES: Readonly<Record<string, string>> = {
  boki: 'Boki',
  'hm-read': 'Halfmoon-read',
  'hm-write': 'Halfmoon-write',
  unsafe: 'Raw (unsafe)',
};

/** Colours, markers and dashes of each protocol in every figure. */
export const STYLE: Readonly<Record<string, { color: string; marker: 'triangle' | 'circle' | 'diamond' | 'square'; dash: 'dotted' | 'solid' | 'dashed' }>> = {
  boki: { color: '#c0392b', marker: 'triangle', dash: 'dotted' },
  'hm-read': { color: '#2471a3', marker: 'circle', dash: 'solid' },
  'hm-write': { color: '#d68910', marker: 'diamond', dash: 'solid' },
  unsafe: { color: '#7f8c8d', marker: 'square', dash: 'dashed' },
};
