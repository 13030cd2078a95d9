/**
 * The Lamport diagram: one vertical lane per node, time flowing down, a dot per step, an arrow per
 * message copy from its send to its delivery (or to the cross where it was lost), faults drawn
 * across the lanes, timers as brackets beside their lane.
 *
 * It is a canvas virtualised over the axis: a frame binary-searches the visible steps, scans the
 * arrow columns (typed arrays, no allocation), and draws at most a budget of each; past the budget
 * it draws a density histogram per lane instead, so a 100,000-event run scrolls like a short one.
 * What a frame drew is kept for hit-testing clicks and hovers.
 */
import { AF_DELAYED, AF_DUPLICATED, AF_REORDERED, AK_DELIVERED, AK_DROPPED, AK_DUPLICATE, AK_IN_FLIGHT, AK_LOST, IK_CLIENT, IK_MESSAGE, IK_RESPONSE, IK_RESTART, IK_START, IK_TIMER, LANE_DOWN, LANE_PAUSED, SF_VIOLATION } from '../model.ts';
import { formatTime } from './data.ts';
import { ARROW_BUDGET, DiagramFrame, GUTTER, OVERVIEW_W, STEP_BUDGET } from './diagram-frame.ts';

export { ARROW_BUDGET, type Axis, type DiagramEvents, type FrameStats, HEAD_H, STEP_BUDGET, type Target, type ViewState } from './diagram-frame.ts';

/** The Lamport diagram: the frame (`DiagramFrame`) and how one frame is painted. */
export class Diagram extends DiagramFrame {
  // ---------------------------------------------------------------------------------------------
  // Drawing

  /** Draws now (tests and screenshots call it to avoid waiting for a frame). */
  draw(): void {
    const c = this.ctx;
    const st = this.state;
    const d = this.data;
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.clearRect(0, 0, this.w, this.h);
    c.fillStyle = '#fff';
    c.fillRect(0, 0, this.w, this.h);
    const u0 = st.top;
    const u1 = st.top + this.h / st.scale;
    this.hitSteps = [];
    this.hitArrows = [];
    this.hitFaults = [];

    this.drawPartitions(u0, u1);
    this.drawLaneIntervals(u0, u1);
    // Lane lines.
    c.lineWidth = 1;
    for (let n = 0; n < this.laneXs.length; n++) {
      const x = this.laneXs[n]!;
      if (Number.isNaN(x)) continue;
      c.strokeStyle = '#d4d4d8';
      c.beginPath();
      c.moveTo(x, 0);
      c.lineTo(x, this.h);
      c.stroke();
    }
    this.drawAxis(u0, u1);

    const k0 = Math.max(0, d.lowerBound(st.axis, u0) - 1);
    const k1 = Math.min(d.S.n, d.lowerBound(st.axis, u1) + 1);
    const dense = k1 - k0 > STEP_BUDGET;
    this.stats.dense = dense;
    this.stats.steps = k1 - k0;
    if (st.showTimers && !dense) this.drawTimers(u0, u1);
    this.drawArrows(u0, u1, dense);
    if (dense) this.drawDensity(k0, k1);
    else this.drawSteps(k0, k1);
    this.drawFaults(u0, u1);
    this.drawNetMarks(u0, u1);
    this.drawViolations(u0, u1);
    this.drawOverview();
    this.on.drawn();
  }

  protected drawPartitions(u0: number, u1: number): void {
    const P = this.data.model.partitions;
    const c = this.ctx;
    c.fillStyle = 'rgba(168, 85, 247, 0.07)';
    for (let i = 0; i < P.p0.length; i++) {
      const a = this.at(P.p0[i]!, P.t0[i]!);
      const b = this.at(P.p1[i]!, P.t1[i]!);
      if (b < u0 || a > u1) continue;
      const y0 = this.y(a);
      c.fillRect(GUTTER, y0, this.w - GUTTER, Math.max(1, this.y(b) - y0));
    }
  }

