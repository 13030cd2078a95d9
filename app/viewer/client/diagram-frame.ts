/**
 * The Lamport diagram's frame (the drawing is `diagram.ts`): the canvas and its overview strip,
 * the geometry of lanes and the axis (scale, scroll position, zoom, fit), the hit-testing of what
 * the last frame drew, and the mouse, wheel and keyboard input. Split from diagram.ts along the
 * seam between placing things and painting them; the state both share is the protected fields.
 */
import type { Data } from './data.ts';
import { formatTime } from './data.ts';
import { h } from './dom.ts';

export type Axis = 'order' | 'time';

export interface ViewState {
  axis: Axis;
  /** Axis value at the top edge of the canvas. */
  top: number;
  /** Pixels per axis unit. */
  scale: number;
  selected: number;
  selArrow: number;
  selFault: number;
  hiddenNodes: Set<number>;
  hiddenKinds: Set<number>;
  /** Request filter (string index) or -1. */
  req: number;
  showTimers: boolean;
  showLost: boolean;
  /** The violation whose lead-up is highlighted, or -1. */
  violation: number;
}

export type Target = { kind: 'step'; k: number } | { kind: 'arrow'; a: number } | { kind: 'fault'; f: number } | { kind: 'none' };

export interface DiagramEvents {
  select(t: Target): void;
  viewChanged(): void;
  /** A frame was drawn (its stats are current). */
  drawn(): void;
}

/** The most steps drawn one by one in a frame; beyond it, a density histogram per lane. */
export const STEP_BUDGET = 3000;
/** The most arrows drawn in a frame; beyond it, arrows are left out until the user zooms in. */
export const ARROW_BUDGET = 2500;
export const GUTTER = 78;
export const OVERVIEW_W = 18;
export const HEAD_H = 34;
export const ROW_DEFAULT_PX = 26;

export const ROLE_COLORS = ['#2563eb', '#059669', '#9333ea', '#d97706', '#0891b2', '#db2777', '#65a30d', '#7c3aed', '#ea580c', '#0d9488'];

export function hashHue(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) % 360;
}

export interface FrameStats {
  steps: number;
  arrows: number;
  arrowsInView: number;
  dense: boolean;
  faults: number;
}

/** The diagram without its drawing: canvas and geometry, scrolling and zoom, hit-testing and input. */
export abstract class DiagramFrame {
  readonly root: HTMLDivElement;
  protected readonly head: HTMLDivElement;
  protected readonly canvas: HTMLCanvasElement;
  protected readonly overview: HTMLCanvasElement;
  protected readonly tip: HTMLDivElement;
  protected readonly note: HTMLDivElement;
  protected ctx: CanvasRenderingContext2D;
  protected w = 800;
  protected h = 600;
  protected dpr = 1;
  protected pending = false;
  protected laneXs: Float64Array;
  protected laneW = 100;
  protected readonly roleColor = new Map<string, string>();
  protected readonly kindColor = new Map<number, string>();
  protected leadMask: Uint8Array;
  protected overviewCache: HTMLCanvasElement | null = null;
  protected overviewKey = '';
  // What the last frame drew, for hit-testing.
  protected hitSteps: number[] = [];
  protected hitArrows: number[] = [];
  protected hitFaults: number[] = [];
  readonly stats: FrameStats = { steps: 0, arrows: 0, arrowsInView: 0, dense: false, faults: 0 };
  protected readonly visible = new Int32Array(ARROW_BUDGET + 1);

