/**
 * Fault injection for the simulator: validating a scenario's scripted faults against the
 * system's nodes, resolving node selectors, applying a scripted fault when its time comes, and the
 * random nemesis (its schedule and one tick). Moved out of simulator.ts as functions over the
 * `FaultHost` interface; every random choice still goes through the run's decision source in the
 * same order, so trace hashes are unchanged. The primitive faults (crash, restart, pause, drift,
 * the fault record and the system's guard) stay on the simulator, which owns the node state.
 */
import { assertNever, InputError } from '../src/core/assert.ts';
import { sampleDist } from './dist.ts';
import { RANDOM_FAULT_KINDS, type RandomFaultKind, type ScriptedFault } from '../src/scenario/scenario.ts';
import { RESTART, UNBLOCK, LINK_CLEAR, NEMESIS, type FaultHost, type SimNode } from './sim-node.ts';

export function validateFaults(sim: FaultHost): void {
  const f = sim.scenario.faults;
  f.scripted.forEach((s, i) => {
    const where = `faults.scripted[${i}]`;
    const check = (sel: string, field: string) => {
      if (sel === '*' || sel.startsWith('role:') || sim.byId.has(sel)) return;
      if (sim.instance.resolveSelector) return; // symbolic selectors are resolved when the fault fires
      throw new InputError(`${where}.${field}: unknown node '${sel}'`);
    };
    if ('node' in s) check(s.node, 'node');
    if (s.kind === 'partition') {
      if (s.mode === 'one-way' && (!s.from || !s.to)) throw new InputError(`${where}: a one-way partition needs 'from' and 'to'`);
      if (s.mode !== 'one-way' && !s.groups) throw new InputError(`${where}: a ${s.mode} partition needs 'groups'`);
      s.groups?.forEach((g, gi) => g.forEach((x, xi) => check(x, `groups[${gi}][${xi}]`)));
      s.from?.forEach((x, xi) => check(x, `from[${xi}]`));
      s.to?.forEach((x, xi) => check(x, `to[${xi}]`));
    }
    if (s.kind === 'linkFault') {
      check(s.from, 'from');
      check(s.to, 'to');
    }
  });
  if (sim.randomFaults) {
    const kinds = Object.entries(sim.randomFaults.kinds).filter(([, w]) => (w ?? 0) > 0);
    if (kinds.length === 0) throw new InputError('faults.random.kinds: give at least one kind a positive weight');
    for (const r of sim.randomFaults.roles ?? []) {
      if (!sim.nodes.some((n) => n.role === r)) throw new InputError(`faults.random.roles: no node has role '${r}'`);
    }
  }
}

/** Resolves a node selector to one node, choosing among candidates through the decision log. */
export function resolveOne(sim: FaultHost, sel: string, label: string, filter: (n: SimNode) => boolean): SimNode | null {
  const direct = sim.byId.get(sel);
  if (direct) return filter(direct) ? direct : null;
  let cands: SimNode[];
  if (sel === '*') cands = sim.nodes.filter((n) => n.faultable && filter(n));
  else if (sel.startsWith('role:')) cands = sim.nodes.filter((n) => n.role === sel.slice(5) && n.faultable && filter(n));
  else {
    const id = sim.instance.resolveSelector?.(sel, sim) ?? null;
    if (id === null) return null;
    const n = sim.byId.get(id);
    return n && filter(n) ? n : null;
  }
  if (cands.length === 0) return null;
  return cands[sim.decisions.int(label, 0, cands.length - 1)]!;
}

export function resolveMany(sim: FaultHost, sels: readonly string[]): SimNode[] {
  const out: SimNode[] = [];
  for (const sel of sels) {
    const direct = sim.byId.get(sel);
    if (direct) out.push(direct);
    else if (sel === '*') out.push(...sim.nodes.filter((n) => !n.driver));
    else if (sel.startsWith('role:')) out.push(...sim.nodes.filter((n) => n.role === sel.slice(5)));
    else {
      const id = sim.instance.resolveSelector?.(sel, sim) ?? null;
      const n = id === null ? undefined : sim.byId.get(id);
      if (n) out.push(n);
    }
  }
  return [...new Set(out)];
}

