/**
 * The view model against real simulator runs: every figure it derives (message copies delivered,
 * dropped, lost, duplicated; timers; client operations) is checked against the simulator's own
 * counts in the trace's end record, violations are attributed to the step the simulator names,
 * and the same run rewritten as an explorer counterexample (no ids, no states, step indices as
 * time) and as a real-runtime recording (wall clock, skewed per node, out of order) still yields
 * the same messages and operations. A linearizability failure is anchored to the operations its
 * message names.
 */
import { describe, expect, it } from 'vitest';
import { loadTrace } from '../../app/viewer/load.ts';
import { AF_DUPLICATED, AK_DELIVERED, AK_DROPPED, AK_DUPLICATE, AK_IN_FLIGHT, AK_LOST, buildModel, IK_RESTART, mentionedRequests, SF_VIOLATION, type ViewModel } from '../../app/viewer/model.ts';
import { lensFor } from '../../app/viewer/systems/index.ts';
import { asExplorerTrace, asRealTrace, CRASH_FAILURE, PARTITION_FAILURE, records, simTrace, writeRecords } from './fixtures.ts';

function count(m: ViewModel, kind: number): number {
  return m.arrows.kind.filter((k) => k === kind).length;
}

describe('view model of simulator traces', () => {
  for (const [scenario, seed] of [
    ['register-chaos', 3],
    ['register-duplicate', 2],
    ['register-restart', 5],
  ] as const) {
    it(`${scenario} seed ${seed}: message fates match the simulator's counts`, async () => {
      const { path, result } = simTrace(scenario, seed);
      const m = (await loadTrace(path)).model;
      const f = result.faults;
      expect(m.steps.rec.length).toBe(result.events);
      expect(m.meta.traceHash).toBe(result.traceHash);
      expect(count(m, AK_DROPPED)).toBe((f.drop ?? 0) + (f.partitioned ?? 0));
      expect(count(m, AK_LOST)).toBe((f.lostToDownNode ?? 0) + (f.lostInFlight ?? 0));
      expect(m.arrows.flags.filter((x, a) => x & AF_DUPLICATED && m.arrows.msg.indexOf(m.arrows.msg[a]!) === a).length).toBe(f.duplicate ?? 0);
      // A run that went quiescent has nothing in flight; one that stopped when the workload was
      // done may leave copies on the way (a duplicate nobody waits for).
      if (result.outcome === 'quiescent') expect(count(m, AK_IN_FLIGHT)).toBe(0);
      m.arrows.kind.forEach((k, a) => {
        if (k === AK_IN_FLIGHT) expect(m.arrows.t1[a]).toBe(m.meta.tEnd);
      });
      // Every delivering step is the end of exactly one arrow.
      const delivering = m.steps.msg.filter((x) => x >= 0).length;
      expect(count(m, AK_DELIVERED) + count(m, AK_DUPLICATE)).toBe(delivering);
      // Every message has an arrow, and every arrow starts at its message's sending step.
      const withArrow = new Set(m.arrows.msg);
      expect(withArrow.size).toBe(m.msgs.id.length);
      m.arrows.msg.forEach((msg, a) => {
        expect(m.arrows.p0[a]).toBe(m.msgs.send[msg]);
        if (m.arrows.step[a]! >= 0) expect(m.arrows.step[a]).toBeGreaterThan(m.msgs.send[msg]!);
      });
      // Every timer that fired was armed by an earlier step of the same node.
      m.timers.fire.forEach((k, i) => {
        const set = m.timers.set[i]!;
        expect(set).toBeGreaterThanOrEqual(0);
        expect(set).toBeLessThan(k);
        expect(m.steps.node[set]).toBe(m.steps.node[k]);
      });
      const report = result.report.register as { operations: number; completed: number };
      expect(m.ops.length).toBe(report.operations);
      expect(m.ops.filter((o) => o.retT >= 0).length).toBe(report.completed);
      for (const o of m.ops) {
        expect(m.strings[m.steps.label[o.callStep]!]).toBe('timer next:' + o.reqId.slice(1, o.reqId.indexOf('#')));
        if (o.retStep >= 0) expect(m.steps.req[o.retStep]).toBe(m.strings.indexOf(o.reqId));
      }
      expect(m.violations).toEqual([]);
      expect(m.warnings).toEqual([]);
    });
  }

  it('attributes a step-anchored violation to the step the simulator names, with its causal past', async () => {
    const { path, result } = simTrace(CRASH_FAILURE.scenario, CRASH_FAILURE.seed, CRASH_FAILURE.variant);
    const m = (await loadTrace(path)).model;
    expect(result.violations).toHaveLength(1);
    const sv = result.violations[0]!;
    const [v] = m.violations;
    expect(v!.invariant).toBe(sv.invariant);
    expect(m.steps.i[v!.step]).toBe(sv.eventIndex! - 1);
    expect(m.nodes[m.steps.node[v!.step]!]!.id).toBe(sv.node);
    expect(m.steps.flags[v!.step]! & SF_VIOLATION).toBeTruthy();
    expect(v!.focus).toBe(v!.step);
    // The lead-up is the step's causal past: ordered, ending at the step, within the cap.
    expect(v!.lead.at(-1)).toBe(v!.step);
    expect(v!.lead.length).toBeGreaterThan(1);
    expect(v!.lead.length).toBeLessThanOrEqual(40);
    expect([...v!.lead].sort((a, b) => a - b)).toEqual(v!.lead);
    // The node restarted: the model remembers the state it had before the crash.
    expect(m.steps.kind[v!.step]).toBe(IK_RESTART);
    const r = m.restarts.step.indexOf(v!.step);
    expect(r).toBeGreaterThanOrEqual(0);
    const lost = records(path)[m.restarts.lost[r]!]!;
    expect(lost.node).toBe(sv.node);
    expect((lost.state as { ts: { n: number } }).ts.n).toBeGreaterThan(0);
    expect(m.lanes.node.length).toBeGreaterThan(0); // the crash drew a down interval
  });

  it('anchors a history-level violation to the operations its message names', async () => {
    const { path } = simTrace(PARTITION_FAILURE.scenario, PARTITION_FAILURE.seed, PARTITION_FAILURE.variant);
    const m = (await loadTrace(path)).model;
    const [v] = m.violations;
    expect(v!.invariant).toBe('linearizability');
    expect(v!.step).toBe(-1);
    expect(v!.reqs.length).toBeGreaterThanOrEqual(3);
    const op = m.ops.find((o) => o.reqId === v!.reqs[0])!;
    // It opens on the step where the operation's node answered it.
    expect(v!.focus).toBe(m.msgs.send[m.steps.msg[op.retStep]!]);
    expect(m.nodes[m.steps.node[v!.focus]!]!.id).toBe(m.nodes[op.node]!.id);
    expect(v!.lead).toContain(v!.focus);
    // The register lens found a stale read: R saw W1's value though W2 overwrote it in between.
    expect(v!.explanation).toMatch(/^stale read: /);
    const [r, w2, w1] = v!.reqs.map((id) => m.ops.find((o) => o.reqId === id)!);
    expect((r!.input as { op: string }).op).toBe('read');
    expect((w2!.input as { op: string }).op).toBe('write');
    expect(w2!.retT).toBeLessThan(r!.callT);
    expect((r!.output as { value: string }).value).toBe((w1!.input as { value: string }).value);
    expect(w1!.retT).toBeLessThan(w2!.callT);
    // The lead-up holds steps of the named operations only, on every node they touched.
    const reqIdx = new Set(v!.reqs.map((r) => m.strings.indexOf(r)));
    for (const k of v!.lead) expect(reqIdx.has(m.steps.req[k]!)).toBe(true);
    const nodes = new Set(v!.lead.map((k) => m.nodes[m.steps.node[k]!]!.role));
    expect([...nodes].sort()).toEqual(['client', 'driver', 'replica']);
    expect(m.partitions.p0.length).toBeGreaterThan(0);
  });

  it('tags the register quorum messages with the client request they serve', async () => {
    const { path } = simTrace('register-chaos', 3);
    const m = (await loadTrace(path)).model;
    const tagged = m.steps.req.filter((r) => r >= 0).length;
    expect(tagged / m.steps.req.length).toBeGreaterThan(0.95);
    // A get and its acknowledgement carry the same request as the client step that sent the get.
    const get = m.msgs.kind.findIndex((k, i) => m.strings[k] === 'get' && m.msgs.req[i]! >= 0);
    const client = m.msgs.send[get]!;
    expect(m.msgs.req[get]).toBe(m.steps.req[client]);
  });
});