  protected drawLaneIntervals(u0: number, u1: number): void {
    const L = this.data.model.lanes;
    const c = this.ctx;
    for (let i = 0; i < L.node.length; i++) {
      const x = this.laneXs[L.node[i]!]!;
      if (Number.isNaN(x)) continue;
      const a = this.at(L.p0[i]!, L.t0[i]!);
      const b = this.at(L.p1[i]!, L.t1[i]!);
      if (b < u0 || a > u1) continue;
      const y0 = Math.max(-2, this.y(a));
      const y1 = Math.min(this.h + 2, this.y(b));
      const kind = L.kind[i]!;
      c.fillStyle = kind === LANE_DOWN ? 'rgba(220, 38, 38, 0.13)' : kind === LANE_PAUSED ? 'rgba(113, 113, 122, 0.16)' : 'rgba(127, 29, 29, 0.22)';
      c.fillRect(x - 7, y0, 14, Math.max(1, y1 - y0));
      c.strokeStyle = kind === LANE_PAUSED ? '#a1a1aa' : '#dc2626';
      c.setLineDash(kind === LANE_PAUSED ? [2, 3] : [5, 4]);
      c.beginPath();
      c.moveTo(x, y0);
      c.lineTo(x, y1);
      c.stroke();
      c.setLineDash([]);
      if (y0 > 0 && y0 < this.h) {
        c.fillStyle = kind === LANE_PAUSED ? '#52525b' : '#b91c1c';
        c.font = '10px system-ui, sans-serif';
        c.fillText(kind === LANE_DOWN ? 'down' : kind === LANE_PAUSED ? 'paused' : 'halted', x + 9, y0 + 22);
      }
    }
  }

  protected drawAxis(u0: number, u1: number): void {
    const c = this.ctx;
    const st = this.state;
    const d = this.data;
    c.fillStyle = '#fafafa';
    c.fillRect(0, 0, GUTTER - 6, this.h);
    c.font = '10px ui-monospace, monospace';
    c.fillStyle = '#71717a';
    c.strokeStyle = '#f0f0f3';
    const minPx = 46;
    const raw = minPx / st.scale;
    const pow = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
    let step = pow;
    for (const m of [1, 2, 5, 10]) {
      if (pow * m >= raw) {
        step = pow * m;
        break;
      }
    }
    if (st.axis === 'order') step = Math.max(1, Math.round(step));
    const first = Math.ceil(u0 / step) * step;
    for (let u = first; u <= u1; u += step) {
      const y = this.y(u);
      c.beginPath();
      c.moveTo(GUTTER - 6, y);
      c.lineTo(this.w, y);
      c.stroke();
      if (st.axis === 'order') {
        const k = Math.round(u);
        if (k < 0 || k >= d.S.n) continue;
        c.fillText(`#${k}`, 6, y + 3);
        c.fillStyle = '#a1a1aa';
        c.fillText(formatTime(d.model, d.S.t[k]!), 6, y + 14);
        c.fillStyle = '#71717a';
      } else c.fillText(formatTime(d.model, u), 6, y + 3);
    }
  }

  protected kindColorOf(k: number): string {
    return this.kindColor.get(k) ?? '#52525b';
  }

  /** Does the request filter hide (dim) this request? */
  protected dimmed(req: number): boolean {
    return this.state.req >= 0 && req !== this.state.req;
  }

