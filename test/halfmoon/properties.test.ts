/**
 * Methodology: property tests over generated workflow programs. fast-check generates a few
 * requests, each a program of reads, writes and sync or async invokes of sub-programs over two
 * tables and two keys (so conflicts, callee/caller interplay and the (a,b)/(b,a) key pair are
 * common), plus a fault mix: function-crash probability, client timeout (short timeouts create
 * concurrent duplicate executions), node crashes, the number of function nodes and the
 * concurrency, and the simulation seed. Every canonical protocol must be exactly-once on every
 * case; the negative control and every artifact variant must be refuted, and the shrunk
 * counterexample must replay from fast-check's seed and path. `fc.statistics` checks that the
 * generator reaches the interesting cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProgOp } from '../../src/halfmoon/workloads/program.ts';
import { runOnce } from '../../sim/run.ts';

const CASES = Number(process.env.HALFMOON_PROPERTY_CASES ?? 1000);

const table = fc.constantFrom('a', 'b');
const key = fc.constantFrom('a', 'b');
const read = fc.record({ r: key, t: table });
const write = fc.record({ w: key, t: table });
const leaf = fc.oneof(read, write);
const call = fc.record({ call: fc.array(leaf, { minLength: 1, maxLength: 2 }), async: fc.boolean() });
const program = fc.array(fc.oneof({ weight: 2, arbitrary: leaf }, { weight: 1, arbitrary: call }), { minLength: 1, maxLength: 4 });

/** Gives every write a value unique in the run, so the final state names its writer. */
function label(programs: unknown[][]): ProgOp[][] {
  let n = 0;
  const fix = (ops: unknown[]): ProgOp[] =>
    ops.map((o) => {
      const op = o as Record<string, unknown>;
      if ('call' in op) return { call: fix(op.call as unknown[]), async: op.async as boolean };
      if ('w' in op) return { w: op.w as string, t: op.t as string, v: `v${n++}` };
      return op as ProgOp;
    });
  return programs.map(fix);
}

export const scenarioArb = fc.record({
  programs: fc.array(program, { minLength: 1, maxLength: 3 }).map(label),
  crashProbability: fc.constantFrom(0, 0, 0.05, 0.2),
  timeoutUs: fc.constantFrom(3000, 60_000),
  nodeCrashes: fc.boolean(),
  engines: fc.integer({ min: 1, max: 3 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  seed: fc.nat(1_000_000),
});

type Case = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function run(protocol: string, c: Case, variant: string | null = null, extra: [string, unknown][] = []) {
  return runOnce({
    scenario: 'wf-storm-ref',
    seed: c.seed,
    variant,
    sets: [
      ['protocol', protocol],
      ['programs', c.programs],
      ['requests', c.programs.length],
      ['concurrency', c.concurrency],
      ['engines', c.engines],
      ['keys', 1],
      ['crashProbability', c.crashProbability],
      ['crashUntilUs', 2_000_000],
      ['timeoutUs', c.timeoutUs],
      ['recoveryAfterUs', 300_000],
      ['recoveryIntervalUs', 100_000],
      ['limits.simulatedTimeUs', 60_000_000],
      ['livenessBoundUs', 30_000_000],
      ...(c.nodeCrashes ? [] : ([['faults.random', null]] as [string, unknown][])),
      ...extra,
    ],
  });
}

const holds = (protocol: string, variant: string | null = null, extra: [string, unknown][] = []) =>
  fc.property(scenarioArb, (c) => {
    const r = run(protocol, c, variant, extra);
    return r.violations.length === 0;
  });

describe('canonical protocols are exactly-once on generated programs', () => {
  it('reaches the interesting cases', () => {
    const seen = { invoke: 0, asyncInvoke: 0, crashes: 0, duplicates: 0, conflict: 0 };
    fc.assert(
      fc.property(scenarioArb, (c) => {
        const flat = JSON.stringify(c.programs);
        if (flat.includes('"call"')) seen.invoke++;
        if (flat.includes('"async":true')) seen.asyncInvoke++;
        if (c.crashProbability > 0 || c.nodeCrashes) seen.crashes++;
        if (c.timeoutUs < 10_000) seen.duplicates++;
        if (c.programs.length > 1) seen.conflict++;
      }),
      { numRuns: 500, seed: 1 },
    );
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(50);
  });

  it.each(['boki', 'hm-read', 'hm-write', 'transitional'])(`%s holds on ${CASES} cases`, (protocol) => {
    fc.assert(holds(protocol), { numRuns: CASES, seed: 20261123 });
  });
});

interface Refutation {
  readonly name: string;
  readonly protocol: string;
  readonly variant: string | null;
  readonly extra?: [string, unknown][];
}

const refutations: Refutation[] = [
  { name: 'unsafe (negative control)', protocol: 'unsafe', variant: null },
  { name: 'hmw-version-tie', protocol: 'hm-write', variant: 'hmw-version-tie' },
  { name: 'hmr-caller-misses-callee-writes', protocol: 'hm-read', variant: 'hmr-caller-misses-callee-writes' },
  { name: 'hmw-caller-write-dropped', protocol: 'hm-write', variant: 'hmw-caller-write-dropped' },
  { name: 'keytag-xor-symmetric', protocol: 'hm-read', variant: 'keytag-xor-symmetric' },
  { name: 'version-float64', protocol: 'hm-write', variant: 'version-float64', extra: [['seqBase', '1152921504606846976']] },
  { name: 'eventual-store-reads', protocol: 'hm-write', variant: 'eventual-store-reads', extra: [['storeGetUs', 100], ['storePutUs', 100]] },
  { name: 'step-hash-collision-fatal', protocol: 'hm-write', variant: 'step-hash-collision-fatal' },
  { name: 'invoke-result-unwrapped', protocol: 'hm-write', variant: 'invoke-result-unwrapped' },
  { name: 'advisory-exit', protocol: 'hm-write', variant: 'advisory-exit' },
  { name: 'done-plain-append', protocol: 'hm-write', variant: 'done-plain-append' },
  { name: 'random-top-level-id', protocol: 'hm-write', variant: 'random-top-level-id' },
  { name: 'postread-untyped', protocol: 'hm-write', variant: 'postread-untyped' },
];

describe('refuted with a shrunk counterexample that replays', () => {
  it.each(refutations)('$name', (r) => {
    const prop = holds(r.protocol, r.variant, r.extra ?? []);
    const out = fc.check(prop, { numRuns: 2000, seed: 7 });
    expect(out.failed, `${r.name} was never refuted in ${out.numRuns} cases`).toBe(true);
    const cex = out.counterexample![0] as Case;
    // The shrunk case is small: at most three requests of at most four operations each.
    expect(cex.programs.length).toBeLessThanOrEqual(3);
    // It replays from fast-check's seed and path, and directly.
    expect(() => fc.assert(prop, { seed: out.seed, path: out.counterexamplePath!, endOnFailure: true })).toThrow();
    expect(run(r.protocol, cex, r.variant, r.extra ?? []).violations.length).toBeGreaterThan(0);
  });
});
