/**
 * The details panel: what the selected step did. Its input (and where the message came from),
 * the system lens's readable summary, the receiving node's state before and after as a diff, the
 * effects it produced (and what became of each message and timer), and the client operations of
 * the history around it. Everything here is computed for the one selected step, on selection.
 */
import { diffJson } from '../diff.ts';
import { brief, isObj, type OpView, type StepView, type SummaryInput } from '../lens.ts';
import { AK_DELIVERED, AK_DROPPED, AK_DUPLICATE, AK_IN_FLIGHT, AK_LOST, IK_MESSAGE, IK_RESPONSE, IK_TIMER, SF_STATE } from '../model.ts';
import type { Data } from './data.ts';
import { formatTime } from './data.ts';
import { h } from './dom.ts';

export interface PanelEvents {
  goStep(k: number): void;
  goArrow(a: number): void;
  filterReq(req: string): void;
  prev(): void;
  next(): void;
}

const JSON_SHOW_MAX = 200_000;
const OPS_AROUND = 6;

export class Panel {
  readonly root: HTMLDivElement;

  constructor(
    private readonly d: Data,
    private readonly on: PanelEvents,
  ) {
    this.root = h('div', { class: 'panel', id: 'panel' });
  }

  private stepLink(k: number, text?: string): HTMLElement {
    if (k < 0) return h('span', { class: 'muted' }, text ?? 'unknown step');
    const node = this.d.model.nodes[this.d.S.node[k]!]!.id;
    return h('a', { href: `#step=${k}`, class: 'step-link', 'data-step': k, onclick: (e: Event) => (e.preventDefault(), this.on.goStep(k)) }, text ?? `#${k} ${node}`);
  }

  private reqLink(req: string): HTMLElement {
    return h('a', { href: '#', class: 'req-link', onclick: (e: Event) => (e.preventDefault(), this.on.filterReq(req)) }, req);
  }

  private section(title: string, ...body: (Node | string | null)[]): HTMLElement {
    return h('section', null, h('h3', null, title), ...body);
  }

  showNothing(): void {
    const m = this.d.model;
    this.root.replaceChildren(
      h('h2', null, 'Nothing selected'),
      h('p', { class: 'muted' }, 'Click a step (a dot), a message (an arrow) or a fault in the diagram. ← and → step through the run; the banner walks through what led to a violation.'),
      this.section(
        'This run',
        h(
          'ul',
          { class: 'facts' },
          h('li', null, `${m.steps.rec.length.toLocaleString()} steps, ${m.msgs.id.length.toLocaleString()} messages, ${m.faults.length} faults, ${m.ops.length} client operations`),
          h('li', null, `time: ${m.meta.clock === 'steps' ? 'explorer steps' : m.meta.clock === 'wall' ? 'wall clock, from the first record' : 'virtual microseconds'}; ends at ${formatTime(m, m.meta.tEnd)}`),
          h('li', null, m.meta.hasStates ? 'node states recorded after every step' : 'no node states in this trace: diffs are not available'),
          m.meta.report && Object.keys(m.meta.report).length ? h('li', null, h('code', null, brief(m.meta.report, 300))) : null,
        ),
      ),
    );
  }