  protected drawArrows(u0: number, u1: number, dense: boolean): void {
    const A = this.data.A;
    const st = this.state;
    const axisOrder = st.axis === 'order';
    const p0 = axisOrder ? A.p0 : A.t0;
    const p1 = axisOrder ? A.p1 : A.t1;
    let count = 0;
    let inView = 0;
    for (let a = 0; a < A.n; a++) {
      const a0 = p0[a]!;
      const kind = A.kind[a]!;
      const a1 = kind === AK_DROPPED ? a0 : p1[a]!;
      if ((a0 < u0 && a1 < u0) || (a0 > u1 && a1 > u1)) continue;
      if (Number.isNaN(this.laneXs[A.from[a]!]!) || Number.isNaN(this.laneXs[A.to[a]!]!)) continue;
      if (st.hiddenKinds.has(A.mkind[a]!)) continue;
      if (!st.showLost && (kind === AK_DROPPED || kind === AK_LOST)) continue;
      inView++;
      if (count <= ARROW_BUDGET) this.visible[count++] = a;
    }
    this.stats.arrowsInView = inView;
    const over = dense || count > ARROW_BUDGET;
    this.stats.arrows = over ? 0 : count;
    if (over) {
      this.note.hidden = false;
      this.note.textContent = `${inView.toLocaleString()} message arrows in view: zoom in to draw them`;
      return;
    }
    this.note.hidden = true;
    const labels = count <= 90;
    const sel = st.selected;
    const selArrows = new Set<number>(sel >= 0 ? this.data.arrowsAt(sel) : []);
    if (st.selArrow >= 0) selArrows.add(st.selArrow);
    for (let i = 0; i < count; i++) {
      const a = this.visible[i]!;
      if (!selArrows.has(a)) this.drawArrow(a, p0[a]!, p1[a]!, labels, false);
    }
    for (const a of selArrows) this.drawArrow(a, p0[a]!, p1[a]!, true, true);
  }

  protected drawArrow(a: number, a0: number, a1: number, label: boolean, hot: boolean): void {
    const A = this.data.A;
    const c = this.ctx;
    const x0 = this.laneXs[A.from[a]!]!;
    const x1 = this.laneXs[A.to[a]!]!;
    if (Number.isNaN(x0) || Number.isNaN(x1)) return;
    const y0 = this.y(a0);
    const kind = A.kind[a]!;
    const flags = A.flags[a]!;
    const color = this.kindColorOf(A.mkind[a]!);
    c.globalAlpha = this.dimmed(A.req[a]!) ? 0.12 : 1;
    c.lineWidth = hot ? 2.4 : 1.2;
    let xe: number;
    let ye: number;
    if (kind === AK_DROPPED) {
      const dx = x1 - x0;
      xe = x0 + Math.sign(dx) * Math.min(46, Math.abs(dx) * 0.35);
      ye = y0 + 10;
      c.strokeStyle = '#dc2626';
      c.setLineDash([4, 3]);
    } else {
      xe = x1;
      ye = this.y(a1);
      c.strokeStyle = kind === AK_LOST ? '#dc2626' : kind === AK_IN_FLIGHT ? '#a1a1aa' : kind === AK_DUPLICATE ? '#ea580c' : color;
      c.setLineDash(kind === AK_LOST ? [5, 3] : kind === AK_IN_FLIGHT ? [2, 3] : kind === AK_DUPLICATE ? [7, 2, 2, 2] : []);
    }
    c.beginPath();
    c.moveTo(x0, y0);
    c.lineTo(xe, ye);
    c.stroke();
    c.setLineDash([]);
    if (kind === AK_DROPPED || kind === AK_LOST) {
      c.strokeStyle = '#dc2626';
      c.lineWidth = 2;
      c.beginPath();
      c.moveTo(xe - 4, ye - 4);
      c.lineTo(xe + 4, ye + 4);
      c.moveTo(xe + 4, ye - 4);
      c.lineTo(xe - 4, ye + 4);
      c.stroke();
    } else if (kind === AK_DELIVERED || kind === AK_DUPLICATE) {
      const ang = Math.atan2(ye - y0, xe - x0);
      c.fillStyle = c.strokeStyle as string;
      c.beginPath();
      c.moveTo(xe - Math.cos(ang) * 4, ye - Math.sin(ang) * 4);
      c.lineTo(xe - Math.cos(ang - 0.4) * 10, ye - Math.sin(ang - 0.4) * 10);
      c.lineTo(xe - Math.cos(ang + 0.4) * 10, ye - Math.sin(ang + 0.4) * 10);
      c.closePath();
      c.fill();
    }
    const tags: string[] = [];
    if (kind === AK_DUPLICATE) tags.push('dup');
    if (flags & AF_REORDERED) tags.push('reordered');
    if (flags & AF_DELAYED) tags.push('delayed');
    if (kind === AK_LOST || kind === AK_DROPPED) tags.push(this.data.str(A.fate[a]!));
    if (kind === AK_IN_FLIGHT) tags.push('in flight at end');
    if (flags & AF_DUPLICATED && kind === AK_DELIVERED) tags.push('duplicated');
    if (label) {
      const mx = x0 + (xe - x0) * 0.32;
      const my = y0 + (ye - y0) * 0.32;
      const text = (label ? this.data.str(this.data.model.msgs.label[A.msg[a]!]!) : '') + (tags.length ? ` [${tags.join(', ')}]` : '');
      c.font = hot ? 'bold 10px system-ui, sans-serif' : '10px system-ui, sans-serif';
      const w = Math.min(c.measureText(text).width, this.laneW * 1.6);
      c.fillStyle = 'rgba(255,255,255,0.85)';
      c.fillRect(mx - w / 2 - 2, my - 9, w + 4, 12);
      c.fillStyle = kind === AK_LOST || kind === AK_DROPPED ? '#b91c1c' : '#3f3f46';
      c.fillText(text, mx - w / 2, my, this.laneW * 1.6);
    }
    c.globalAlpha = 1;
    this.hitArrows.push(a, x0, y0, xe, ye);
  }