export function partition(sim: FaultHost, mode: 'symmetric' | 'asymmetric' | 'one-way', groups: SimNode[][], durationUs: number | undefined, label: string): void {
  const pairs: number[] = [];
  const ids = groups.map((g) => g.map((x) => x.id));
  if (!sim.guard({ kind: 'partition', nodes: groups.flat().map((x) => x.id), detail: { mode, groups: ids } })) return;
  if (mode === 'one-way') {
    for (const a of groups[0]!) for (const b of groups[1]!) if (a !== b) pairs.push(a.idx, b.idx);
  } else {
    for (let gi = 0; gi < groups.length; gi++) {
      for (let gj = gi + 1; gj < groups.length; gj++) {
        for (const a of groups[gi]!) {
          for (const b of groups[gj]!) {
            if (a === b) continue;
            if (mode === 'symmetric') pairs.push(a.idx, b.idx, b.idx, a.idx);
            else {
              // Asymmetric: each pair loses one direction or both, chosen per pair.
              const c = sim.decisions.int(label, 0, 2);
              if (c !== 1) pairs.push(a.idx, b.idx);
              if (c !== 0) pairs.push(b.idx, a.idx);
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < pairs.length; i += 2) sim.net.block(pairs[i]!, pairs[i + 1]!);
  sim.recordFault({ kind: 'partition', nodes: groups.flat().map((x) => x.id), detail: { mode, groups: ids } });
  if (durationUs !== undefined) sim.queue.push(sim.nowUs + durationUs, { k: UNBLOCK, pairs });
}

export function applyScripted(sim: FaultHost, f: ScriptedFault, index: number): void {
  const label = `fault:${index}`;
  const up = (x: SimNode) => x.up && !x.halted;
  switch (f.kind) {
    case 'crash': {
      const n = resolveOne(sim, f.node, label, up);
      if (n) sim.crash(n, f.unsyncedLoss ?? sim.scenario.disk.unsyncedLoss);
      return;
    }
    case 'restart': {
      const n = resolveOne(sim, f.node, label, (x) => !x.up && !x.halted);
      if (n) sim.restart(n);
      return;
    }
    case 'crashRestart': {
      const n = resolveOne(sim, f.node, label, up);
      if (n && sim.crash(n, f.unsyncedLoss ?? sim.scenario.disk.unsyncedLoss)) sim.queue.push(sim.nowUs + f.downUs, { k: RESTART, node: n.idx });
      return;
    }
    case 'pause': {
      const n = resolveOne(sim, f.node, label, (x) => up(x) && !x.paused);
      if (n) sim.pause(n, f.durationUs);
      return;
    }
    case 'partition': {
      if (f.mode === 'one-way') return partition(sim, 'one-way', [resolveMany(sim, f.from!), resolveMany(sim, f.to!)], f.durationUs, label);
      const named = f.groups!.map((g) => resolveMany(sim, g));
      const seen = new Set(named.flat());
      const rest = sim.nodes.filter((x) => !x.driver && !seen.has(x));
      if (rest.length) named.push(rest);
      return partition(sim, f.mode, named, f.durationUs, label);
    }
    case 'heal':
      sim.net.healAll();
      return sim.recordFault({ kind: 'heal' });
    case 'clockSkew': {
      const n = resolveOne(sim, f.node, label, () => true);
      if (!n) return;
      n.skewUs += f.skewUs;
      return sim.recordFault({ kind: 'clockSkew', nodes: [n.id], detail: { skewUs: f.skewUs } });
    }
    case 'clockDrift': {
      const n = resolveOne(sim, f.node, label, () => true);
      if (!n) return;
      sim.setDrift(n, f.ppm);
      return sim.recordFault({ kind: 'clockDrift', nodes: [n.id], detail: { ppm: f.ppm } });
    }
    case 'linkFault': {
      const from = resolveMany(sim, [f.from]);
      const to = resolveMany(sim, [f.to]);
      const lf = { drop: f.drop ?? 0, duplicate: f.duplicate ?? 0, reorder: f.reorder ?? 0, delayUs: f.delayUs ?? 0 };
      const pairs: number[] = [];
      for (const a of from) for (const b of to) if (a !== b) pairs.push(a.idx, b.idx);
      if (!sim.guard({ kind: 'linkFault', nodes: [...from, ...to].map((x) => x.id), detail: lf })) return;
      for (let i = 0; i < pairs.length; i += 2) sim.net.setLinkFault(pairs[i]!, pairs[i + 1]!, lf);
      sim.recordFault({ kind: 'linkFault', nodes: [...new Set([...from, ...to])].map((x) => x.id), detail: lf });
      if (f.durationUs !== undefined) sim.queue.push(sim.nowUs + f.durationUs, { k: LINK_CLEAR, pairs });
      return;
    }
    case 'linkHeal':
      sim.net.clearLinkFaults();
      return sim.recordFault({ kind: 'linkHeal' });
    default:
      assertNever(f, 'scripted fault');
  }
}

export function scheduleNemesis(sim: FaultHost, from: number): void {
  const r = sim.randomFaults!;
  const gap = Math.max(1, Math.round(-r.meanIntervalUs * Math.log(1 - sim.decisions.float('nemesis:gap'))));
  if (from + gap < r.endUs) sim.queue.push(from + gap, { k: NEMESIS });
}

export function nemesisTick(sim: FaultHost): void {
  const r = sim.randomFaults!;
  const d = sim.decisions;
  const kinds = RANDOM_FAULT_KINDS.filter((k) => (r.kinds[k] ?? 0) > 0);
  const total = kinds.reduce((s, k) => s + r.kinds[k]!, 0);
  let x = d.float('nemesis:kind') * total;
  let kind: RandomFaultKind = kinds[kinds.length - 1]!;
  for (const k of kinds) {
    x -= r.kinds[k]!;
    if (x < 0) {
      kind = k;
      break;
    }
  }
  const roles = r.roles;
  const eligible = sim.nodes.filter((n) => n.faultable && (!roles || roles.includes(n.role)));
  const running = eligible.filter((n) => n.up && !n.halted && !n.paused);
  const duration = sampleDist(r.duration, d.float('nemesis:duration'));
  const pick = (c: SimNode[]) => (c.length ? c[d.int('nemesis:target', 0, c.length - 1)]! : null);
  const unsyncedLoss = sim.scenario.disk.unsyncedLoss;
  switch (kind) {
    case 'crash':
    case 'crashRestart': {
      if (sim.down >= r.maxDown) break;
      const n = pick(running);
      if (n && sim.crash(n, unsyncedLoss) && kind === 'crashRestart') sim.queue.push(sim.nowUs + duration, { k: RESTART, node: n.idx });
      break;
    }
    case 'pause': {
      if (sim.down >= r.maxDown) break;
      const n = pick(running);
      if (n) sim.pause(n, duration);
      break;
    }
    case 'partition': {
      const all = sim.nodes.filter((n) => !n.driver);
      if (all.length < 2) break;
      // Split into two sides: a random cut of a random order (FoundationDB-style).
      const order = all.map((n) => ({ n, key: d.u32('nemesis:shuffle') })).sort((a, b) => a.key - b.key || a.n.idx - b.n.idx);
      const cut = d.int('nemesis:cut', 1, all.length - 1);
      const modes = ['symmetric', 'asymmetric', 'one-way'] as const;
      const mode = modes[d.int('nemesis:mode', 0, 2)]!;
      partition(sim, mode, [order.slice(0, cut).map((o) => o.n), order.slice(cut).map((o) => o.n)], duration, 'nemesis:asym');
      break;
    }
    case 'linkFault': {
      const a = pick(eligible);
      const b = pick(sim.nodes.filter((n) => n !== a && !n.driver));
      if (!a || !b) break;
      const lf = {
        drop: d.bool('nemesis:lf:drop', 0.5) ? r.linkDrop : 0,
        duplicate: d.bool('nemesis:lf:dup', 0.5) ? r.linkDuplicate : 0,
        reorder: d.bool('nemesis:lf:reorder', 0.5) ? r.linkReorder : 0,
        delayUs: d.bool('nemesis:lf:delay', 0.5) ? d.int('nemesis:lf:delayUs', 0, 50_000) : 0,
      };
      if (!sim.guard({ kind: 'linkFault', nodes: [a.id, b.id], detail: lf })) break;
      sim.net.setLinkFault(a.idx, b.idx, lf);
      sim.recordFault({ kind: 'linkFault', nodes: [a.id, b.id], detail: lf });
      sim.queue.push(sim.nowUs + duration, { k: LINK_CLEAR, pairs: [a.idx, b.idx] });
      break;
    }
    case 'clockSkew': {
      const n = pick(eligible);
      if (!n) break;
      const s = d.int('nemesis:skew', -r.clockSkewMaxUs, r.clockSkewMaxUs);
      n.skewUs += s;
      sim.recordFault({ kind: 'clockSkew', nodes: [n.id], detail: { skewUs: s } });
      break;
    }
    case 'clockDrift': {
      const n = pick(eligible);
      if (!n) break;
      const ppm = (d.float('nemesis:drift') * 2 - 1) * r.clockDriftPpmMax;
      sim.setDrift(n, ppm);
      sim.recordFault({ kind: 'clockDrift', nodes: [n.id], detail: { ppm } });
      break;
    }
    default:
      assertNever(kind, 'random fault kind');
  }
  scheduleNemesis(sim, sim.nowUs);
}