  showStep(k: number): void {
    const d = this.d;
    const S = d.S;
    const node = d.model.nodes[S.node[k]!]!;
    const rec = d.record(S.rec[k]!);
    const input = rec && isObj(rec.input) ? rec.input : null;
    const effects = rec && Array.isArray(rec.effects) ? (rec.effects.filter(isObj) as Record<string, unknown>[]) : [];
    const hasAfter = (S.flags[k]! & SF_STATE) !== 0;
    const prevRec = S.prev[k]! >= 0 ? d.record(S.prev[k]!) : null;
    const hasBefore = prevRec !== null && 'state' in prevRec;
    const before = hasBefore ? prevRec.state : undefined;
    const after = hasAfter && rec ? rec.state : undefined;
    const req = S.req[k]! >= 0 ? d.str(S.req[k]!) : null;
    const op = req ? this.opOf(req) : null;
    const parts: (HTMLElement | null)[] = [];

    parts.push(
      h(
        'div',
        { class: 'panel-head' },
        h('button', { class: 'nav', title: 'previous step (←)', onclick: () => this.on.prev() }, '◀'),
        h('h2', null, `Step #${k}`, h('span', { class: 'role' }, ` ${node.id} (${node.role})`)),
        h('button', { class: 'nav', title: 'next step (→)', onclick: () => this.on.next() }, '▶'),
      ),
      h('div', { class: 'muted' }, `at ${formatTime(d.model, S.t[k]!)}${S.i[k]! >= 0 ? ` · trace step i=${S.i[k]}` : ''}${req ? ' · request ' : ''}`, req ? this.reqLink(req) : null),
    );
    for (const v of d.model.violations) {
      if (v.step !== k) continue;
      parts.push(h('div', { class: 'violation-box' }, h('b', null, `✗ ${v.invariant}`), ` ${v.message}`, v.input !== null ? h('div', null, 'the input it threw on: ', h('code', null, brief(v.input, 300))) : null));
    }
    parts.push(this.section('Input', this.inputView(k, input)));

    const r = d.model.restarts.step.indexOf(k);
    const lostRec = r >= 0 ? d.record(d.model.restarts.lost[r]!) : null;
    const crashed = lostRec && 'state' in lostRec ? lostRec.state : undefined;
    const view: StepView = { node: node.id, role: node.role, input, effects, state: after };
    const sin: SummaryInput = { step: view, before, hasBefore, hasAfter, req, op, ...(crashed !== undefined ? { crashed } : {}) };
    const sections = d.lens?.summarize ? d.lens.summarize(sin) : [];
    for (const s of sections) {
      parts.push(
        this.section(
          s.title,
          h(
            'ul',
            { class: 'summary' },
            s.rows.map((r) => h('li', { class: `tone-${r.tone ?? 'info'}` }, r.text, r.req ? h('span', null, ' ', this.reqLink(r.req)) : null)),
          ),
        ),
      );
    }
    if (crashed !== undefined && hasAfter) {
      parts.push(this.section(`State of ${node.id}: before the crash → after the restart`, this.stateView(crashed, after, true, true, lostRec ? this.recStep(d.model.restarts.lost[r]!) : -1)));
    }
    parts.push(this.section(`State of ${node.id}`, this.stateView(before, after, hasBefore, hasAfter)));
    parts.push(this.section(`Effects (${effects.length})`, this.effectsView(k, effects)));
    parts.push(this.section('Client operations around it', this.opsView(S.t[k]!, req)));
    parts.push(h('details', { class: 'raw' }, h('summary', null, 'trace record'), h('pre', null, pretty(rec))));
    this.root.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
    this.root.scrollTop = 0;
  }

  private opOf(req: string): OpView | null {
    const o = this.d.model.ops.find((x) => x.reqId === req);
    if (!o) return null;
    return { reqId: o.reqId, node: o.node >= 0 ? this.d.model.nodes[o.node]!.id : '?', input: o.input, output: o.output, callT: o.callT, retT: o.retT };
  }

  private inputView(k: number, input: Record<string, unknown> | null): HTMLElement {
    const d = this.d;
    const S = d.S;
    if (!input) return h('p', { class: 'muted' }, 'no input recorded');
    const kind = S.kind[k]!;
    const rows: (HTMLElement | string)[] = [h('div', null, h('b', null, String(input.type)), ' ', d.str(S.label[k]!))];
    const m = S.msg[k]!;
    if (m >= 0) {
      const send = d.model.msgs.send[m]!;
      const from = d.model.nodes[d.model.msgs.from[m]!]!.id;
      const arrows = d.arrowsOfMsg(m);
      const copies = arrows.filter((a) => d.A.kind[a] === AK_DELIVERED || d.A.kind[a] === AK_DUPLICATE).length;
      rows.push(h('div', null, `message #${d.model.msgs.id[m]} from ${from}, sent by `, this.stepLink(send), copies > 1 ? ` · delivered ${copies} times (duplicated)` : ''));
    }
    if (kind === IK_TIMER) {
      const T = d.model.timers;
      const i = T.fire.indexOf(k);
      if (i >= 0 && T.set[i]! >= 0) rows.push(h('div', null, 'armed by ', this.stepLink(T.set[i]!), ` (${formatTime(d.model, S.t[k]! - S.t[T.set[i]!]!)} earlier)`));
    }
    const body = kind === IK_MESSAGE ? input.msg : kind === IK_RESPONSE || input.type === 'client' ? input.body : null;
    if (body !== null && body !== undefined) rows.push(h('pre', { class: 'inline' }, pretty(body)));
    return h('div', null, ...rows);
  }