  protected drawTimers(u0: number, u1: number): void {
    const T = this.data.model.timers;
    const S = this.data.S;
    const c = this.ctx;
    c.strokeStyle = '#a1a1aa';
    c.lineWidth = 1;
    c.setLineDash([1, 2]);
    for (let i = 0; i < T.fire.length; i++) {
      const set = T.set[i]!;
      const fire = T.fire[i]!;
      if (set < 0) continue;
      const a = this.data.stepPos(this.state.axis, set);
      const b = this.data.stepPos(this.state.axis, fire);
      if (b < u0 || a > u1) continue;
      const x = this.laneXs[T.node[i]!]!;
      if (Number.isNaN(x)) continue;
      if (this.dimmed(S.req[fire]!)) continue;
      const ya = this.y(a);
      const yb = this.y(b);
      c.beginPath();
      c.moveTo(x + 5, ya);
      c.lineTo(x + 9, ya);
      c.lineTo(x + 9, yb);
      c.lineTo(x + 5, yb);
      c.stroke();
    }
    c.setLineDash([]);
  }

  protected drawSteps(k0: number, k1: number): void {
    const d = this.data;
    const S = d.S;
    const st = this.state;
    const c = this.ctx;
    const rowPx = st.axis === 'order' ? st.scale : Infinity;
    const lastLabelY = new Float64Array(this.laneXs.length).fill(-1e9);
    c.font = '11px system-ui, sans-serif';
    for (let k = k0; k < k1; k++) {
      const n = S.node[k]!;
      const x = this.laneXs[n]!;
      if (Number.isNaN(x)) continue;
      const y = this.y(d.stepPos(st.axis, k));
      const dim = this.dimmed(S.req[k]!);
      c.globalAlpha = dim ? 0.15 : 1;
      const kind = S.kind[k]!;
      if (this.leadMask[k] && st.violation >= 0) {
        c.fillStyle = 'rgba(249, 115, 22, 0.28)';
        c.beginPath();
        c.arc(x, y, 9, 0, Math.PI * 2);
        c.fill();
      }
      const role = d.model.nodes[n]!.role;
      c.fillStyle = kind === IK_TIMER ? '#fff' : this.roleColor.get(role)!;
      c.strokeStyle = this.roleColor.get(role)!;
      c.lineWidth = 1.5;
      c.beginPath();
      if (kind === IK_TIMER) {
        c.moveTo(x, y - 5);
        c.lineTo(x + 5, y);
        c.lineTo(x, y + 5);
        c.lineTo(x - 5, y);
        c.closePath();
        c.fill();
        c.stroke();
      } else if (kind === IK_START || kind === IK_RESTART) {
        c.rect(x - 4.5, y - 4.5, 9, 9);
        c.fill();
      } else {
        c.arc(x, y, kind === IK_MESSAGE ? 3.6 : 4.5, 0, Math.PI * 2);
        c.fill();
      }
      if (S.flags[k]! & SF_VIOLATION) {
        c.strokeStyle = '#dc2626';
        c.lineWidth = 2.5;
        c.beginPath();
        c.arc(x, y, 10, 0, Math.PI * 2);
        c.stroke();
      }
      if (k === st.selected) {
        c.strokeStyle = '#111827';
        c.lineWidth = 2;
        c.beginPath();
        c.arc(x, y, 8, 0, Math.PI * 2);
        c.stroke();
      }
      const labelOk = rowPx >= 13 ? true : y - lastLabelY[n]! >= 13;
      if (labelOk && (rowPx >= 13 || st.axis === 'time')) {
        lastLabelY[n] = y;
        const prefix = kind === IK_MESSAGE || kind === IK_CLIENT || kind === IK_RESPONSE ? '← ' : '';
        c.fillStyle = k === st.selected ? '#111827' : '#3f3f46';
        c.font = k === st.selected ? 'bold 11px system-ui, sans-serif' : '11px system-ui, sans-serif';
        c.fillText(prefix + d.str(S.label[k]!), x + 12, y + 4, this.laneW - 18);
      }
      c.globalAlpha = 1;
      this.hitSteps.push(k, x, y);
    }
  }