  constructor(
    protected readonly data: Data,
    readonly state: ViewState,
    protected readonly on: DiagramEvents,
  ) {
    this.head = h('div', { class: 'lanes-head' });
    this.canvas = h('canvas', { class: 'diagram', tabindex: 0, 'aria-label': 'Lamport diagram' });
    this.overview = h('canvas', { class: 'overview', title: 'the whole run: click or drag to move' });
    this.tip = h('div', { class: 'tip', hidden: true });
    this.note = h('div', { class: 'diagram-note', hidden: true });
    this.root = h('div', { class: 'diagram-wrap' }, this.head, h('div', { class: 'canvas-box' }, this.canvas, this.overview, this.tip, this.note));
    this.ctx = this.canvas.getContext('2d')!;
    this.laneXs = new Float64Array(data.model.nodes.length).fill(NaN);
    this.leadMask = new Uint8Array(data.S.n);
    data.model.nodes.forEach((n) => {
      if (!this.roleColor.has(n.role)) this.roleColor.set(n.role, ROLE_COLORS[this.roleColor.size % ROLE_COLORS.length]!);
    });
    for (const k of data.model.kinds) this.kindColor.set(k, `hsl(${hashHue(data.str(k))}, 65%, 42%)`);
    this.bindInput();
    new ResizeObserver(() => this.resize()).observe(this.root);
  }

  // ---------------------------------------------------------------------------------------------
  // Geometry

  protected resize(): void {
    const box = this.canvas.parentElement!.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.w = Math.max(200, Math.floor(box.width - OVERVIEW_W));
    this.h = Math.max(100, Math.floor(box.height));
    for (const [c, w] of [
      [this.canvas, this.w],
      [this.overview, OVERVIEW_W],
    ] as const) {
      c.width = Math.floor(w * this.dpr);
      c.height = Math.floor(this.h * this.dpr);
      c.style.width = `${w}px`;
      c.style.height = `${this.h}px`;
    }
    this.overviewKey = '';
    this.layoutLanes();
    this.render();
  }

  get heightPx(): number {
    return this.h;
  }

  layoutLanes(): void {
    const nodes = this.data.model.nodes;
    const vis = nodes.map((_, i) => i).filter((i) => !this.state.hiddenNodes.has(i));
    this.laneW = vis.length ? (this.w - GUTTER - 8) / vis.length : 100;
    this.laneXs.fill(NaN);
    vis.forEach((n, j) => (this.laneXs[n] = GUTTER + (j + 0.5) * this.laneW));
    this.head.replaceChildren(
      h('div', { class: 'lane-gutter', style: `width:${GUTTER}px` }, this.state.axis === 'order' ? 'event' : 'time'),
      ...vis.map((n) => {
        const node = nodes[n]!;
        return h(
          'div',
          { class: 'lane-name', style: `width:${this.laneW}px;border-color:${this.roleColor.get(node.role)}`, title: `${node.id}: ${node.role}${node.driver ? ' (workload driver)' : ''}` },
          h('b', null, node.id),
          h('span', null, node.role),
        );
      }),
    );
  }

  /** The axis range of the whole run. */
  range(): [number, number] {
    const m = this.data.model.meta;
    return this.state.axis === 'order' ? [-0.5, Math.max(m.pEnd, 0.5)] : [0, Math.max(m.tEnd, 1)];
  }

  protected y(u: number): number {
    return (u - this.state.top) * this.state.scale;
  }

  /** Axis units per pixel in the other axis, for things placed by time or order. */
  protected at(p: number, t: number): number {
    return this.state.axis === 'order' ? p : t;
  }

  setLead(steps: readonly number[]): void {
    this.leadMask = new Uint8Array(this.data.S.n);
    for (const k of steps) if (k >= 0 && k < this.leadMask.length) this.leadMask[k] = 1;
    this.render();
  }

  // ---------------------------------------------------------------------------------------------
  // Navigation

  /** Default zoom: rows of ROW_DEFAULT_PX in event order; in time, the same number of events on average. */
  defaultScale(): number {
    if (this.state.axis === 'order') return ROW_DEFAULT_PX;
    const [u0, u1] = this.range();
    const n = Math.max(1, this.data.S.n);
    return Math.max(1e-9, ((ROW_DEFAULT_PX * n) / Math.max(1e-9, u1 - u0)) * 0.6);
  }