  /** The step whose record is `rec`, or -1 (a boot record). */
  private recStep(rec: number): number {
    const R = this.d.S.rec;
    let lo = 0;
    let hi = R.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (R[mid]! < rec) lo = mid + 1;
      else hi = mid;
    }
    return lo < R.length && R[lo] === rec ? lo : -1;
  }

  private stateView(before: unknown, after: unknown, hasBefore: boolean, hasAfter: boolean, beforeStep = -2): HTMLElement {
    if (!hasAfter && !hasBefore) return h('p', { class: 'muted' }, 'this trace records no state for this step');
    const out: HTMLElement[] = [];
    if (beforeStep >= 0) out.push(h('div', { class: 'muted' }, 'its last state before the crash was recorded at ', this.stepLink(beforeStep)));
    if (hasBefore && hasAfter) {
      const r = diffJson(before, after);
      if (r.changes.length === 0) out.push(h('p', { class: 'muted unchanged' }, 'unchanged by this step'));
      else {
        out.push(
          h(
            'table',
            { class: 'diff' },
            h('thead', null, h('tr', null, h('th', null, 'path'), h('th', null, 'before'), h('th', null, 'after'))),
            h(
              'tbody',
              null,
              r.changes.map((c) =>
                h(
                  'tr',
                  { class: `diff-${c.kind}` },
                  h('td', { class: 'path' }, c.path || '(whole state)'),
                  h('td', { class: 'before' }, c.kind === 'added' ? '—' : brief(c.before, 160)),
                  h('td', { class: 'after' }, c.kind === 'removed' ? '—' : brief(c.after, 160)),
                ),
              ),
            ),
          ),
        );
        if (r.omitted) out.push(h('p', { class: 'muted' }, `… and ${r.omitted} more change(s)`));
      }
    } else out.push(h('p', { class: 'muted' }, hasAfter ? 'the state before this step is unknown (no earlier state recorded since boot or crash)' : 'the state after this step is not recorded'));
    if (hasBefore) out.push(lazyJson('state before', before));
    if (hasAfter) out.push(lazyJson('state after', after));
    return h('div', null, ...out);
  }

  private effectsView(k: number, effects: Record<string, unknown>[]): HTMLElement {
    if (effects.length === 0) return h('p', { class: 'muted' }, 'none');
    const d = this.d;
    const msgOfEff = new Map<number, number>();
    for (const a of d.arrowsAt(k)) {
      const m = d.A.msg[a]!;
      if (d.model.msgs.send[m] === k) msgOfEff.set(d.model.msgs.eff[m]!, m);
    }
    const T = d.model.timers;
    return h(
      'ol',
      { class: 'effects' },
      effects.map((e, j) => {
        const m = msgOfEff.get(j);
        const fate = m !== undefined ? this.fateOf(m) : null;
        let text: string;
        switch (e.type) {
          case 'send':
            text = `send to ${String(e.to)}: ${d.lens?.label?.(e.msg) ?? brief(e.msg, 90)}`;
            break;
          case 'request':
            text = `request ${String(e.reqId)} to ${String(e.to)}: ${brief(e.body, 90)}`;
            break;
          case 'reply':
            text = `reply to ${String(e.reqId)}: ${brief(e.body, 90)}`;
            break;
          case 'setTimer':
            text = `set timer ${String(e.timer)} in ${String(e.delayUs)} µs`;
            break;
          case 'cancelTimer':
            text = `cancel timer ${String(e.timer)}`;
            break;
          case 'persist':
            text = `persist ${String(e.key)}${e.sync === true ? ' (synced)' : ' (NOT synced)'} = ${brief(e.value, 80)}`;
            break;
          case 'record':
            text = `record ${brief(e.event, 120)}`;
            break;
          case 'fatal':
            text = `FATAL: ${String(e.reason)}`;
            break;
          default:
            text = brief(e, 120);
        }
        let extra: (HTMLElement | string)[] = [];
        if (fate) extra = fate;
        if (e.type === 'setTimer') {
          let fired = -1;
          for (let i = 0; i < T.set.length; i++) if (T.set[i] === k && d.str(T.name[i]!) === e.timer) fired = T.fire[i]!;
          extra = fired >= 0 ? [' → fired at ', this.stepLink(fired)] : [h('span', { class: 'muted' }, ' → cancelled, replaced or still pending')];
        }
        return h('li', { class: `eff eff-${String(e.type)}` }, text, ...extra);
      }),
    );
  }

  /** What became of each copy of a message: delivered where, or lost how. */
  private fateOf(m: number): (HTMLElement | string)[] {
    const d = this.d;
    const out: (HTMLElement | string)[] = [];
    for (const a of d.arrowsOfMsg(m)) {
      const kind = d.A.kind[a]!;
      out.push(' → ');
      if (kind === AK_DELIVERED || kind === AK_DUPLICATE) out.push(kind === AK_DUPLICATE ? 'again at ' : 'delivered at ', this.stepLink(d.A.step[a]!));
      else if (kind === AK_DROPPED) out.push(h('span', { class: 'bad' }, `${d.str(d.A.fate[a]!)} when sent`));
      else if (kind === AK_LOST) out.push(h('span', { class: 'bad' }, `lost (${d.str(d.A.fate[a]!)}) at ${formatTime(d.model, d.A.t1[a]!)}`));
      else if (kind === AK_IN_FLIGHT) out.push(h('span', { class: 'muted' }, 'still in flight at the end'));
      out.push(' ', h('a', { href: '#', class: 'arrow-link', onclick: (e: Event) => (e.preventDefault(), this.on.goArrow(a)) }, '(arrow)'));
    }
    return out;
  }

  /** A Jepsen-style strip of the operations overlapping the selected time. */
  private opsView(t: number, req: string | null): HTMLElement {
    const d = this.d;
    const ops = d.model.ops;
    if (ops.length === 0) return h('p', { class: 'muted' }, 'no client operations in this trace');
    const end = d.model.meta.tEnd;
    const retOf = (o: (typeof ops)[number]) => (o.retT >= 0 ? o.retT : end);
    const overlapping: number[] = [];
    let before = -1;
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i]!;
      if (o.callT <= t && retOf(o) >= t) overlapping.push(i);
      else if (o.callT <= t) before = i;
    }
    const pick = new Set<number>(overlapping);
    for (let i = before, c = 0; i >= 0 && c < OPS_AROUND / 2; i--) if (!pick.has(i) && retOf(ops[i]!) < t) (pick.add(i), c++);
    const firstAfter = ops.findIndex((o) => o.callT > t);
    for (let i = firstAfter, c = 0; i >= 0 && i < ops.length && c < OPS_AROUND / 2; i++, c++) pick.add(i);
    if (req) {
      const i = ops.findIndex((o) => o.reqId === req);
      if (i >= 0) pick.add(i);
    }
    const list = [...pick].sort((a, b) => ops[a]!.callT - ops[b]!.callT);
    if (list.length === 0) return h('p', { class: 'muted' }, 'none near this time');
    const lo = Math.min(t, ...list.map((i) => ops[i]!.callT));
    const hi = Math.max(t, ...list.map((i) => retOf(ops[i]!)));
    const span = Math.max(1e-9, hi - lo);
    const pct = (x: number) => `${(((x - lo) / span) * 100).toFixed(2)}%`;
    const rows = list.map((i) => {
      const o = ops[i]!;
      const mine = o.reqId === req;
      const label = `${o.reqId} ${d.lens?.requestLabel?.(o.input) ?? brief(o.input, 40)} → ${o.retT < 0 ? '(no return)' : (d.lens?.requestLabel?.(o.output) ?? brief(o.output, 40))}`;
      return h(
        'div',
        { class: `op-row${mine ? ' mine' : ''}`, title: `${label}\ncalled ${formatTime(d.model, o.callT)}, ${o.retT < 0 ? 'never returned' : `returned ${formatTime(d.model, o.retT)}`}` },
        h('div', { class: `op-bar${o.retT < 0 ? ' open' : ''}`, style: `left:${pct(o.callT)};width:calc(${pct(retOf(o))} - ${pct(o.callT)} + 2px)` }),
        h('a', { href: '#', class: 'op-label', onclick: (e: Event) => (e.preventDefault(), o.retStep >= 0 ? this.on.goStep(o.retStep) : this.on.goStep(o.callStep)) }, label),
      );
    });
    return h('div', { class: 'ops' }, h('div', { class: 'ops-now', style: `left:${pct(t)}` }), ...rows, h('div', { class: 'muted small' }, `${formatTime(d.model, lo)} … ${formatTime(d.model, hi)}; the line marks this step`));
  }

  showArrow(a: number): void {
    const d = this.d;
    const A = d.A;
    const m = A.msg[a]!;
    const M = d.model.msgs;
    const send = M.send[m]!;
    const rec = send >= 0 ? d.record(d.S.rec[send]!) : null;
    const eff = rec && Array.isArray(rec.effects) ? (rec.effects[M.eff[m]!] as Record<string, unknown> | undefined) : undefined;
    const content = eff ? (eff.msg ?? eff.body) : undefined;
    const kinds = ['delivered', 'delivered again (duplicate)', 'lost on the way', 'dropped when sent', 'still in flight at the end'];
    const req = M.req[m]! >= 0 ? d.str(M.req[m]!) : null;
    this.root.replaceChildren(
      h('h2', null, `Message #${M.id[m]}`),
      h('div', { class: 'muted' }, `${d.model.nodes[M.from[m]!]!.id} → ${M.to[m]! >= 0 ? d.model.nodes[M.to[m]!]!.id : '?'} · ${d.str(M.kind[m]!)}${req ? ' · request ' : ''}`, req ? this.reqLink(req) : null),
      this.section('Content', h('div', null, d.str(M.label[m]!)), content !== undefined ? h('pre', { class: 'inline' }, pretty(content)) : null),
      this.section('Sent', h('div', null, 'by ', this.stepLink(send), send >= 0 ? ` at ${formatTime(d.model, d.S.t[send]!)}` : '')),
      this.section(
        'Copies',
        h(
          'ul',
          null,
          d.arrowsOfMsg(m).map((x) => h('li', { class: x === a ? 'mine' : '' }, kinds[A.kind[x]!] ?? '?', A.fate[x]! >= 0 ? ` (${d.str(A.fate[x]!)})` : '', A.step[x]! >= 0 ? h('span', null, ' at ', this.stepLink(A.step[x]!)) : '')),
        ),
      ),
    );
  }

  showFault(f: number): void {
    const d = this.d;
    const ft = d.model.faults[f]!;
    const parts: HTMLElement[] = [h('h2', null, `Fault: ${ft.kind}`), h('div', { class: 'muted' }, `at ${formatTime(d.model, ft.t)}`), h('p', null, ft.text)];
    if (ft.refused !== null) parts.push(h('p', { class: 'bad' }, `refused by the fault budget: ${ft.refused}`));
    parts.push(h('pre', null, pretty(ft.detail)));
    this.root.replaceChildren(...parts);
  }
}

function pretty(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > JSON_SHOW_MAX ? s.slice(0, JSON_SHOW_MAX) + `\n… (${s.length - JSON_SHOW_MAX} more characters)` : s;
}

/** A collapsed JSON view rendered only when opened. */
function lazyJson(title: string, v: unknown): HTMLElement {
  const pre = h('pre', null);
  const det = h('details', { class: 'json' }, h('summary', null, title), pre);
  det.addEventListener('toggle', () => {
    if (det.open && !pre.textContent) pre.textContent = pretty(v);
  });
  return det;
}