  protected drawDensity(k0: number, k1: number): void {
    const d = this.data;
    const S = d.S;
    const c = this.ctx;
    const BIN = 2;
    const bins = Math.ceil(this.h / BIN) + 1;
    const nodes = this.laneXs.length;
    const counts = new Uint32Array(bins * nodes);
    let max = 1;
    for (let k = k0; k < k1; k++) {
      const y = this.y(d.stepPos(this.state.axis, k));
      const b = Math.floor(y / BIN);
      if (b < 0 || b >= bins) continue;
      if (this.dimmed(S.req[k]!)) continue;
      const i = S.node[k]! * bins + b;
      const v = ++counts[i]!;
      if (v > max) max = v;
    }
    const lm = Math.log(max + 1);
    for (let n = 0; n < nodes; n++) {
      const x = this.laneXs[n]!;
      if (Number.isNaN(x)) continue;
      c.fillStyle = this.roleColor.get(d.model.nodes[n]!.role)!;
      for (let b = 0; b < bins; b++) {
        const v = counts[n * bins + b]!;
        if (!v) continue;
        c.globalAlpha = 0.25 + 0.75 * (Math.log(v + 1) / lm);
        c.fillRect(x - 6, b * BIN, 12, BIN);
      }
    }
    c.globalAlpha = 1;
    // The selection and violation steps stay visible in density mode.
    for (const k of [this.state.selected, ...d.model.violations.map((v) => v.step)]) {
      if (k < k0 || k >= k1 || k < 0) continue;
      const x = this.laneXs[S.node[k]!]!;
      if (Number.isNaN(x)) continue;
      const y = this.y(d.stepPos(this.state.axis, k));
      c.strokeStyle = k === this.state.selected ? '#111827' : '#dc2626';
      c.lineWidth = 2.5;
      c.beginPath();
      c.arc(x, y, 9, 0, Math.PI * 2);
      c.stroke();
      this.hitSteps.push(k, x, y);
    }
  }