  clampTop(): void {
    const [u0, u1] = this.range();
    const span = this.h / this.state.scale;
    this.state.top = Math.min(Math.max(this.state.top, u0 - span * 0.5), u1 - span * 0.5);
  }

  centerOn(u: number): void {
    this.state.top = u - this.h / this.state.scale / 2;
    this.clampTop();
    this.render();
    this.on.viewChanged();
  }

  /** Scrolls so that step k is visible (centering it when it is not). */
  reveal(k: number): void {
    const u = this.data.stepPos(this.state.axis, k);
    const y = this.y(u);
    if (y < 40 || y > this.h - 40) this.centerOn(u);
    else this.render();
  }

  fit(): void {
    const [u0, u1] = this.range();
    this.state.scale = (this.h - 20) / Math.max(1e-9, u1 - u0);
    this.state.top = u0 - 10 / this.state.scale;
    this.render();
    this.on.viewChanged();
  }

  zoom(factor: number, atPx = this.h / 2): void {
    const u = this.state.top + atPx / this.state.scale;
    const [u0, u1] = this.range();
    const minScale = (this.h * 0.5) / Math.max(1e-9, u1 - u0);
    const maxScale = this.state.axis === 'order' ? 400 : 400 / Math.max(1e-9, this.minTimeGap());
    this.state.scale = Math.min(maxScale, Math.max(minScale, this.state.scale * factor));
    this.state.top = u - atPx / this.state.scale;
    this.clampTop();
    this.render();
    this.on.viewChanged();
  }

  protected minGapCache = -1;
  protected minTimeGap(): number {
    if (this.minGapCache >= 0) return this.minGapCache;
    const t = this.data.S.t;
    let g = Infinity;
    for (let k = 1; k < t.length; k++) {
      const d = t[k]! - t[k - 1]!;
      if (d > 0 && d < g) g = d;
    }
    this.minGapCache = Number.isFinite(g) ? g : 1;
    return this.minGapCache;
  }

  panPx(dy: number): void {
    this.state.top += dy / this.state.scale;
    this.clampTop();
    this.render();
    this.on.viewChanged();
  }

  // ---------------------------------------------------------------------------------------------
  // Drawing (the frame itself is drawn by `Diagram`, diagram.ts)

  render(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }


  /** Draws now (tests and screenshots call it to avoid waiting for a frame). */
  abstract draw(): void;

  // ---------------------------------------------------------------------------------------------
  // Input

  hitTest(px: number, py: number): Target {
    let best = -1;
    let bestD = 81;
    const hs = this.hitSteps;
    for (let i = 0; i < hs.length; i += 3) {
      const dx = hs[i + 1]! - px;
      const dy = hs[i + 2]! - py;
      const d2 = dx * dx + dy * dy;
      if (d2 < bestD) {
        bestD = d2;
        best = hs[i]!;
      }
    }
    if (best >= 0) return { kind: 'step', k: best };
    const ha = this.hitArrows;
    let bestA = -1;
    let bestAD = 5;
    for (let i = 0; i < ha.length; i += 5) {
      const dist = segDist(px, py, ha[i + 1]!, ha[i + 2]!, ha[i + 3]!, ha[i + 4]!);
      if (dist < bestAD) {
        bestAD = dist;
        bestA = ha[i]!;
      }
    }
    if (bestA >= 0) return { kind: 'arrow', a: bestA };
    const hf = this.hitFaults;
    for (let i = 0; i < hf.length; i += 4) {
      if (Math.abs(hf[i + 2]! - py) <= 6 && px >= hf[i + 1]! - 4 && px <= hf[i + 3]! + 4) return { kind: 'fault', f: hf[i]! };
    }
    return { kind: 'none' };
  }

  /** Canvas-relative position of a step (for tests driving clicks). */
  stepPoint(k: number): { x: number; y: number } | null {
    const x = this.laneXs[this.data.S.node[k]!]!;
    if (Number.isNaN(x)) return null;
    return { x, y: this.y(this.data.stepPos(this.state.axis, k)) };
  }

