/**
 * Methodology: the compact trace format (version 2) must lose nothing. For a set of scenarios and
 * seeds we run the simulator with an extra observer invariant that, after every step, records a
 * canonical digest of the state the trace is meant to hold (the machine's trace view at level
 * 'states', the whole state at level 'full'), straight from the simulator; then we stream the
 * written trace back and demand, step by step, the same digest from the reconstructed state.
 * Windows, gzip, random access from the middle (what the viewer does) and bad or old files are
 * checked the same way. The encoder is also property-tested on random values against toDisplay.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDisplay } from '../../src/core/json.ts';
import type { SystemInstance } from '../../src/core/system.ts';
import { buildInstance, resolveScenario } from '../../src/scenario/instance.ts';
import { Simulator } from '../../sim/simulator.ts';
import { FileTraceSink, readTraceRecords, type TraceLevel } from '../../sim/trace.ts';
import { TraceDecoder, TraceEncoder } from '../../sim/trace-codec.ts';
import { loadTrace } from '../../app/viewer/load.ts';

const bin = join(import.meta.dirname, '../../bin/halfmoon.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'hm-tf-'));

/** JSON with sorted keys: equal values, equal text. */
function canon(v: unknown): string {
  if (typeof v !== 'object' || v === null) return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${Array.from(v, canon).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canon(o[k])}`)
    .join(',')}}`;
}

/**
 * A 32-bit hash of a value's display form (`toDisplay`), computed from the raw value without
 * building the display copy: the cheap oracle for large states (a canonical string of every state
 * of every step is too slow for Boki). Object entries combine commutatively (key order is not
 * part of the value), arrays in order. `raw`: apply toDisplay's depth limit (a decoded state is
 * already in display form and is hashed as it is).
 */