  protected drawFaults(u0: number, u1: number): void {
    const faults = this.data.model.faults;
    const c = this.ctx;
    let drawn = 0;
    let lastLabelY = -1e9;
    for (let f = 0; f < faults.length; f++) {
      const ft = faults[f]!;
      const u = this.at(ft.p, ft.t);
      if (u < u0 || u > u1) continue;
      const y = this.y(u);
      drawn++;
      c.globalAlpha = ft.refused !== null ? 0.4 : 1;
      const xs = ft.nodes.map((n) => this.laneXs[n]!).filter((x) => !Number.isNaN(x));
      const wide = ft.kind === 'partition' || ft.kind === 'heal' || ft.kind === 'linkFault' || ft.kind === 'linkHeal' || xs.length === 0;
      let x0 = GUTTER;
      let x1 = this.w - 4;
      if (wide) {
        if (xs.length >= 2 && (ft.kind === 'linkFault' || ft.kind === 'partition')) {
          x0 = Math.min(...xs) - 12;
          x1 = Math.max(...xs) + 12;
        }
        c.strokeStyle = ft.kind === 'partition' ? '#9333ea' : ft.kind === 'heal' ? '#16a34a' : ft.kind === 'linkFault' ? '#ea580c' : '#65a30d';
        c.lineWidth = ft.kind === 'partition' ? 2 : 1.5;
        c.setLineDash(ft.kind === 'partition' ? [8, 4] : [3, 3]);
        c.beginPath();
        c.moveTo(x0, y);
        c.lineTo(x1, y);
        c.stroke();
        c.setLineDash([]);
        if (ft.kind === 'partition' && Array.isArray(ft.detail.groups)) this.drawPartitionSides(ft.detail.groups as unknown[], y);
      } else {
        for (const x of xs) {
          c.strokeStyle = ft.kind === 'crash' ? '#dc2626' : ft.kind === 'restart' ? '#16a34a' : ft.kind === 'pause' || ft.kind === 'resume' ? '#52525b' : '#0891b2';
          c.lineWidth = 3;
          c.beginPath();
          if (ft.kind === 'crash') {
            c.moveTo(x - 7, y - 7);
            c.lineTo(x + 7, y + 7);
            c.moveTo(x + 7, y - 7);
            c.lineTo(x - 7, y + 7);
          } else {
            c.moveTo(x - 9, y);
            c.lineTo(x + 9, y);
          }
          c.stroke();
        }
        x0 = xs.length ? Math.min(...xs) - 10 : GUTTER;
        x1 = xs.length ? Math.max(...xs) + 10 : GUTTER + 40;
      }
      if (Math.abs(y - lastLabelY) >= 12 || f === this.state.selFault) {
        lastLabelY = y;
        c.font = f === this.state.selFault ? 'bold 10px system-ui, sans-serif' : '10px system-ui, sans-serif';
        const text = ft.text;
        const w = Math.min(c.measureText(text).width, 360);
        const lx = wide ? x0 + 4 : Math.max(GUTTER, x0 - w - 6);
        c.fillStyle = 'rgba(255,255,255,0.9)';
        c.fillRect(lx - 2, y - 13, w + 4, 12);
        c.fillStyle = ft.kind === 'crash' ? '#b91c1c' : ft.kind === 'partition' ? '#7e22ce' : '#3f3f46';
        c.fillText(text, lx, y - 4, 360);
      }
      c.globalAlpha = 1;
      this.hitFaults.push(f, x0, y, x1);
    }
    this.stats.faults = drawn;
  }

  /** Marks each side of a partition with its group number next to the lane. */
  protected drawPartitionSides(groups: unknown[], y: number): void {
    const c = this.ctx;
    c.font = 'bold 9px system-ui, sans-serif';
    groups.forEach((g, gi) => {
      if (!Array.isArray(g)) return;
      for (const id of g) {
        const n = this.data.model.nodes.findIndex((x) => x.id === id);
        const x = n >= 0 ? this.laneXs[n]! : NaN;
        if (Number.isNaN(x)) continue;
        c.fillStyle = '#7e22ce';
        c.fillText(String.fromCharCode(65 + gi), x - 3, y + 11);
      }
    });
  }

  protected drawNetMarks(u0: number, u1: number): void {
    const marks = this.data.model.netMarks;
    if (!marks.length || !this.state.showLost) return;
    const c = this.ctx;
    c.strokeStyle = '#dc2626';
    c.lineWidth = 1.5;
    for (const m of marks) {
      const u = this.at(m.p, m.t);
      if (u < u0 || u > u1) continue;
      const x = this.laneXs[m.from]!;
      if (Number.isNaN(x)) continue;
      const y = this.y(u);
      c.beginPath();
      c.moveTo(x + 3, y - 3);
      c.lineTo(x + 9, y + 3);
      c.moveTo(x + 9, y - 3);
      c.lineTo(x + 3, y + 3);
      c.stroke();
    }
  }

