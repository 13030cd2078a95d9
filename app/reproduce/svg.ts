/**
 * A small SVG plotting module for the reproduction's figures: panels with linear axes, "nice"
 * ticks, grid lines, axis labels, a shared legend, lines with markers, error bars or error bands,
 * vertical shaded spans, and grouped bar charts with whiskers. Output is a standalone SVG string,
 * byte-for-byte deterministic for the same input (fixed number formatting, no ids from counters
 * outside the figure).
 *
 * Layout: the figure is a grid of panels (`columns` wide); the legend sits above the panels, as
 * in the paper's figures (`fig.legend(loc="upper center", ncol=...)`).
 */
import { assert } from '../../src/core/assert.ts';

export type Marker = 'circle' | 'triangle' | 'diamond' | 'square' | 'none';
export type Dash = 'solid' | 'dotted' | 'dashed';

export interface Point {
  readonly x: number;
  readonly y: number;
  /** A symmetric half-width, or an explicit [low, high] interval. */
  readonly err?: number | readonly [number, number];
}

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
  readonly color: string;
  readonly marker?: Marker;
  readonly hollow?: boolean;
  readonly dash?: Dash;
  readonly lineWidth?: number;
  /** Draw the errors as a shaded band around the line instead of error bars. */
  readonly band?: boolean;
  /** Leave the series out of the legend (for example a second copy on another panel). */
  readonly legend?: boolean;
}

/** A shaded vertical span, e.g. a transition window. */
export interface Shade {
  readonly x0: number;
  readonly x1: number;
  readonly color: string;
  readonly opacity?: number;
}

export interface Annotation {
  readonly x: number;
  readonly text: string;
}

export interface BarGroup {
  readonly name: string;
  readonly color: string;
  /** One value per category: the bar height, its error (CI) and a whisker end (e.g. p99). */
  readonly values: readonly { readonly y: number; readonly err?: number; readonly whisker?: number }[];
}

export interface Axis {
  readonly min?: number;
  readonly max?: number;
  /** Explicit tick positions (default: "nice" ticks over the range). */
  readonly ticks?: readonly number[];
}

export interface Panel {
  readonly title?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x?: Axis;
  /** The y axis starts at 0 unless `min` says otherwise. */
  readonly y?: Axis;
  readonly series?: readonly Series[];
  readonly bars?: { readonly categories: readonly string[]; readonly groups: readonly BarGroup[] };
  readonly shades?: readonly Shade[];
  /** Labels written along the top of the plot area at x positions. */
  readonly annotations?: readonly Annotation[];
}

export interface Figure {
  readonly title?: string;
  readonly panels: readonly Panel[];
  readonly columns?: number;
  readonly panelWidth?: number;
  readonly panelHeight?: number;
  /** A line of text under the panels (source, parameters). */
  readonly caption?: string;
}

const FONT = "font-family='Helvetica, Arial, sans-serif'";
const MARGIN = { left: 64, right: 16, top: 30, bottom: 48 };
const SERIES_MAX = 64;
const POINTS_MAX = 100_000;

