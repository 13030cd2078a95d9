/**
 * The Halfmoon lens on a real workflow run (wf-singleop, six requests): log and store messages are
 * labelled with their operation and record, every engine step is attributed to the workflow
 * request it serves (from the runtime's own history records), and the summary of an engine step
 * names the execution's instance, step and cursor and the log records it appended or read, as the
 * viewer's details panel shows them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ViewModel } from '../../app/viewer/model.ts';
import { isObj, type StepView } from '../../app/viewer/lens.ts';
import { loadTrace } from '../../app/viewer/load.ts';
import { lensFor } from '../../app/viewer/systems/index.ts';
import { records, tmp } from './fixtures.ts';
import { join } from 'node:path';
import { runOnce } from '../../sim/run.ts';

describe('halfmoon lens', () => {
  const path = join(tmp, 'wf-singleop.jsonl');
  const result = runOnce({ scenario: 'wf-singleop', seed: 1, sets: [['requests', 6]], tracePath: path });
  let m: ViewModel;
  beforeAll(async () => {
    m = (await loadTrace(path)).model;
  });
  const recs = records(path);
  const lens = lensFor('halfmoon')!;

  it('labels log and store traffic with operations and records', () => {
    expect(result.violations).toEqual([]);
    const labels = new Set(m.msgs.label.map((l) => m.strings[l]!));
    expect([...labels].some((l) => /^condAppend Intent r:q\d+#0$/.test(l))).toBe(true);
    expect([...labels].some((l) => /^APPEND_OK @0x[0-9a-f]+$/.test(l))).toBe(true);
    expect([...labels].some((l) => /^store get t\/k\d+@BASE$/.test(l))).toBe(true);
  });

  it('attributes every engine step that moved an execution to its workflow request', () => {
    const requests = new Set(m.ops.map((o) => o.reqId));
    expect(requests.size).toBe(6);
    for (let k = 0; k < m.steps.rec.length; k++) {
      const r = recs[m.steps.rec[k]!]!;
      const ev = (r.effects as Record<string, unknown>[]).find((e) => e.type === 'record' && isObj(e.event) && typeof e.event.requestId === 'string');
      if (!ev) continue;
      const want = (ev.event as { requestId: string }).requestId;
      expect(m.strings[m.steps.req[k]!]).toBe(want);
      expect(requests.has(want)).toBe(true);
    }
  });

  it('summarises an engine step: the execution, its step and cursor, the log records', () => {
    const k = m.steps.rec.findIndex((rec) => {
      const r = recs[rec]!;
      return (r.effects as Record<string, unknown>[]).some((e) => isObj(e.event) && e.event.ev === 'logOp' && e.event.op === 'condAppend');
    });
    expect(k).toBeGreaterThanOrEqual(0);
    const r = recs[m.steps.rec[k]!]!;
    const before = recs[m.steps.prev[k]!]!.state;
    const node = m.nodes[m.steps.node[k]!]!;
    const step: StepView = { node: node.id, role: node.role, input: r.input as Record<string, unknown>, effects: r.effects as Record<string, unknown>[], state: r.state };
    const sections = lens.summarize!({ step, before, hasBefore: true, hasAfter: true, req: m.strings[m.steps.req[k]!]!, op: null });
    const text = sections.flatMap((s) => s.rows.map((row) => `${s.title}: ${row.text}`)).join('\n');
    expect(text).toMatch(/workflow events: log condAppend → APPEND_OK at 0x[0-9a-f]+: Intent r:q\d+#0/);
    expect(text).toMatch(/executions: r:q\d+ \(singleop, HMW\): stage \w+, step \d+, cursor 0x[0-9a-f]+/);
  });
});
