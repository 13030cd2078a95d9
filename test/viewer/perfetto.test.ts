/**
 * The Perfetto export and the trace-event validator. The validator is trusted only because each of
 * its rules is shown rejecting a deliberately broken trace (missing fields per phase, bad ts, B/E
 * that do not nest, X slices that overlap, flows without a start or an end or outside any slice,
 * async slices left open, bad metadata); then exports of simulator runs (passing and failing), an
 * explorer counterexample, a real-runtime recording and a synthetic run of 20,000 steps must all
 * validate, and the mapping is checked against the model: a thread per node, a slice per step, a
 * flow per delivered copy, instants for faults and violations, async slices per operation.
 */
import { describe, expect, it } from 'vitest';
import { loadTrace } from '../../app/viewer/load.ts';
import { AK_DELIVERED, AK_DUPLICATE, buildModel } from '../../app/viewer/model.ts';
import { toPerfetto, type TraceEvent } from '../../app/viewer/perfetto.ts';
import { syntheticTraceLines } from '../../app/viewer/synthetic.ts';
import { validateTraceEvents } from '../../app/viewer/trace-event-format.ts';
import { asExplorerTrace, asRealTrace, CRASH_FAILURE, PARTITION_FAILURE, records, simTrace, writeRecords } from './fixtures.ts';

const M = (ev: Record<string, unknown>[]) => ({ traceEvents: ev, displayTimeUnit: 'ns' });
const X = (ts: number, dur: number, tid = 1, name = 'x') => ({ ph: 'X', name, ts, dur, pid: 1, tid });