  protected drawViolations(u0: number, u1: number): void {
    const c = this.ctx;
    const d = this.data;
    d.model.violations.forEach((v) => {
      if (v.step < 0) return;
      const u = d.stepPos(this.state.axis, v.step);
      if (u < u0 || u > u1) return;
      const x = this.laneXs[d.S.node[v.step]!]!;
      if (Number.isNaN(x)) return;
      const y = this.y(u);
      c.font = 'bold 11px system-ui, sans-serif';
      const text = `✗ ${v.invariant}`;
      const w = c.measureText(text).width;
      const lx = x - w - 22 >= GUTTER ? x - w - 22 : x + 14;
      const ly = x - w - 22 >= GUTTER ? y - 8 : y + 8;
      c.fillStyle = '#dc2626';
      c.fillRect(lx, ly, w + 8, 15);
      c.fillStyle = '#fff';
      c.fillText(text, lx + 4, ly + 11);
    });
  }

  protected overviewDensity(): HTMLCanvasElement {
    const key = `${this.state.axis}:${this.h}:${this.dpr}`;
    if (this.overviewCache && this.overviewKey === key) return this.overviewCache;
    const cv = document.createElement('canvas');
    cv.width = Math.floor(OVERVIEW_W * this.dpr);
    cv.height = Math.floor(this.h * this.dpr);
    const c = cv.getContext('2d')!;
    c.scale(this.dpr, this.dpr);
    const [u0, u1] = this.range();
    const span = u1 - u0;
    const bins = Math.max(1, Math.floor(this.h));
    const counts = new Uint32Array(bins);
    const d = this.data;
    let max = 1;
    for (let k = 0; k < d.S.n; k++) {
      const b = Math.min(bins - 1, Math.floor(((d.stepPos(this.state.axis, k) - u0) / span) * bins));
      const v = ++counts[b]!;
      if (v > max) max = v;
    }
    c.fillStyle = '#f4f4f5';
    c.fillRect(0, 0, OVERVIEW_W, this.h);
    const P = d.model.partitions;
    c.fillStyle = 'rgba(168, 85, 247, 0.25)';
    for (let i = 0; i < P.p0.length; i++) {
      const a = ((this.at(P.p0[i]!, P.t0[i]!) - u0) / span) * this.h;
      const b = ((this.at(P.p1[i]!, P.t1[i]!) - u0) / span) * this.h;
      c.fillRect(0, a, OVERVIEW_W, Math.max(1, b - a));
    }
    c.fillStyle = '#a1a1aa';
    const lm = Math.log(max + 1);
    for (let b = 0; b < bins; b++) {
      if (!counts[b]) continue;
      const w = (OVERVIEW_W - 4) * (Math.log(counts[b]! + 1) / lm);
      c.fillRect(2, (b / bins) * this.h, w, Math.max(1, this.h / bins));
    }
    c.fillStyle = '#9333ea';
    for (const f of d.model.faults) c.fillRect(0, ((this.at(f.p, f.t) - u0) / span) * this.h, 4, 1.5);
    c.fillStyle = '#dc2626';
    for (const v of d.model.violations) {
      const k = v.focus;
      if (k >= 0) c.fillRect(0, ((d.stepPos(this.state.axis, k) - u0) / span) * this.h - 1, OVERVIEW_W, 3);
    }
    this.overviewCache = cv;
    this.overviewKey = key;
    return cv;
  }

  protected drawOverview(): void {
    const c = this.overview.getContext('2d')!;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.drawImage(this.overviewDensity(), 0, 0);
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const [u0, u1] = this.range();
    const span = u1 - u0;
    const a = ((this.state.top - u0) / span) * this.h;
    const b = ((this.state.top + this.h / this.state.scale - u0) / span) * this.h;
    c.strokeStyle = '#2563eb';
    c.lineWidth = 1.5;
    c.strokeRect(1, Math.max(0.5, a), OVERVIEW_W - 2, Math.max(3, Math.min(this.h, b) - Math.max(0, a)));
  }

}
