/**
 * The viewer's entry point in the browser: loads the model and the trace text (embedded in the
 * page, or fetched from the `halfmoon view` server), then wires the header, the violation banner,
 * the toolbar, the diagram and the details panel together. Keyboard: ← → step, [ ] walk the
 * violation's lead-up, v jump to the violation, + − 0 zoom, t switch axis, Esc clear filters.
 */
import { toPerfetto } from '../perfetto.ts';
import type { ViewModel } from '../model.ts';
import { decodeRange, type RecordIndex } from '../record-pages.ts';
import { TraceDecoder } from '../../../sim/trace-codec.ts';
import { Data, formatTime, type RecordSource } from './data.ts';
import { Diagram, type Target, type ViewState } from './diagram.ts';
import { copyText, h } from './dom.ts';
import { Panel } from './panel.ts';

/** The model and where records come from: embedded in the page, or the `halfmoon view` server. */
async function loadInputs(): Promise<{ model: ViewModel; source: RecordSource }> {
  const m = document.getElementById('hm-model');
  const t = document.getElementById('hm-trace');
  const ix = document.getElementById('hm-index');
  const bl = document.getElementById('hm-blobs');
  if (m && t && ix && bl) {
    const model = JSON.parse(m.textContent ?? '') as ViewModel;
    const index = JSON.parse(ix.textContent ?? '') as RecordIndex;
    const lines = (t.textContent ?? '').split('\n');
    const blobs = new TraceDecoder();
    for (const l of (bl.textContent ?? '').split('\n')) if (l) blobs.feed(JSON.parse(l) as Record<string, unknown>);
    const source: RecordSource = (a, b) => Promise.resolve(decodeRange(index, blobs.blobs, (i) => JSON.parse(lines[i]!) as Record<string, unknown>, a, b));
    return { model, source };
  }
  const model = await fetch('model.json').then((r) => {
    if (!r.ok) throw new Error(`model.json: HTTP ${r.status}`);
    return r.json() as Promise<ViewModel>;
  });
  const source: RecordSource = (a, b) =>
    fetch(`records?from=${a}&to=${b}`).then((r) => {
      if (!r.ok) throw new Error(`records: HTTP ${r.status}`);
      return r.json() as Promise<Record<string, unknown>[]>;
    });
  return { model, source };
}

/** Records the first paint shows: the violation's step, its state before, and its lead-up. */
function firstRecords(model: ViewModel): number[] {
  const v = model.violations[0];
  const s = model.steps;
  const ks = v ? [v.step, ...v.lead.slice(0, 8)] : [0];
  const out: number[] = [];
  for (const k of ks) if (k >= 0 && k < s.rec.length) out.push(s.rec[k]!, s.prev[k]!);
  return out;
}

class App {
  readonly data: Data;
  readonly state: ViewState;
  readonly diagram: Diagram;
  readonly panel: Panel;
  private leadPos = -1;
  private readonly leadLabel = h('span', { class: 'lead-pos' });
  private readonly reqInput: HTMLInputElement;
  private readonly status = h('div', { class: 'status' });

  constructor(data: Data) {
    const model = data.model;
    this.data = data;
    this.data.onLoaded = () => this.reshow();
    const v = model.violations.length ? 0 : -1;
    this.state = { axis: 'order', top: -0.5, scale: 26, selected: -1, selArrow: -1, selFault: -1, hiddenNodes: new Set(), hiddenKinds: new Set(), req: -1, showTimers: true, showLost: true, violation: v };
    this.diagram = new Diagram(this.data, this.state, { select: (t) => this.select(t), viewChanged: () => {}, drawn: () => this.updateStatus() });
    this.panel = new Panel(this.data, {
      goStep: (k) => this.select({ kind: 'step', k }, true),
      goArrow: (a) => this.select({ kind: 'arrow', a }, true),
      filterReq: (r) => this.setReq(r),
      prev: () => this.stepBy(-1),
      next: () => this.stepBy(1),
    });
    this.reqInput = h('input', { type: 'search', id: 'req-filter', list: 'req-list', placeholder: 'filter by request…', size: 16 });
    document.body.replaceChildren(this.header(), this.banner(), this.toolbar(), h('main', null, this.diagram.root, this.panel.root), this.status);
    this.bindKeys();
    requestAnimationFrame(() => this.start());
  }