describe('trace-event validator', () => {
  it('accepts a small well-formed trace using every phase', async () => {
    const ok = M([
      { ph: 'M', name: 'process_name', pid: 1, args: { name: 'p' } },
      { ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: { name: 't1' } },
      { ph: 'M', name: 'thread_sort_index', pid: 1, tid: 1, args: { sort_index: 0 } },
      { ph: 'B', name: 'outer', ts: 0, pid: 1, tid: 1 },
      X(1, 2),
      { ph: 's', name: 'm', cat: 'msg', id: 1, ts: 1.5, pid: 1, tid: 1 },
      { ph: 'E', ts: 10, pid: 1, tid: 1 },
      X(4, 2, 2),
      { ph: 'f', name: 'm', cat: 'msg', id: 1, bp: 'e', ts: 5, pid: 1, tid: 2 },
      { ph: 'i', name: 'crash', s: 't', ts: 3, pid: 1, tid: 2 },
      { ph: 'I', name: 'heal', s: 'g', ts: 3, pid: 1 },
      { ph: 'C', name: 'inflight', ts: 2, pid: 1, args: { value: 3 } },
      { ph: 'b', name: 'op', cat: 'op', id: 'op1', ts: 0, pid: 1, tid: 1 },
      { ph: 'n', name: 'op', cat: 'op', id: 'op1', ts: 1, pid: 1, tid: 1 },
      { ph: 'e', name: 'op', cat: 'op', id: 'op1', ts: 9, pid: 1, tid: 1 },
    ]);
    expect(validateTraceEvents(ok)).toEqual([]);
    expect(validateTraceEvents([X(0, 1)])).toEqual([]); // the bare-array form
  });

  const broken: [string, unknown, RegExp][] = [
    ['not a trace', { events: [] }, /traceEvents/],
    ['unknown phase', M([{ ph: 'Q', name: 'x', ts: 0, pid: 1 }]), /unknown or unsupported phase/],
    ['missing name', M([{ ph: 'X', ts: 0, dur: 1, pid: 1, tid: 1 }]), /"name" must be a string/],
    ['missing pid', M([{ ph: 'X', name: 'x', ts: 0, dur: 1, tid: 1 }]), /"pid"/],
    ['missing tid on a thread slice', M([{ ph: 'X', name: 'x', ts: 0, dur: 1, pid: 1 }]), /"tid"/],
    ['ts as a string', M([{ ph: 'X', name: 'x', ts: '5', dur: 1, pid: 1, tid: 1 }]), /"ts" must be a finite/],
    ['negative ts', M([{ ph: 'i', name: 'x', ts: -1, pid: 1, tid: 1 }]), /"ts" must be a finite/],
    ['X without dur', M([{ ph: 'X', name: 'x', ts: 0, pid: 1, tid: 1 }]), /needs a finite, non-negative "dur"/],
    ['bad instant scope', M([{ ph: 'i', name: 'x', ts: 0, pid: 1, tid: 1, s: 'q' }]), /scope/],
    ['counter without numbers', M([{ ph: 'C', name: 'c', ts: 0, pid: 1, args: { v: 'lots' } }]), /must be a number/],
    ['E without B', M([{ ph: 'E', ts: 1, pid: 1, tid: 1 }]), /none is open/],
    ['B never ended', M([{ ph: 'B', name: 'a', ts: 1, pid: 1, tid: 1 }]), /never ended/],
    [
      'B/E crossing',
      M([
        { ph: 'B', name: 'a', ts: 0, pid: 1, tid: 1 },
        { ph: 'B', name: 'b', ts: 1, pid: 1, tid: 1 },
        { ph: 'E', name: 'a', ts: 2, pid: 1, tid: 1 },
        { ph: 'E', name: 'b', ts: 3, pid: 1, tid: 1 },
      ]),
      /do not nest/,
    ],
    ['X slices overlapping', M([X(0, 5), X(3, 5)]), /overlaps/],
    ['X overlapping a B/E slice', M([{ ph: 'B', name: 'a', ts: 0, pid: 1, tid: 1 }, { ph: 'E', name: 'a', ts: 4, pid: 1, tid: 1 }, X(3, 5)]), /overlaps/],
    ['flow without id', M([X(0, 2), { ph: 's', name: 'm', cat: 'msg', ts: 1, pid: 1, tid: 1 }]), /needs an "id"/],
    ['flow without cat', M([X(0, 2), { ph: 's', name: 'm', id: 1, ts: 1, pid: 1, tid: 1 }]), /needs a "cat"/],
    ['flow end without start', M([X(0, 2), { ph: 'f', name: 'm', cat: 'msg', id: 1, bp: 'e', ts: 1, pid: 1, tid: 1 }]), /without a start/],
    ['flow never ends', M([X(0, 2), { ph: 's', name: 'm', cat: 'msg', id: 1, ts: 1, pid: 1, tid: 1 }]), /never ends/],
    [
      'flow ids differing by name do not match',
      M([X(0, 2), X(5, 2, 2), { ph: 's', name: 'm', cat: 'msg', id: 1, ts: 1, pid: 1, tid: 1 }, { ph: 'f', name: 'other', cat: 'msg', id: 1, bp: 'e', ts: 6, pid: 1, tid: 2 }]),
      /without a start/,
    ],
    [
      'flow end before its start',
      M([X(0, 2), X(5, 2, 2), { ph: 's', name: 'm', cat: 'msg', id: 1, ts: 6, pid: 1, tid: 2 }, { ph: 'f', name: 'm', cat: 'msg', id: 1, bp: 'e', ts: 1, pid: 1, tid: 1 }]),
      /without a start/,
    ],
    ['flow start outside every slice', M([X(0, 2), X(5, 2, 2), { ph: 's', name: 'm', cat: 'msg', id: 1, ts: 3, pid: 1, tid: 1 }, { ph: 'f', name: 'm', cat: 'msg', id: 1, bp: 'e', ts: 6, pid: 1, tid: 2 }]), /not inside any slice/],
    ['flow id that is no number', M([X(0, 2), { ph: 's', name: 'm', cat: 'msg', id: 'zz-top', ts: 1, pid: 1, tid: 1 }]), /needs an "id"/],
    ['async slice left open', M([{ ph: 'b', name: 'op', cat: 'op', id: 'a', ts: 0, pid: 1 }]), /never ended/],
    ['async end without begin', M([{ ph: 'e', name: 'op', cat: 'op', id: 'a', ts: 0, pid: 1 }]), /not open/],
    ['unknown metadata', M([{ ph: 'M', name: 'thread_colour', pid: 1, tid: 1, args: {} }]), /unknown metadata/],
    ['thread_name without a name', M([{ ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: {} }]), /args.name/],
    ['a thread named twice', M([{ ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: { name: 'a' } }, { ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: { name: 'b' } }]), /named twice/],
    ['bad displayTimeUnit', { traceEvents: [], displayTimeUnit: 'us' }, /displayTimeUnit/],
  ];
  for (const [what, doc, re] of broken) {
    it(`rejects ${what}`, async () => {
      const problems = validateTraceEvents(doc);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.join('\n')).toMatch(re);
    });
  }
});