  protected bindInput(): void {
    const cv = this.canvas;
    let drag: { y: number; top: number; moved: boolean } | null = null;
    cv.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const rect = cv.getBoundingClientRect();
        if (e.ctrlKey || e.metaKey) this.zoom(Math.exp(-e.deltaY * 0.0025), e.clientY - rect.top);
        else this.panPx(e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY);
      },
      { passive: false },
    );
    cv.addEventListener('mousedown', (e) => {
      drag = { y: e.clientY, top: this.state.top, moved: false };
    });
    window.addEventListener('mousemove', (e) => {
      if (drag) {
        const dy = e.clientY - drag.y;
        if (Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) {
          this.state.top = drag.top - dy / this.state.scale;
          this.clampTop();
          this.render();
          this.on.viewChanged();
        }
        return;
      }
      if (e.target !== cv) return;
      const rect = cv.getBoundingClientRect();
      this.hover(e.clientX - rect.left, e.clientY - rect.top);
    });
    window.addEventListener('mouseup', (e) => {
      if (!drag) return;
      const wasDrag = drag.moved;
      drag = null;
      if (wasDrag || e.target !== cv) return;
      const rect = cv.getBoundingClientRect();
      this.on.select(this.hitTest(e.clientX - rect.left, e.clientY - rect.top));
      cv.focus();
    });
    cv.addEventListener('mouseleave', () => (this.tip.hidden = true));
    cv.addEventListener('dblclick', (e) => {
      const rect = cv.getBoundingClientRect();
      this.zoom(2, e.clientY - rect.top);
    });
    let ovDrag = false;
    const ovMove = (e: MouseEvent) => {
      const rect = this.overview.getBoundingClientRect();
      const [u0, u1] = this.range();
      this.centerOn(u0 + ((e.clientY - rect.top) / this.h) * (u1 - u0));
    };
    this.overview.addEventListener('mousedown', (e) => {
      ovDrag = true;
      ovMove(e);
    });
    window.addEventListener('mousemove', (e) => ovDrag && ovMove(e));
    window.addEventListener('mouseup', () => (ovDrag = false));
  }

  protected hover(px: number, py: number): void {
    const t = this.hitTest(px, py);
    const d = this.data;
    let text = '';
    if (t.kind === 'step') {
      const k = t.k;
      text = `#${k} ${d.model.nodes[d.S.node[k]!]!.id} at ${formatTime(d.model, d.S.t[k]!)}: ${d.str(d.S.label[k]!)}${d.S.req[k]! >= 0 ? ` (request ${d.str(d.S.req[k]!)})` : ''}`;
    } else if (t.kind === 'arrow') {
      const A = d.A;
      const a = t.a;
      const kinds = ['delivered', 'duplicate delivery', 'lost', 'dropped when sent', 'in flight at the end'];
      text = `${d.str(d.model.msgs.label[A.msg[a]!]!)}: ${d.model.nodes[A.from[a]!]!.id} → ${d.model.nodes[A.to[a]!]!.id}, ${kinds[A.kind[a]!]}${A.fate[a]! >= 0 ? ` (${d.str(A.fate[a]!)})` : ''}`;
    } else if (t.kind === 'fault') {
      const f = d.model.faults[t.f]!;
      text = `${f.text} at ${formatTime(d.model, f.t)}`;
    }
    if (!text) {
      this.tip.hidden = true;
      this.canvas.style.cursor = 'grab';
      return;
    }
    this.canvas.style.cursor = 'pointer';
    this.tip.hidden = false;
    this.tip.textContent = text;
    this.tip.style.left = `${Math.min(px + 14, this.w - 320)}px`;
    this.tip.style.top = `${py + 14}px`;
  }
}


export function segDist(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2)) : 0;
  const qx = x0 + t * dx;
  const qy = y0 + t * dy;
  return Math.hypot(px - qx, py - qy);
}