  private start(): void {
    const m = this.data.model;
    const fromHash = /#step=(\d+)/.exec(location.hash);
    if (fromHash && Number(fromHash[1]) < this.data.S.n) this.select({ kind: 'step', k: Number(fromHash[1]) }, true);
    else if (this.state.violation >= 0) this.focusViolation(0);
    else {
      this.panel.showNothing();
      this.diagram.render();
    }
    if (m.warnings.length) console.warn('halfmoon viewer:', m.warnings.join('; '));
    this.updateStatus();
  }

  // -------------------------------------------------------------------------------------------
  // Chrome

  private header(): HTMLElement {
    const m = this.data.model.meta;
    const bits = [m.scenario ?? m.file, m.variant ? `variant ${m.variant}` : null, m.seed !== null ? `seed ${m.seed}` : null, m.system ? `system ${m.system}` : null, `source ${m.source}`, `${this.data.S.n.toLocaleString()} steps`, formatTime(this.data.model, m.tEnd)].filter(Boolean);
    const outcome = m.outcome ?? 'unknown';
    return h(
      'header',
      null,
      h('span', { class: 'brand' }, 'halfmoon'),
      h('span', { class: 'title' }, bits.join(' · ')),
      h('span', { class: `outcome outcome-${outcome === 'violation' ? 'bad' : 'ok'}` }, outcome),
      this.data.model.warnings.length ? h('span', { class: 'warn', title: this.data.model.warnings.join('\n') }, `⚠ ${this.data.model.warnings.length} note(s)`) : null,
      h('span', { class: 'file muted' }, m.file),
    );
  }

  private replayCommands(): HTMLElement {
    const m = this.data.model.meta;
    const cmds = [`halfmoon replay ${m.file}`, ...(m.replay ? [m.replay] : [])];
    return h(
      'div',
      { class: 'banner-row replay' },
      'Replay: ',
      cmds.map((c, i) => {
        const b = h('button', { class: 'copy', title: 'copy to the clipboard' }, 'copy');
        b.addEventListener('click', () => copyText(c, b));
        return h('span', { class: 'cmd' }, i ? ' or ' : '', h('code', null, c), ' ', b);
      }),
    );
  }

  private banner(): HTMLElement {
    const m = this.data.model;
    if (m.violations.length === 0) {
      return h('div', { id: 'banner', class: 'banner ok' }, h('b', null, '✓ no violation'), ` outcome: ${m.meta.outcome ?? 'unknown'}: every invariant and checker held`, this.replayCommands());
    }
    const v = m.violations[0]!;
    const prev = h('button', { title: 'previous event of the lead-up ([)', onclick: () => this.walkLead(-1) }, '◀');
    const next = h('button', { title: 'next event of the lead-up (])', onclick: () => this.walkLead(1) }, '▶');
    return h(
      'div',
      { id: 'banner', class: 'banner bad', role: 'alert' },
      h('div', { class: 'banner-title' }, '✗ Violation: ', h('b', { class: 'invariant' }, v.invariant), m.violations.length > 1 ? h('span', { class: 'muted' }, ` (and ${m.violations.length - 1} more: ${m.violations.slice(1).map((x) => x.invariant).join(', ')})`) : null),
      h('div', { class: 'banner-msg' }, v.message),
      v.explanation ? h('div', { class: 'banner-explain' }, h('b', null, 'Witness: '), v.explanation) : null,
      h(
        'div',
        { class: 'banner-row' },
        h('button', { class: 'go', onclick: () => this.focusViolation(0) }, v.step >= 0 ? `Go to step #${v.step}` : 'Go to it'),
        v.reqs.length ? h('span', null, ' Operations it names: ', v.reqs.map((r) => h('button', { class: 'chip', onclick: () => this.setReq(r) }, r))) : null,
        v.lead.length ? h('span', { class: 'lead' }, ` What led to it (${v.step >= 0 ? 'causal past' : 'steps of those operations'}): `, prev, this.leadLabel, next) : null,
      ),
      this.replayCommands(),
    );
  }

