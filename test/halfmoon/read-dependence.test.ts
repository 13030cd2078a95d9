/**
 * Methodology (issue 15, item 9): a checker can only judge a wrong read if the read leaves a
 * trace. Generated programs and the rw microbenchmark are read-modify-write: the value a write
 * stores, and the function's output, change with the value read before it (shown on the pure
 * functions, with the runtime's own replay interface). The exactly-once checker's read judgement
 * is two-sided: an HM-R read is failed both when a newer version at or below its cursor existed
 * (stale) and when its witness lies above its cursor (a read from the future). The deliberate bug
 * hmr-read-past-cursor (reads drop the cursor bound) is caught failure-free by that direction
 * alone, on seeds the canonical protocol passes.
 */
import { describe, expect, it } from 'vitest';
import { runFunction, type UserOp } from '../../src/halfmoon/program.ts';
import type { Json } from '../../src/halfmoon/records.ts';
import { rwWorkload } from '../../src/halfmoon/workloads/basic.ts';
import { digest, programWorkload, randomProgram } from '../../src/halfmoon/workloads/program.ts';
import { runOnce } from '../../sim/run.ts';

/** Runs fn to completion, answering each read with `readValue` (writes and invokes with null). */
function drive(fn: (typeof programWorkload.functions)[string], input: Json, readValue: Json): { writes: Json[]; output: Json } {
  const ops: UserOp[] = [];
  const results: Json[] = [];
  for (let i = 0; i < 100; i++) {
    const r = runFunction(fn, input, ops, results);
    if (r.status === 'done') return { writes: ops.filter((o) => o.kind === 'write').map((o) => (o as { value: Json }).value), output: r.output };
    if (r.status === 'error') throw new Error(r.error);
    ops.push(r.op);
    results.push(r.op.kind === 'read' ? readValue : null);
  }
  throw new Error('did not finish');
}

describe('writes depend on reads', () => {
  it('generated programs: every write is read-modify-write; the value and the output carry the read', () => {
    let n = 0;
    const rand = () => (n = (n * 1103515245 + 12345) >>> 0);
    const prog = randomProgram({ opsPerRequest: 20, keys: 3 }, 'q0', rand, 0);
    const writes = prog.filter((o) => 'w' in o);
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect((w as { rmw?: boolean }).rmw).toBe(true);
    const input = { ops: [{ r: 'k0' }, { w: 'k1', v: 'x', rmw: true }] } as unknown as Json;
    const a = drive(programWorkload.functions.prog!, input, 'init:k0');
    const b = drive(programWorkload.functions.prog!, input, 'q7.1<00000000');
    expect(a.writes).toEqual([`x<${digest('init:k0')}`]);
    expect(b.writes).not.toEqual(a.writes);
    expect(a.output).toEqual(['init:k0', `x<${digest('init:k0')}`]);
    // Fixed programs without rmw write their literal value, as the variant and explorer fixtures expect.
    expect(drive(programWorkload.functions.prog!, { ops: [{ r: 'k0' }, { w: 'k1', v: 'x' }] } as unknown as Json, 'init:k0').writes).toEqual(['x']);
  });

  it('rw: the written values and the output change with the values read', () => {
    const input = { reads: ['k1', 'k2'], writes: ['k3'], tag: 'q1', bytes: 32 } as unknown as Json;
    const a = drive(rwWorkload.functions.rw!, input, 'v1');
    const b = drive(rwWorkload.functions.rw!, input, 'v2');
    expect(a.writes).not.toEqual(b.writes);
    expect(a.output).not.toEqual(b.output);
    expect(String(a.writes[0])).toContain(digest(['v1', 'v1']));
  });
});

describe('the HM-R read judgement is two-sided', () => {
  const sets: [string, unknown][] = [['protocol', 'hm-read'], ['crashProbability', 0], ['faults.random', null]];
  it('hmr-read-past-cursor is caught failure-free by C6-read-past-cursor alone; the canonical protocol passes', () => {
    const caught = new Set<string>();
    for (let seed = 1; seed <= 2; seed++) {
      const ok = runOnce({ scenario: 'wf-storm-ref', seed, sets });
      expect(ok.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
      const bad = runOnce({ scenario: 'wf-storm-ref', seed, sets, variant: 'hmr-read-past-cursor' });
      for (const v of bad.violations) caught.add(v.invariant);
    }
    expect([...caught]).toEqual(['C6-read-past-cursor']);
  });
});