describe('view model of traces from other sources', () => {
  it('pairs messages by content in an explorer counterexample without ids, states or net records', async () => {
    const { path } = simTrace('register-duplicate', 2);
    const sim = (await loadTrace(path)).model;
    const ex = (await loadTrace(writeRecords('explore.jsonl', asExplorerTrace(records(path))))).model;
    expect(ex.meta.source).toBe('explore');
    expect(ex.meta.timeUnit).toBe('step');
    expect(ex.meta.msgIdMode).toBe('content');
    expect(ex.meta.hasStates).toBe(false);
    expect(ex.steps.rec.length).toBe(sim.steps.rec.length);
    expect(ex.steps.t.every((t, k) => t === k)).toBe(true);
    // Without fates, a copy that was never delivered is in flight; every delivery is still paired.
    expect(count(ex, AK_DELIVERED) + count(ex, AK_DUPLICATE)).toBe(count(sim, AK_DELIVERED) + count(sim, AK_DUPLICATE));
    expect(ex.steps.msg.filter((x) => x >= 0).length).toBe(sim.steps.msg.filter((x) => x >= 0).length);
    ex.arrows.msg.forEach((msg, a) => {
      if (ex.arrows.step[a]! >= 0) {
        expect(ex.arrows.step[a]).toBeGreaterThan(ex.msgs.send[msg]!);
        expect(ex.strings[ex.msgs.label[msg]!]).toBe(ex.strings[ex.steps.label[ex.arrows.step[a]!]!]);
      }
    });
    expect(ex.ops.length).toBe(sim.ops.length);
  });

  it('reads a real-runtime recording: wall-clock times, out of order across nodes', async () => {
    const { path } = simTrace('register-chaos', 3);
    const sim = (await loadTrace(path)).model;
    const real = (await loadTrace(writeRecords('real.jsonl', asRealTrace(records(path))))).model;
    expect(real.meta.clock).toBe('wall');
    expect(real.meta.t0).toBeGreaterThan(1e15);
    expect(real.steps.t[0]).toBeGreaterThanOrEqual(0);
    expect(real.meta.tEnd).toBeLessThan(1e8);
    for (let k = 1; k < real.steps.t.length; k++) expect(real.steps.t[k]).toBeGreaterThanOrEqual(real.steps.t[k - 1]!);
    expect(real.warnings.join(' ')).toMatch(/not in time order/);
    expect(real.msgs.id.length).toBe(sim.msgs.id.length);
    expect(count(real, AK_DELIVERED)).toBe(count(sim, AK_DELIVERED));
    expect(real.ops.length).toBe(sim.ops.length);
    for (const o of real.ops) if (o.callStep >= 0) expect(real.nodes[real.steps.node[o.callStep]!]!.id).toBe('driver');
  });

  it('survives records with missing fields and unknown record types', async () => {
    const recs: Record<string, unknown>[] = [
      { type: 'header', format: 'halfmoon-trace', version: 1 },
      { type: 'step', node: 'a' },
      { type: 'step', node: 'b', input: { type: 'message', from: 'a', msg: 'hello' }, effects: 'not a list' },
      { type: 'step' },
      { type: 'wobble', t: 3 },
      { type: 'net', fate: 'drop', from: 'a', to: 'z' },
      { type: 'fault', kind: 'crash', nodes: ['b', 7] },
      { type: 'violation', invariant: 'x', message: 'broken', node: 'b', eventIndex: 'nine' },
    ];
    const m = buildModel(recs, 'odd.jsonl', null);
    expect(m.nodes.map((n) => n.id)).toEqual(['a', 'b', 'z']);
    expect(m.steps.rec.length).toBe(2);
    expect(m.netMarks).toHaveLength(1);
    expect(m.violations[0]!.step).toBe(1);
    expect(m.warnings.join(' ')).toMatch(/without a node/);
    expect(m.meta.outcome).toBe('violation');
  });
});

describe('mentioned requests', () => {
  it('finds request ids inside a checker message, in order, without trailing punctuation', async () => {
    const known = new Set(['c2#0', 'c0#25', 'c1#3']);
    expect(mentionedRequests('no linearization: c2#0 by c2 cannot be placed (ended at c0#25.) c2#0 again', known)).toEqual(['c2#0', 'c0#25']);
    expect(mentionedRequests('nothing here: c9#9', known)).toEqual([]);
  });

  it('the register lens exists and the generic view needs none', async () => {
    expect(lensFor('register')?.system).toBe('register');
    expect(lensFor('no-such-system')).toBeNull();
  });
});