  private dropdown(title: string, items: { label: string; checked: boolean; set(on: boolean): void }[]): HTMLElement {
    return h(
      'details',
      { class: 'dropdown' },
      h('summary', null, title),
      h(
        'div',
        { class: 'menu' },
        items.map((it) => {
          const cb = h('input', { type: 'checkbox', checked: it.checked });
          cb.addEventListener('change', () => it.set(cb.checked));
          return h('label', null, cb, ' ', it.label);
        }),
      ),
    );
  }

  private toolbar(): HTMLElement {
    const d = this.data;
    const st = this.state;
    const axisBtn = (axis: 'order' | 'time', label: string) => {
      const b = h('button', { class: `seg${st.axis === axis ? ' on' : ''}`, 'data-axis': axis }, label);
      b.addEventListener('click', () => this.setAxis(axis));
      return b;
    };
    const reqs = h(
      'datalist',
      { id: 'req-list' },
      d.model.ops.map((o) => h('option', { value: o.reqId })),
    );
    this.reqInput.addEventListener('change', () => this.setReq(this.reqInput.value.trim()));
    const goto = h('input', { type: 'number', min: 0, max: Math.max(0, d.S.n - 1), placeholder: 'step #', class: 'goto' });
    goto.addEventListener('change', () => {
      const k = Number(goto.value);
      if (Number.isInteger(k) && k >= 0 && k < d.S.n) this.select({ kind: 'step', k }, true);
    });
    const exportBtn = h('button', { title: 'download this run as Chrome/Perfetto trace-event JSON' }, 'Perfetto JSON');
    exportBtn.addEventListener('click', () => this.exportPerfetto());
    return h(
      'div',
      { class: 'toolbar' },
      h('span', { class: 'group' }, axisBtn('order', 'event order'), axisBtn('time', 'time')),
      h('span', { class: 'group' }, h('button', { title: 'zoom out (−)', onclick: () => this.diagram.zoom(1 / 1.6) }, '−'), h('button', { title: 'zoom in (+)', onclick: () => this.diagram.zoom(1.6) }, '+'), h('button', { title: 'the whole run (0)', onclick: () => this.diagram.fit() }, 'fit')),
      this.dropdown(
        'nodes',
        d.model.nodes.map((n, i) => ({
          label: `${n.id} (${n.role})`,
          checked: true,
          set: (on) => {
            if (on) st.hiddenNodes.delete(i);
            else st.hiddenNodes.add(i);
            this.diagram.layoutLanes();
            this.diagram.render();
          },
        })),
      ),
      this.dropdown(
        'messages',
        d.model.kinds.map((k) => ({
          label: d.str(k),
          checked: true,
          set: (on) => {
            if (on) st.hiddenKinds.delete(k);
            else st.hiddenKinds.add(k);
            this.diagram.render();
          },
        })),
      ),
      this.dropdown('show', [
        { label: 'timers', checked: true, set: (on) => ((st.showTimers = on), this.diagram.render()) },
        { label: 'lost and dropped messages', checked: true, set: (on) => ((st.showLost = on), this.diagram.render()) },
      ]),
      h('span', { class: 'group' }, this.reqInput, reqs, h('button', { title: 'clear the request filter (Esc)', onclick: () => this.setReq('') }, '×')),
      goto,
      exportBtn,
      h('span', { class: 'keys muted', title: '← → step · [ ] lead-up · v violation · + − 0 zoom · t axis · wheel scroll · ctrl+wheel zoom · drag pan · Esc clear' }, 'keys: ← → [ ] v + − 0 t Esc'),
    );
  }