/** Numbers as SVG coordinates: two decimals, no exponent, no "-0". */
function n(v: number): string {
  const r = Math.round(v * 100) / 100;
  return (Object.is(r, -0) ? 0 : r).toFixed(2).replace(/\.?0+$/, '');
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const TICKS_MAX = 64;

/**
 * Ticks at 1, 2, 2.5 or 5 times a power of ten, covering [min, max] with about `count` intervals.
 * Ticks are computed as integer multiples of the step (never by repeated addition), so the loop
 * is bounded and the values do not drift.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  assert(Number.isFinite(min) && Number.isFinite(max), 'niceTicks: finite range');
  if (!(max > min)) max = min + Math.max(1, Math.abs(min) * 1e-6);
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw * (1 - 1e-12)) ?? 10 * mag;
  assert(step > 0 && Number.isFinite(step), 'niceTicks: a positive step');
  const first = Math.floor(min / step);
  const last = Math.ceil(max / step);
  assert(last - first <= TICKS_MAX, `niceTicks: at most ${TICKS_MAX} ticks`);
  const out: number[] = [];
  for (let i = first; i <= last; i++) out.push(i * step);
  // min/step may underflow to -0 for a denormal min: keep the first tick at or below min.
  if (out[0]! > min) out.unshift((first - 1) * step);
  return out;
}

function tickLabel(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  const s = v.toFixed(decimals);
  return s === '-0' ? '0' : s;
}

function dashArray(d: Dash | undefined): string {
  return d === 'dotted' ? " stroke-dasharray='2,4'" : d === 'dashed' ? " stroke-dasharray='7,4'" : '';
}

function markerSvg(m: Marker, x: number, y: number, color: string, hollow: boolean): string {
  const fill = hollow ? 'white' : color;
  const st = `fill='${fill}' stroke='${color}' stroke-width='1.6'`;
  const r = 4.5;
  switch (m) {
    case 'none':
      return '';
    case 'circle':
      return `<circle cx='${n(x)}' cy='${n(y)}' r='${n(r)}' ${st}/>`;
    case 'square':
      return `<rect x='${n(x - r)}' y='${n(y - r)}' width='${n(2 * r)}' height='${n(2 * r)}' ${st}/>`;
    case 'triangle':
      return `<polygon points='${n(x)},${n(y - r - 1)} ${n(x - r - 0.5)},${n(y + r - 0.5)} ${n(x + r + 0.5)},${n(y + r - 0.5)}' ${st}/>`;
    case 'diamond':
      return `<polygon points='${n(x)},${n(y - r - 1)} ${n(x + r)},${n(y)} ${n(x)},${n(y + r + 1)} ${n(x - r)},${n(y)}' ${st}/>`;
  }
}

function errRange(p: Point): [number, number] | null {
  if (p.err === undefined) return null;
  if (typeof p.err === 'number') return [p.y - p.err, p.y + p.err];
  return [p.err[0], p.err[1]];
}

interface Scale {
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
  readonly xTicks: readonly number[];
  readonly yTicks: readonly number[];
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

function dataRange(p: Panel): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of p.series ?? []) {
    for (const pt of s.points) {
      if (!Number.isFinite(pt.x) || !Number.isFinite(pt.y)) continue;
      xs.push(pt.x);
      ys.push(pt.y);
      const e = errRange(pt);
      if (e) ys.push(e[0], e[1]);
    }
  }
  for (const g of p.bars?.groups ?? []) {
    for (const v of g.values) {
      ys.push(v.y + (v.err ?? 0));
      if (v.whisker !== undefined) ys.push(v.whisker);
    }
  }
  for (const s of p.shades ?? []) xs.push(s.x0, s.x1);
  return { xs, ys };
}

function scaleFor(p: Panel, left: number, top: number, w: number, h: number): Scale {
  const { xs, ys } = dataRange(p);
  const xTicks = p.x?.ticks ?? (p.bars ? [] : niceTicks(p.x?.min ?? Math.min(...(xs.length ? xs : [0])), p.x?.max ?? Math.max(...(xs.length ? xs : [1]))));
  const xMin = p.bars ? 0 : (p.x?.min ?? Math.min(xTicks[0]!, ...xs));
  const xMax = p.bars ? p.bars.categories.length : (p.x?.max ?? Math.max(xTicks[xTicks.length - 1]!, ...xs));
  const yLo = p.y?.min ?? Math.min(0, ...(ys.length ? ys : [0]));
  const yHi = p.y?.max ?? Math.max(...(ys.length ? ys : [1])) * 1.05;
  const yTicks = p.y?.ticks ?? niceTicks(yLo, yHi > yLo ? yHi : yLo + 1);
  const y0 = p.y?.min ?? yTicks[0]!;
  const y1 = p.y?.max ?? yTicks[yTicks.length - 1]!;
  const x0 = left;
  const x1 = left + w;
  const span = xMax - xMin || 1;
  return {
    x: (v) => x0 + ((v - xMin) / span) * w,
    y: (v) => top + h - ((v - y0) / (y1 - y0 || 1)) * h,
    xTicks: xTicks.filter((t) => t >= xMin - 1e-9 && t <= xMax + 1e-9),
    yTicks: yTicks.filter((t) => t >= y0 - 1e-9 && t <= y1 + 1e-9),
    x0,
    x1,
    y0: top + h,
    y1: top,
  };
}

function axes(p: Panel, s: Scale, out: string[]): void {
  for (const t of s.yTicks) {
    const y = s.y(t);
    out.push(`<line x1='${n(s.x0)}' y1='${n(y)}' x2='${n(s.x1)}' y2='${n(y)}' stroke='#e3e3e3' stroke-width='1'/>`);
    out.push(`<text x='${n(s.x0 - 6)}' y='${n(y + 4)}' text-anchor='end' font-size='11' ${FONT} fill='#333'>${tickLabel(t, s.yTicks)}</text>`);
  }
  for (const t of s.xTicks) {
    const x = s.x(t);
    out.push(`<line x1='${n(x)}' y1='${n(s.y0)}' x2='${n(x)}' y2='${n(s.y1)}' stroke='#efefef' stroke-width='1'/>`);
    out.push(`<line x1='${n(x)}' y1='${n(s.y0)}' x2='${n(x)}' y2='${n(s.y0 + 4)}' stroke='#333'/>`);
    out.push(`<text x='${n(x)}' y='${n(s.y0 + 17)}' text-anchor='middle' font-size='11' ${FONT} fill='#333'>${tickLabel(t, s.xTicks)}</text>`);
  }
  out.push(`<rect x='${n(s.x0)}' y='${n(s.y1)}' width='${n(s.x1 - s.x0)}' height='${n(s.y0 - s.y1)}' fill='none' stroke='#333' stroke-width='1'/>`);
  const midX = (s.x0 + s.x1) / 2;
  const midY = (s.y0 + s.y1) / 2;
  out.push(`<text x='${n(midX)}' y='${n(s.y0 + 38)}' text-anchor='middle' font-size='13' ${FONT} fill='#111'>${escapeXml(p.xLabel)}</text>`);
  out.push(`<text x='${n(s.x0 - 48)}' y='${n(midY)}' text-anchor='middle' font-size='13' ${FONT} fill='#111' transform='rotate(-90 ${n(s.x0 - 48)} ${n(midY)})'>${escapeXml(p.yLabel)}</text>`);
  if (p.title) out.push(`<text x='${n(midX)}' y='${n(s.y1 - 8)}' text-anchor='middle' font-size='13' font-weight='bold' ${FONT} fill='#111'>${escapeXml(p.title)}</text>`);
}

function shades(p: Panel, s: Scale, out: string[]): void {
  for (const sh of p.shades ?? []) {
    const a = Math.max(s.x0, Math.min(s.x1, s.x(sh.x0)));
    const b = Math.max(s.x0, Math.min(s.x1, s.x(sh.x1)));
    out.push(`<rect x='${n(a)}' y='${n(s.y1)}' width='${n(Math.max(1, b - a))}' height='${n(s.y0 - s.y1)}' fill='${sh.color}' fill-opacity='${n(sh.opacity ?? 0.18)}'/>`);
  }
  for (const an of p.annotations ?? []) {
    out.push(`<text x='${n(s.x(an.x))}' y='${n(s.y1 + 13)}' text-anchor='middle' font-size='10' ${FONT} fill='#555'>${escapeXml(an.text)}</text>`);
  }
}

function clampY(s: Scale, v: number): number {
  return Math.max(s.y1, Math.min(s.y0, s.y(v)));
}

function seriesSvg(series: Series, s: Scale, out: string[]): void {
  assert(series.points.length <= POINTS_MAX, `series ${series.name}: at most ${POINTS_MAX} points`);
  const pts = series.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length === 0) return;
  if (series.band) {
    const withErr = pts.filter((p) => errRange(p) !== null);
    if (withErr.length > 1) {
      const upper = withErr.map((p) => `${n(s.x(p.x))},${n(clampY(s, errRange(p)![1]))}`);
      const lower = withErr.map((p) => `${n(s.x(p.x))},${n(clampY(s, errRange(p)![0]))}`).reverse();
      out.push(`<polygon points='${[...upper, ...lower].join(' ')}' fill='${series.color}' fill-opacity='0.2' stroke='none'/>`);
    }
  }
  const lw = series.lineWidth ?? 2;
  if (pts.length > 1 && lw > 0) {
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(s.x(p.x))},${n(clampY(s, p.y))}`).join(' ');
    out.push(`<path d='${d}' fill='none' stroke='${series.color}' stroke-width='${n(lw)}'${dashArray(series.dash)} stroke-linejoin='round'/>`);
  }
  if (!series.band) {
    for (const p of pts) {
      const e = errRange(p);
      if (!e) continue;
      const x = s.x(p.x);
      const ya = clampY(s, e[0]);
      const yb = clampY(s, e[1]);
      if (Math.abs(ya - yb) < 0.5) continue;
      out.push(`<path d='M${n(x)},${n(ya)} L${n(x)},${n(yb)} M${n(x - 4)},${n(ya)} L${n(x + 4)},${n(ya)} M${n(x - 4)},${n(yb)} L${n(x + 4)},${n(yb)}' stroke='${series.color}' stroke-width='1.3' fill='none'/>`);
    }
  }
  for (const p of pts) out.push(markerSvg(series.marker ?? 'circle', s.x(p.x), clampY(s, p.y), series.color, series.hollow === true));
}

function barsSvg(p: Panel, s: Scale, out: string[]): void {
  const b = p.bars!;
  const k = b.groups.length;
  const slot = (s.x1 - s.x0) / b.categories.length;
  const bw = (slot * 0.78) / Math.max(1, k);
  b.categories.forEach((_cat, ci) => {
    const cx = s.x0 + slot * (ci + 0.5);
    b.groups.forEach((g, gi) => {
      const v = g.values[ci];
      if (!v || !Number.isFinite(v.y)) return;
      const x = cx - (bw * k) / 2 + bw * gi;
      const top = clampY(s, v.y);
      out.push(`<rect x='${n(x + 1)}' y='${n(top)}' width='${n(bw - 2)}' height='${n(s.y0 - top)}' fill='${g.color}' stroke='#333' stroke-width='0.6'/>`);
      const mid = x + bw / 2;
      if (v.whisker !== undefined && v.whisker > v.y) {
        const wy = clampY(s, v.whisker);
        out.push(`<path d='M${n(mid)},${n(top)} L${n(mid)},${n(wy)} M${n(mid - bw / 4)},${n(wy)} L${n(mid + bw / 4)},${n(wy)}' stroke='#222' stroke-width='1.2' fill='none'/>`);
      }
      if (v.err !== undefined && v.err > 0) {
        const a = clampY(s, v.y - v.err);
        const c = clampY(s, v.y + v.err);
        out.push(`<path d='M${n(mid - 3)},${n(a)} L${n(mid + 3)},${n(a)} M${n(mid)},${n(a)} L${n(mid)},${n(c)} M${n(mid - 3)},${n(c)} L${n(mid + 3)},${n(c)}' stroke='#000' stroke-width='1' fill='none'/>`);
      }
    });
  });
}

/** Category names under a bar chart's axis (outside the plot area's clip). */
function barLabels(p: Panel, s: Scale, out: string[]): void {
  const cats = p.bars?.categories ?? [];
  const slot = (s.x1 - s.x0) / Math.max(1, cats.length);
  cats.forEach((cat, ci) => {
    out.push(`<text x='${n(s.x0 + slot * (ci + 0.5))}' y='${n(s.y0 + 17)}' text-anchor='middle' font-size='12' ${FONT} fill='#333'>${escapeXml(cat)}</text>`);
  });
}

interface LegendEntry {
  readonly name: string;
  readonly color: string;
  readonly marker: Marker;
  readonly hollow: boolean;
  readonly dash: Dash | undefined;
  readonly bar: boolean;
}

function legendEntries(fig: Figure): LegendEntry[] {
  const seen = new Set<string>();
  const out: LegendEntry[] = [];
  for (const p of fig.panels) {
    for (const s of p.series ?? []) {
      if (s.legend === false || seen.has(s.name)) continue;
      seen.add(s.name);
      out.push({ name: s.name, color: s.color, marker: s.marker ?? 'circle', hollow: s.hollow === true, dash: s.dash, bar: false });
    }
    for (const g of p.bars?.groups ?? []) {
      if (seen.has(g.name)) continue;
      seen.add(g.name);
      out.push({ name: g.name, color: g.color, marker: 'none', hollow: false, dash: undefined, bar: true });
    }
  }
  return out;
}

/** Legend rows, each entry about 7 px per character plus its sample, wrapped to the width. */
function legendSvg(entries: readonly LegendEntry[], width: number, top: number, out: string[]): number {
  const rows: { e: LegendEntry; w: number }[][] = [[]];
  let rowW = 0;
  for (const e of entries) {
    const w = 40 + e.name.length * 6.6 + 18;
    if (rowW + w > width - 20 && rows[rows.length - 1]!.length > 0) {
      rows.push([]);
      rowW = 0;
    }
    rows[rows.length - 1]!.push({ e, w });
    rowW += w;
  }
  rows.forEach((row, ri) => {
    const total = row.reduce((a, r) => a + r.w, 0);
    let x = (width - total) / 2;
    const y = top + ri * 20 + 10;
    for (const { e, w } of row) {
      if (e.bar) out.push(`<rect x='${n(x + 6)}' y='${n(y - 6)}' width='24' height='12' fill='${e.color}' stroke='#333' stroke-width='0.6'/>`);
      else {
        out.push(`<path d='M${n(x + 2)},${n(y)} L${n(x + 34)},${n(y)}' stroke='${e.color}' stroke-width='2'${dashArray(e.dash)}/>`);
        out.push(markerSvg(e.marker, x + 18, y, e.color, e.hollow));
      }
      out.push(`<text x='${n(x + 40)}' y='${n(y + 4)}' font-size='12' ${FONT} fill='#111'>${escapeXml(e.name)}</text>`);
      x += w;
    }
  });
  return entries.length === 0 ? 0 : rows.length * 20 + 6;
}

export function renderFigure(fig: Figure): string {
  assert(fig.panels.length > 0 && fig.panels.length <= 16, 'a figure has 1..16 panels');
  for (const p of fig.panels) assert((p.series?.length ?? 0) <= SERIES_MAX, `at most ${SERIES_MAX} series per panel`);
  const cols = Math.max(1, Math.min(fig.columns ?? fig.panels.length, fig.panels.length));
  const rowsN = Math.ceil(fig.panels.length / cols);
  const pw = fig.panelWidth ?? 460;
  const ph = fig.panelHeight ?? 300;
  const cellW = MARGIN.left + pw + MARGIN.right;
  const cellH = MARGIN.top + ph + MARGIN.bottom;
  const width = cols * cellW;
  const body: string[] = [];
  let y = 8;
  if (fig.title) {
    body.push(`<text x='${n(width / 2)}' y='${n(y + 14)}' text-anchor='middle' font-size='15' font-weight='bold' ${FONT} fill='#111'>${escapeXml(fig.title)}</text>`);
    y += 24;
  }
  y += legendSvg(legendEntries(fig), width, y, body);
  fig.panels.forEach((p, i) => {
    const col = i % cols;
    const row = Math.floor(i / cols);
    const s = scaleFor(p, col * cellW + MARGIN.left, y + row * cellH + MARGIN.top, pw, ph);
    const clip = `clip${i}`;
    body.push(`<clipPath id='${clip}'><rect x='${n(s.x0)}' y='${n(s.y1)}' width='${n(s.x1 - s.x0)}' height='${n(s.y0 - s.y1)}'/></clipPath>`);
    shades(p, s, body);
    axes(p, s, body);
    body.push(`<g clip-path='url(#${clip})'>`);
    if (p.bars) barsSvg(p, s, body);
    for (const se of p.series ?? []) seriesSvg(se, s, body);
    body.push('</g>');
    barLabels(p, s, body);
  });
  let height = y + rowsN * cellH;
  if (fig.caption) {
    body.push(`<text x='${n(width / 2)}' y='${n(height + 4)}' text-anchor='middle' font-size='11' ${FONT} fill='#555'>${escapeXml(fig.caption)}</text>`);
    height += 16;
  }
  return [
    `<svg xmlns='http://www.w3.org/2000/svg' width='${n(width)}' height='${n(height)}' viewBox='0 0 ${n(width)} ${n(height)}'>`,
    `<rect x='0' y='0' width='${n(width)}' height='${n(height)}' fill='white'/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