async function exportOf(path: string) {
  const trace = await loadTrace(path);
  const doc = JSON.parse(JSON.stringify(toPerfetto(trace.model))) as { traceEvents: TraceEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> };
  return { model: trace.model, doc };
}

describe('Perfetto export', () => {
  const runs: [string, number, string | null][] = [
    ['register-chaos', 3, null],
    ['register-pause', 2, null],
    ['register-clock-drift', 1, null],
    [CRASH_FAILURE.scenario, CRASH_FAILURE.seed, CRASH_FAILURE.variant],
    [PARTITION_FAILURE.scenario, PARTITION_FAILURE.seed, PARTITION_FAILURE.variant],
  ];
  for (const [scenario, seed, variant] of runs) {
    it(`${scenario}${variant ? ` (${variant})` : ''} seed ${seed} validates and maps the model`, async () => {
      const { path } = simTrace(scenario, seed, variant);
      const { model: m, doc } = await exportOf(path);
      expect(validateTraceEvents(doc)).toEqual([]);
      expect(doc.displayTimeUnit).toBe('ns');
      const ev = doc.traceEvents;
      const threads = ev.filter((e) => e.ph === 'M' && e.name === 'thread_name');
      expect(threads.map((e) => e.tid)).toEqual(m.nodes.map((_, i) => i + 1));
      expect(ev.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.pid)).toEqual([1]);
      expect(ev.every((e) => e.pid === 1)).toBe(true);
      const slices = ev.filter((e) => e.ph === 'X');
      expect(slices).toHaveLength(m.steps.rec.length);
      slices.forEach((e) => expect(e.tid).toBe(m.steps.node[(e.args as { step: number }).step]! + 1));
      const delivered = m.arrows.kind.filter((k) => k === AK_DELIVERED || k === AK_DUPLICATE).length;
      expect(ev.filter((e) => e.ph === 's' && e.cat === 'msg')).toHaveLength(delivered);
      expect(ev.filter((e) => e.ph === 'f' && e.cat === 'msg')).toHaveLength(delivered);
      const faultInstants = ev.filter((e) => e.cat === 'fault');
      expect(faultInstants.length).toBeGreaterThanOrEqual(m.faults.length);
      expect(ev.filter((e) => e.cat === 'violation')).toHaveLength(m.violations.length);
      expect(ev.filter((e) => e.ph === 'b' && e.cat === 'op')).toHaveLength(m.ops.length);
      expect(ev.filter((e) => e.ph === 'C').length).toBeGreaterThan(0);
      // Timestamps are microseconds: the last slice starts within the run's simulated time.
      const lastX = slices.at(-1)!;
      expect(lastX.ts!).toBeLessThanOrEqual(m.meta.tEnd + 1);
      expect(lastX.ts!).toBeGreaterThanOrEqual(m.steps.t.at(-1)!);
      // Events are sorted by time after the metadata.
      const timed = ev.filter((e) => e.ph !== 'M');
      for (let i = 1; i < timed.length; i++) expect(timed[i]!.ts!).toBeGreaterThanOrEqual(timed[i - 1]!.ts!);
    });
  }

  it('validates for an explorer counterexample and a real-runtime recording', async () => {
    const { path } = simTrace(CRASH_FAILURE.scenario, CRASH_FAILURE.seed, CRASH_FAILURE.variant);
    const ex = await exportOf(writeRecords('explore-export.jsonl', asExplorerTrace(records(path))));
    expect(validateTraceEvents(ex.doc)).toEqual([]);
    expect(String(ex.doc.otherData.timeUnit)).toMatch(/explorer steps/);
    const real = await exportOf(writeRecords('real-export.jsonl', asRealTrace(records(path))));
    expect(validateTraceEvents(real.doc)).toEqual([]);
    expect(String(real.doc.otherData.timeUnit)).toMatch(/wall-clock/);
  });

  it('validates for a synthetic run of 20,000 steps', async () => {
    const lines = syntheticTraceLines({ steps: 20_000, states: false });
    const m = buildModel(
      lines.map((l) => JSON.parse(l) as Record<string, unknown>),
      'synthetic.jsonl',
      null,
    );
    const doc = JSON.parse(JSON.stringify(toPerfetto(m)));
    expect(validateTraceEvents(doc)).toEqual([]);
  });
});