const strHashes = new Map<string, number>();
function strH(s: string): number {
  let h = strHashes.get(s);
  if (h !== undefined) return h;
  h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = fin(h ^ s.length);
  if (strHashes.size > 1 << 20) strHashes.clear();
  strHashes.set(s, h);
  return h;
}
function fin(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
const NULL_H = 0x1234567;
function listH(xs: Iterable<unknown>, depth: number, raw: boolean): number {
  let h = 0x51ed27;
  let n = 0;
  for (const x of xs) {
    h = Math.imul(h ^ displayHash(x, depth + 1, raw), 0x9e3779b1) + 0x632be5ab;
    n++;
  }
  return fin(h ^ n ^ 0xa11);
}
function entryH(k: string, vh: number): number {
  return fin(Math.imul(strH(k), 0x2c1b3c6d) ^ vh);
}
function displayHash(v: unknown, depth = 0, raw = true): number {
  if (raw && depth > 64) return strH('…');
  switch (typeof v) {
    case 'bigint':
      return strH('0x' + BigInt.asUintN(64, v).toString(16).padStart(16, '0'));
    case 'undefined':
      return NULL_H;
    case 'string':
      return strH(v);
    case 'number':
      return fin(Math.imul(Object.is(v, -0) ? 0 : v | 0, 0x27d4eb2d) ^ strH(String(v)));
    case 'boolean':
      return v ? 0x7777 : 0x3333;
    case 'function':
      return strH('<function>');
    case 'object': {
      if (v === null) return NULL_H;
      if (Array.isArray(v) || v instanceof Set) return listH(v, depth, raw);
      if (ArrayBuffer.isView(v)) return strH(`<${v.byteLength} bytes>`);
      let sum = 0;
      let n = 0;
      if (v instanceof Map) {
        for (const k of v.keys()) if (typeof k !== 'string') return listH(Array.from(v, ([a, b]) => [a, b]), depth, raw);
        for (const [k, x] of v) {
          sum = (sum + entryH(k as string, displayHash(x, depth + 1, raw))) | 0;
          n++;
        }
      } else {
        for (const k of Object.keys(v)) {
          sum = (sum + entryH(k, displayHash((v as Record<string, unknown>)[k], depth + 1, raw))) | 0;
          n++;
        }
      }
      return fin(sum ^ Math.imul(n, 0x165667b1) ^ 0x0b7);
    }
    default:
      return 0;
  }
}

interface Run {
  readonly file: string;
  readonly expected: Map<number, string>;
  readonly events: number;
  readonly traceHash: string;
}

/** What the oracle records per step: the canonical display text, or only its hash (large states). */
type Oracle = 'text' | 'hash';

function record(scenario: string, seed: number, level: TraceLevel, file: string, window: number | null = null, sets: [string, unknown][] = [], oracle: Oracle = 'text'): Run {
  const s = resolveScenario({ scenario, sets });
  const built = buildInstance(s);
  const expected = new Map<number, string>();
  const instance: SystemInstance = {
    ...built,
    invariants: [
      ...built.invariants,
      {
        name: 'observer',
        afterStep(world, node) {
          const n = built.nodes.find((x) => x.id === node)!;
          const st = world.state(node);
          const shown = level === 'states' && n.machine.traceView ? n.machine.traceView(st) : st;
          expected.set(world.eventIndex - 1, oracle === 'text' ? canon(toDisplay(shown)) : String(displayHash(shown)));
          return null;
        },
      },
    ],
  };
  const sim = new Simulator({ scenario: s, instance, seed, trace: new FileTraceSink(file, { window }), traceLevel: level, recordDecisions: true });
  const r = sim.run();
  return { file, expected, events: r.events, traceHash: r.traceHash };
}

async function check(run: Run, from = 0, oracle: Oracle = 'text'): Promise<number> {
  let seen = 0;
  let bad: string | null = null;
  await readTraceRecords(run.file, (rec) => {
    if (rec.type !== 'step') return;
    const i = rec.i as number;
    if (oracle === 'text') expect(canon(rec.state), `step ${i} of ${run.file}`).toBe(run.expected.get(i));
    else if (bad === null && String(displayHash(rec.state, 0, false)) !== run.expected.get(i)) bad = `step ${i} (${String(rec.node)}) of ${run.file}: the decoded state's hash differs from the live state's`;
    seen++;
  });
  expect(bad).toBeNull();
  expect(seen).toBe(run.events - from);
  return seen;
}

describe('compact traces (format version 2)', () => {
  it('reconstruct every state of every step exactly, for a set of scenarios and seeds', async () => {
    const cases: [string, number, TraceLevel][] = [
      ['register-chaos', 1, 'states'],
      ['register-chaos', 2, 'full'],
      ['register-crash', 3, 'full'],
      ['register-partition', 4, 'states'],
    ];
    for (const [scenario, seed, level] of cases) {
      const run = record(scenario, seed, level, join(tmp, `${scenario}-${seed}-${level}.jsonl${seed % 2 ? '.gz' : ''}`));
      expect(run.events).toBeGreaterThan(50);
      await check(run);
    }
  }, 480_000);

  it('reconstruct every state of every step of Boki and Halfmoon runs (hash oracle), for a set of seeds', async () => {
    const cases: [string, number, TraceLevel, [string, unknown][]][] = [
      ['wf-crash-storm', 1, 'states', [['protocol', 'unsafe']]],
      ['wf-crash-storm', 2, 'full', [['protocol', 'unsafe']]],
      // Boki's states grow with the run (the log): a shorter workload under the same nemesis.
      ['log-chaos', 1, 'states', [['durationMs', 1000]]],
      ['log-chaos', 2, 'full', [['durationMs', 400]]],
    ];
    for (const [scenario, seed, level, sets] of cases) {
      const run = record(scenario, seed, level, join(tmp, `${scenario}-${seed}-${level}.jsonl${seed % 2 ? '.gz' : ''}`), null, sets, 'hash');
      expect(run.events).toBeGreaterThan(5000);
      await check(run, 0, 'hash');
    }
  }, 600_000);

  it('the hash oracle tells states apart: it differs for the values that display differently', () => {
    const vals: unknown[] = [null, 0, 1, -1, 1.5, '', '0', 'a', true, false, 2n, [], [null], [1, 2], [2, 1], {}, { a: 1 }, { a: 2 }, { b: 1 }, { a: 1, b: 2 }, new Map([[1, 'a']]), new Map([[2, 'a']]), new Set([2, 3]), '0x0000000000000003', { x: [] }, { x: {} }];
    const hs = vals.map((v) => displayHash(v));
    expect(new Set(hs).size).toBe(vals.length);
    // Values with the same display form hash alike, raw or decoded, in any key order.
    expect(displayHash(new Map([['b', 2n], ['a', undefined]]))).toBe(displayHash({ a: null, b: '0x0000000000000002' }, 0, false));
    expect(displayHash(new Set(['x']))).toBe(displayHash(['x'], 0, false));
    expect(displayHash(new Map([[1, 'a']]))).toBe(displayHash([[1, 'a']], 0, false));
  });

  it('does not change the run: the trace hash is the same with and without a trace', () => {
    const plain = new Simulator({ scenario: resolveScenario({ scenario: 'register-chaos' }), instance: buildInstance(resolveScenario({ scenario: 'register-chaos' })), seed: 3 }).run();
    for (const level of ['events', 'states', 'full'] as const) {
      const traced = record('register-chaos', 3, level, join(tmp, `same-${level}.jsonl`));
      expect(traced.traceHash).toBe(plain.traceHash);
      expect(traced.events).toBe(plain.events);
    }
  });

  it('keeps a window of the last steps, starting from snapshots, and loses nothing in it', async () => {
    const run = record('register-chaos', 5, 'full', join(tmp, 'window.jsonl'), 300);
    expect(run.events).toBeGreaterThan(300);
    await check(run, run.events - 300);
  });

  it('decodes any range from the middle as the viewer server does', async () => {
    const run = record('register-chaos', 4, 'full', join(tmp, 'pages.jsonl.gz'));
    const t = await loadTrace(run.file);
    const n = t.index.records;
    for (const a of [1, 77, Math.floor(n / 2), n - 300]) {
      for (const rec of t.records(a, a + 300)) if (rec.type === 'step') expect(canon(rec.state)).toBe(run.expected.get(rec.i as number));
    }
  });

  it('encodes any value so that decoding gives its display form back (property, replayable seed)', () => {
    const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 80 }), fc.boolean(), fc.constant(null), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constant(undefined));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('$ref', '$o', '$x')), tie('value'), { maxKeys: 4 }),
        fc.array(fc.tuple(fc.string({ maxLength: 3 }), tie('value')), { maxLength: 4 }).map((e) => new Map(e)),
        fc.array(fc.tuple(fc.integer(), tie('value')), { maxLength: 4 }).map((e) => new Map(e)),
        fc.array(leaf, { maxLength: 4 }).map((e) => new Set(e)),
      ),
    }));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 6 }), (states) => {
        const lines: Record<string, unknown>[] = [];
        const enc = new TraceEncoder((r) => lines.push(JSON.parse(JSON.stringify(r)) as Record<string, unknown>), 3);
        states.forEach((s, i) => enc.encode({ type: 'step', i, node: 'n', input: { type: 'timer', timer: 't', payload: s }, effects: [], state: s }));
        const dec = new TraceDecoder();
        const out = lines.map((l) => dec.feed(l)).filter((r) => r !== null);
        expect(out.length).toBe(states.length);
        out.forEach((r, i) => {
          expect(canon(r!.state)).toBe(canon(toDisplay(states[i])));
          expect(canon((r!.input as Record<string, unknown>).payload)).toBe(canon(toDisplay(states[i])));
        });
      }),
      { seed: 17, numRuns: 300 },
    );
  });

  it('encodes a state updated in place, holding objects of its inputs, change by change (property, replayable seed)', () => {
    // Machines update their state in place and keep objects they received (immutable by
    // contract): the encoder walks the containers and trusts only the received objects.
    const leaf = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', ''), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt({ min: 0n, max: 3n }));
    const payload = fc.oneof(leaf, fc.dictionary(fc.constantFrom('x', 'y', '$z'), leaf, { maxKeys: 3 }), fc.array(leaf, { maxLength: 3 }));
    const key = fc.constantFrom('k0', 'k1', 'k2', 'k3', '$r');
    const cmd = fc.oneof(
      fc.record({ op: fc.constant('oset' as const), k: key, v: payload, received: fc.boolean() }),
      fc.record({ op: fc.constant('odel' as const), k: key }),
      fc.record({ op: fc.constant('apush' as const), v: payload, received: fc.boolean() }),
      fc.record({ op: fc.constant('aset' as const), i: fc.nat(4), v: payload, received: fc.boolean() }),
      fc.record({ op: fc.constant('ashift' as const) }),
      fc.record({ op: fc.constant('apop' as const) }),
      fc.record({ op: fc.constant('mset' as const), k: key, v: payload, received: fc.boolean() }),
      fc.record({ op: fc.constant('mdel' as const), k: key }),
      fc.record({ op: fc.constant('pset' as const), k: fc.oneof(fc.nat(3), key), v: leaf }),
      fc.record({ op: fc.constant('pdel' as const), k: fc.oneof(fc.nat(3), key) }),
      fc.record({ op: fc.constant('sadd' as const), v: leaf }),
      fc.record({ op: fc.constant('sdel' as const), v: leaf }),
      fc.record({ op: fc.constant('nested' as const), k: key, v: leaf }),
      fc.record({ op: fc.constant('swap' as const) }),
      // A slot set back to a value it held before (0 -> 1 -> 0): only a shadow kept up to date
      // at every step writes the second change. A flip toggles one slot per container: 0, 1, 0, ...
      // Weighted so that most runs set some slot back (counted in `reached`, asserted below).
      { arbitrary: fc.record({ op: fc.constant('flip' as const), where: fc.constantFrom('o', 'a', 'm', 'n') }), weight: 12 },
    );
    let runs = 0;
    let reached = 0;
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 40, size: 'max' }), fc.integer({ min: 2, max: 64 }), (cmds, every) => {
        runs++;
        const flips = new Map<string, number>();
        let back = false;
        const st: { o: Record<string, unknown>; a: unknown[]; m: Map<string, unknown>; p: Map<unknown, unknown>; s: Set<unknown>; n: Record<string, unknown> } = { o: {}, a: [], m: new Map(), p: new Map(), s: new Set(), n: {} };
        const lines: Record<string, unknown>[] = [];
        const enc = new TraceEncoder((r) => lines.push(JSON.parse(JSON.stringify(r)) as Record<string, unknown>), every);
        const expected: string[] = [];
        // A received value is fresh and goes into the input first; a made one only into the state.
        const value = (v: unknown, received: boolean, i: number): unknown => {
          const x = typeof v === 'object' && v !== null ? structuredClone(v) : v;
          return received ? { via: 'input', i, x } : x;
        };
        cmds.forEach((c, i) => {
          let got: unknown = null;
          switch (c.op) {
            case 'oset':
              got = value(c.v, c.received, i);
              st.o[c.k] = got;
              break;
            case 'odel':
              delete st.o[c.k];
              break;
            case 'apush':
              got = value(c.v, c.received, i);
              st.a.push(got);
              break;
            case 'aset':
              if (c.i <= st.a.length) st.a[c.i] = got = value(c.v, c.received, i);
              break;
            case 'ashift':
              st.a.shift();
              break;
            case 'apop':
              st.a.pop();
              break;
            case 'mset':
              got = value(c.v, c.received, i);
              st.m.set(c.k, got);
              break;
            case 'mdel':
              st.m.delete(c.k);
              break;
            case 'pset':
              st.p.set(c.k, c.v);
              break;
            case 'pdel':
              st.p.delete(c.k);
              break;
            case 'sadd':
              st.s.add(c.v);
              break;
            case 'sdel':
              st.s.delete(c.v);
              break;
            case 'nested':
              st.n[c.k] = c.v; // a container the state owns, changed in place
              break;
            case 'swap':
              st.n = { ...st.n }; // a new container with the same entries
              break;
            case 'flip': {
              if (c.where === 'a' && st.a.length === 0) break; // no slot to flip
              const n = (flips.get(c.where) ?? 0) + 1;
              flips.set(c.where, n);
              if (n >= 3) back = true; // 0, 1, 0: set back to a value held before
              const v = n % 2;
              if (c.where === 'o') st.o.f = v;
              else if (c.where === 'n') st.n.f = v;
              else if (c.where === 'm') st.m.set('f', v);
              else st.a[0] = v;
              break;
            }
          }
          enc.encode({ type: 'step', i, node: 'n', input: { type: 'message', from: 'x', msg: got }, effects: [], state: st });
          expected.push(canon(toDisplay(st)));
        });
        const dec = new TraceDecoder();
        const out = lines.map((l) => dec.feed(l)).filter((r) => r !== null);
        expect(out.length).toBe(cmds.length);
        out.forEach((r, i) => expect(canon(r!.state), `after command ${i} (${cmds[i]!.op})`).toBe(expected[i]));
        if (back) reached++;
      }),
      { seed: 23, numRuns: 400 },
    );
    // The generator must reach the case it is weighted for, in most runs, or the property is idle.
    expect(reached, `${reached} of ${runs} runs set a slot back`).toBeGreaterThan(runs / 2);
  });

  it('refuses bad and old traces with one line and exit code 2', () => {
    const run = (file: string) => {
      try {
        execFileSync('node', [bin, 'replay', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return { code: 0, err: '' };
      } catch (e) {
        const x = e as { status: number; stderr: string };
        return { code: x.status, err: x.stderr };
      }
    };
    const old = join(tmp, 'old.jsonl');
    writeFileSync(old, JSON.stringify({ type: 'header', format: 'halfmoon-trace', version: 1, source: 'sim', replay: 'halfmoon run --scenario register-smoke --seed 1' }) + '\n');
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, JSON.stringify({ type: 'header', format: 'halfmoon-trace', version: 2, source: 'sim' }) + '\n' + JSON.stringify({ type: 'step', i: 0, node: 'a', input: {}, effects: [], d: [[0, ['x'], 1]] }) + '\n');
    const gz = join(tmp, 'bad.gz');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
    for (const [file, msg] of [
      [old, /trace version 1 is not supported \(this build reads version 2\); record it again with: halfmoon run --scenario register-smoke --seed 1 --trace <file>/],
      [bad, /bad\.jsonl:2: a state change for a with no earlier state/],
      [gz, /bad\.gz: not a valid gzip file/],
      [join(tmp, 'missing.jsonl'), /cannot read trace file \(ENOENT\)/],
    ] as const) {
      const r = run(file);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(msg);
    }
  });
});