  private updateStatus(): void {
    const st = this.state;
    const d = this.data;
    const s = this.diagram.stats;
    const u0 = st.top;
    const u1 = st.top + this.diagram.heightPx / st.scale;
    const fmt = (u: number) => (st.axis === 'order' ? `#${Math.max(0, Math.round(u))}` : formatTime(d.model, u));
    this.status.textContent = `view ${fmt(u0)} … ${fmt(u1)} · ${s.steps.toLocaleString()} steps${s.dense ? ' (density)' : ''}, ${s.arrows.toLocaleString()} arrows drawn of ${s.arrowsInView.toLocaleString()} in view${st.req >= 0 ? ` · filtered to request ${d.str(st.req)}` : ''}`;
  }

  // -------------------------------------------------------------------------------------------
  // Actions

  /** Draws the panel again for the current selection (a page of records it needed arrived). */
  private reshow(): void {
    const st = this.state;
    if (st.selected >= 0) this.panel.showStep(st.selected);
    else if (st.selArrow >= 0) this.panel.showArrow(st.selArrow);
  }

  select(t: Target, reveal = false): void {
    const st = this.state;
    st.selected = t.kind === 'step' ? t.k : -1;
    st.selArrow = t.kind === 'arrow' ? t.a : -1;
    st.selFault = t.kind === 'fault' ? t.f : -1;
    if (t.kind === 'step') {
      this.panel.showStep(t.k);
      history.replaceState(null, '', `#step=${t.k}`);
      if (reveal) this.diagram.reveal(t.k);
    } else if (t.kind === 'arrow') {
      this.panel.showArrow(t.a);
      if (reveal) this.diagram.centerOn(st.axis === 'order' ? this.data.A.p0[t.a]! : this.data.A.t0[t.a]!);
    } else if (t.kind === 'fault') this.panel.showFault(t.f);
    else this.panel.showNothing();
    this.diagram.render();
    this.updateStatus();
  }

  private visibleStep(k: number): boolean {
    const st = this.state;
    const S = this.data.S;
    return !st.hiddenNodes.has(S.node[k]!) && (st.req < 0 || S.req[k] === st.req);
  }

  stepBy(dir: 1 | -1): void {
    const n = this.data.S.n;
    if (n === 0) return;
    let k = this.state.selected;
    if (k < 0) k = dir > 0 ? -1 : n;
    for (let j = k + dir; j >= 0 && j < n; j += dir) {
      if (this.visibleStep(j)) return this.select({ kind: 'step', k: j }, true);
    }
  }

  private focusViolation(i: number): void {
    const v = this.data.model.violations[i];
    if (!v) return;
    this.state.violation = i;
    this.diagram.setLead(v.lead);
    this.leadPos = v.lead.indexOf(v.focus);
    this.updateLead();
    if (v.focus >= 0) {
      this.state.scale = this.diagram.defaultScale();
      this.select({ kind: 'step', k: v.focus });
      this.diagram.centerOn(this.data.stepPos(this.state.axis, v.focus));
    }
  }

  private walkLead(dir: 1 | -1): void {
    const v = this.data.model.violations[Math.max(0, this.state.violation)];
    if (!v || v.lead.length === 0) return;
    if (this.state.violation < 0) this.focusViolation(0);
    this.leadPos = Math.min(v.lead.length - 1, Math.max(0, (this.leadPos < 0 ? (dir > 0 ? -1 : v.lead.length) : this.leadPos) + dir));
    this.updateLead();
    this.select({ kind: 'step', k: v.lead[this.leadPos]! }, true);
  }

  private updateLead(): void {
    const v = this.data.model.violations[Math.max(0, this.state.violation)];
    if (!v) return;
    this.leadLabel.textContent = ` ${this.leadPos >= 0 ? this.leadPos + 1 : '–'} / ${v.lead.length} `;
  }

  setReq(name: string): void {
    const idx = name ? this.data.reqIndex(name) : -1;
    this.state.req = idx;
    this.reqInput.value = idx >= 0 ? name : '';
    if (idx >= 0) {
      const steps = this.data.stepsOfReq(idx);
      const first = steps.length ? steps[0]! : -1;
      if (first >= 0 && (this.state.selected < 0 || this.data.S.req[this.state.selected] !== idx)) this.select({ kind: 'step', k: first }, true);
    }
    this.diagram.render();
    this.updateStatus();
  }

  setAxis(axis: 'order' | 'time'): void {
    const st = this.state;
    if (st.axis === axis) return;
    const centerU = st.top + this.diagram.heightPx / st.scale / 2;
    const k = st.selected >= 0 ? st.selected : Math.max(0, Math.min(this.data.S.n - 1, st.axis === 'order' ? Math.round(centerU) : this.data.lowerBound('time', centerU)));
    st.axis = axis;
    st.scale = this.diagram.defaultScale();
    for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-axis]')) b.classList.toggle('on', b.dataset.axis === axis);
    this.diagram.layoutLanes();
    this.diagram.centerOn(this.data.S.n ? this.data.stepPos(axis, k) : 0);
  }

  private exportPerfetto(): void {
    const json = JSON.stringify(toPerfetto(this.data.model));
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const a = h('a', { href: url, download: `${this.data.model.meta.file.replace(/\.jsonl?$/, '')}.perfetto.json` });
    document.body.append(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000); // nondeterminism-ok: browser UI cleanup, not simulation
  }

  private bindKeys(): void {
    document.addEventListener('keydown', (e) => {
      const tag = (e.target as HTMLElement | null)?.tagName;
      if (tag === 'INPUT' || tag === 'TEXTAREA' || e.ctrlKey || e.metaKey || e.altKey) return;
      const page = this.diagram.heightPx * 0.85;
      const act: Record<string, () => void> = {
        ArrowLeft: () => this.stepBy(-1),
        ArrowUp: () => this.stepBy(-1),
        k: () => this.stepBy(-1),
        ArrowRight: () => this.stepBy(1),
        ArrowDown: () => this.stepBy(1),
        j: () => this.stepBy(1),
        '[': () => this.walkLead(-1),
        ']': () => this.walkLead(1),
        v: () => this.focusViolation(Math.max(0, this.state.violation)),
        '+': () => this.diagram.zoom(1.6),
        '=': () => this.diagram.zoom(1.6),
        '-': () => this.diagram.zoom(1 / 1.6),
        '0': () => this.diagram.fit(),
        t: () => this.setAxis(this.state.axis === 'order' ? 'time' : 'order'),
        PageDown: () => this.diagram.panPx(page),
        PageUp: () => this.diagram.panPx(-page),
        Home: () => this.diagram.centerOn(this.diagram.range()[0]),
        End: () => this.diagram.centerOn(this.diagram.range()[1]),
        Escape: () => (this.setReq(''), this.select({ kind: 'none' })),
      };
      const f = act[e.key];
      if (f) {
        e.preventDefault();
        f();
      }
    });
  }
}

declare global {
  interface Window {
    halfmoonViewer?: App;
  }
}

loadInputs()
  .then(async ({ model, source }) => {
    // The violation and the steps around it first; the rest when a panel asks for it.
    const data = new Data(model, source);
    await data.ensure(firstRecords(model));
    const app = new App(data);
    window.halfmoonViewer = app;
    document.documentElement.dataset.ready = '1';
  })
  .catch((e: unknown) => {
    document.body.replaceChildren(h('div', { class: 'banner bad' }, `The viewer could not load this trace: ${e instanceof Error ? e.message : String(e)}`));
    document.documentElement.dataset.ready = 'error';
  });
