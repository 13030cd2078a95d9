/**
 * Methodology: `halfmoon suite` is a contract with CI. Its suite files are validated strictly
 * (an unknown key is named, exit 2, before anything runs); the shipped fast subset passes and its
 * JUnit report parses (with an XML parser, not a regex) into one testcase per entry; a broken
 * variant marked expect: pass fails with exit 1 and its testcase names the seed, the invariant,
 * the replay command and the trace path, and the GitHub reporter annotates it with the replay
 * command; a time budget stops the run and reports what ran as incomplete; merged shards give
 * exactly the unsharded summary, and --artifacts writes a shrunk trace and its HTML page.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';
import { readSuiteFile } from '../../app/suite/spec.ts';
import { SYSTEMS } from '../../src/systems/index.ts';
import { loadScenario } from '../../src/scenario/scenario.ts';
import { workloadNames } from '../../src/halfmoon/workloads/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hm-suite-'));
const root = join(import.meta.dirname, '../..');

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), progress: null });
  return { code, out, err };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => n === 'testcase' || n === 'testsuite' });

describe('suite files are validated strictly (exit 2, one line)', () => {
  const cases: [string, string, RegExp][] = [
    ['an unknown entry key', 'name: s\ndescription: x\nentries:\n  - { scenario: register-smoke, seeds: 1..2, expect: pass, seed: 3 }\n', /entries\[0\]: unknown key: 'seed'/],
    ['an unknown top-level key', 'name: s\ndescription: x\nentry: []\n', /\(top level\): unknown key: 'entry'/],
    ['a bad expectation', 'name: s\ndescription: x\nentries:\n  - { scenario: register-smoke, seeds: 1..2, expect: fail }\n', /entries\[0\]\.expect/],
    ['a bad seed range', 'name: s\ndescription: x\nentries:\n  - { scenario: register-smoke, seeds: 5..2, expect: pass }\n', /entries\[0\]\.seeds: '5\.\.2'/],
    ['an unknown scenario', 'name: s\ndescription: x\nentries:\n  - { scenario: nope, seeds: 1..2, expect: pass }\n', /entries\[0\] \(nope\): unknown scenario 'nope'/],
    ['an unknown variant', 'name: s\ndescription: x\nentries:\n  - { scenario: register-smoke, variant: nope, seeds: 1..2, expect: pass }\n', /unknown variant 'nope'/],
    ['an unknown parameter', 'name: s\ndescription: x\nentries:\n  - { scenario: register-smoke, set: { replicaz: 3 }, seeds: 1..2, expect: pass }\n', /params\.replicaz: unknown parameter/],
    ['two entries with one name', 'name: s\ndescription: x\nentries:\n  - { scenario: register-smoke, seeds: 1..2, expect: pass }\n  - { scenario: register-smoke, seeds: 3..4, expect: pass }\n', /entries\[1\]\.name: 'register-smoke' names another entry/],
    ['malformed YAML', 'name: [unclosed\n', /malformed YAML/],
  ];
  it.each(cases)('%s', async (_label, text, re) => {
    const r = await cli('suite', file('bad.yaml', text));
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(re);
  });
  it('bad flags', async () => {
    const f = join(root, 'scenarios/suites/fast.yaml');
    for (const args of [['--shard', '3/2'], ['--time-budget', '-1'], ['--reporter', 'tap'], ['--entry', 'nope'], ['--workers', '0']]) {
      const r = await cli('suite', f, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toHaveLength(1);
    }
    expect((await cli('suite', join(tmp, 'missing.yaml'))).err[0]).toMatch(/cannot read suite file/);
  });
});

describe('the shipped suites', () => {
  it('ci.yaml names every variant of every system, every protocol and every application workload under faults', () => {
    const s = readSuiteFile(join(root, 'scenarios/suites/ci.yaml'));
    for (const sys of Object.values(SYSTEMS)) {
      for (const v of sys.variants) {
        const entries = s.entries.filter((e) => e.system === sys.name && e.variant === v.name);
        expect(entries.length, `${sys.name} ${v.name}`).toBeGreaterThan(0);
        for (const e of entries) if (e.expect === 'pass') expect(e.why, `${v.name} expects pass without saying why`).not.toBeNull();
      }
    }
    for (const p of ['boki', 'hm-read', 'hm-write', 'transitional', 'unsafe', 'adaptive']) expect(s.entries.some((e) => e.protocol === p), p).toBe(true);
    for (const w of ['wf-hotel', 'wf-movie', 'wf-retwis']) {
      expect(s.entries.some((e) => e.scenario === w && e.expect === 'pass' && e.sets.some(([k, v]) => k === 'crashProbability' && (v as number) > 0)), w).toBe(true);
    }
  });

  it('ci.yaml runs every registered workload under function crashes, expecting it to pass', () => {
    const s = readSuiteFile(join(root, 'scenarios/suites/ci.yaml'));
    const underFaults = new Set<string>();
    for (const e of s.entries) {
      if (e.expect !== 'pass' || e.variant !== null) continue;
      const sc = loadScenario(e.scenario);
      if (sc.system !== 'halfmoon') continue;
      const params: Record<string, unknown> = { ...sc.params };
      for (const [k, v] of e.sets) params[k] = v;
      if (typeof params.crashProbability === 'number' && params.crashProbability > 0) underFaults.add(String(params.workload ?? 'rw'));
    }
    expect(workloadNames().length).toBeGreaterThanOrEqual(6);
    for (const w of workloadNames()) expect(underFaults.has(w), w).toBe(true);
  });

  it('fast.yaml passes; the JUnit report parses with one testcase per entry', async () => {
    const xml = join(tmp, 'fast.xml');
    const r = await cli('suite', join(root, 'scenarios/suites/fast.yaml'), '--reporter', 'junit', '--out', xml);
    expect(r.err).toEqual([]);
    expect(r.code, r.out.join('\n')).toBe(0);
    const doc = parser.parse(readFileSync(xml, 'utf8'));
    const cases = doc.testsuites.testsuite[0].testcase as { '@name': string; failure?: unknown }[];
    const suite = readSuiteFile(join(root, 'scenarios/suites/fast.yaml'));
    expect(cases.map((c) => c['@name'])).toEqual(suite.entries.map((e) => e.name));
    expect(cases.filter((c) => c.failure !== undefined)).toEqual([]);
    expect(doc.testsuites['@tests']).toBe(String(suite.entries.length));
    expect(doc.testsuites['@failures']).toBe('0');
  });
});

const broken = `name: broken
description: a broken variant wrongly expected to pass, and an entry that holds
entries:
  - { scenario: register-clock-skew, variant: wallclock-ts, seeds: "1..3", expect: pass }
  - { scenario: register-smoke, seeds: "1..2", expect: pass }
  - { name: escaped, scenario: register-smoke, seeds: "1..2", expect: violation }
`;

describe('a broken variant marked expect: pass', () => {
  it('fails with exit 1; its testcase names the seeds, the invariant, the replay command and the trace path', async () => {
    const f = file('broken.yaml', broken);
    const xml = join(tmp, 'broken.xml');
    const r = await cli('suite', f, '--reporter', 'junit', '--out', xml);
    expect(r.code).toBe(1);
    const doc = parser.parse(readFileSync(xml, 'utf8'));
    const cases = doc.testsuites.testsuite[0].testcase as { '@name': string; failure?: { '#text': string; '@message': string; '@type': string } }[];
    expect(cases).toHaveLength(3);
    const bad = cases[0]!.failure!;
    expect(bad['@type']).toBe('linearizability');
    expect(bad['#text']).toMatch(/failing seeds: 1, 2, 3/);
    expect(bad['#text']).toMatch(/seed 1: linearizability: /);
    expect(bad['#text']).toContain('replay: halfmoon run --scenario register-clock-skew --seed 1 --variant wallclock-ts --trace register-clock-skew_wallclock-ts-seed-1.jsonl');
    expect(bad['#text']).toContain('trace:  register-clock-skew_wallclock-ts-seed-1.jsonl');
    expect(bad['@message']).toContain('replay: halfmoon run --scenario register-clock-skew --seed 1');
    expect(cases[1]!.failure).toBeUndefined();
    expect(cases[2]!.failure!['@type']).toBe('expected-violation');
    expect(cases[2]!.failure!['#text']).toMatch(/expected a violation, but all 2 seeds passed/);
    expect(doc.testsuites['@failures']).toBe('2');
  });

  it('the github reporter annotates it with ::error and the replay command', async () => {
    const r = await cli('suite', file('broken.yaml', broken), '--reporter', 'github');
    expect(r.code).toBe(1);
    const errors = r.out.filter((l) => l.startsWith('::error '));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^::error file=[^,]*broken\.yaml,title=halfmoon suite broken%3A register-clock-skew\/wallclock-ts::/);
    expect(errors[0]).toContain('%0Areplay: halfmoon run --scenario register-clock-skew --seed 1 --variant wallclock-ts');
    expect(r.out.at(-1)).toMatch(/^::notice .*1 met, 2 unmet, 0 incomplete of 3 entries/);
  });

  it('--artifacts writes the shrunk trace and its one-page HTML', async () => {
    const dir = join(tmp, 'artifacts');
    const f = file('one.yaml', 'name: one\ndescription: x\nentries:\n  - { scenario: register-clock-skew, variant: wallclock-ts, seeds: "1..1", expect: pass }\n');
    const r = await cli('suite', f, '--artifacts', dir, '--shrink-runs', '20', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out[0]!);
    const fail = j.summary.entries[0].failures[0];
    expect(fail.trace).toBe(join(dir, 'register-clock-skew_wallclock-ts-seed-1.jsonl'));
    expect(existsSync(fail.trace)).toBe(true);
    const header = JSON.parse(readFileSync(fail.trace, 'utf8').split('\n')[0]!);
    expect(header.type).toBe('header');
    expect(readFileSync(fail.html, 'utf8')).toMatch(/^<!doctype html>/i);
    expect((await cli('replay', fail.trace)).code).toBe(1);
  });
});

describe('time budget and shards', () => {
  it('--time-budget stops honestly: what ran is reported, the rest is incomplete', async () => {
    const f = file('long.yaml', 'name: long\ndescription: x\nentries:\n  - { scenario: register-chaos, seeds: "1..500", expect: pass }\n  - { scenario: register-smoke, seeds: "1..5", expect: pass }\n');
    const r = await cli('suite', f, '--time-budget', '0.5', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.stoppedByBudget).toBe(true);
    expect(j.summary.entries.map((e: { status: string }) => e.status)).toEqual(['incomplete', 'incomplete']);
    expect(j.summary.entries[0].seedsRun).toBeLessThan(500);
    expect(j.summary.entries[0].verdict).toMatch(/of 500 seeds ran \(all passed\) before the time budget/);
    expect(r.err.some((l) => /time budget stopped the run/.test(l))).toBe(true);
  });

  it('merged shards give exactly the unsharded summary (a violation entry stops at the same seed)', { timeout: 600_000 }, async () => {
    const f = file('shards.yaml', `name: shards
description: x
entries:
  - { scenario: register-smoke, seeds: "1..9", expect: pass }
  - { scenario: register-partition, variant: read-one, seeds: "1..8", expect: violation }
  - { scenario: register-clock-skew, variant: wallclock-ts, seeds: "1..4", expect: pass }
`);
    const whole = await cli('suite', f, '--json');
    expect(whole.code).toBe(1);
    const want = JSON.parse(whole.out[0]!).summary;
    for (const n of [2, 3]) {
      const parts: string[] = [];
      for (let k = 1; k <= n; k++) {
        const r = await cli('suite', f, '--shard', `${k}/${n}`, '--json', ...(k === 1 ? ['--workers', '2'] : []));
        parts.push(file(`shard-${k}-of-${n}.json`, r.out[0]!));
      }
      const m = await cli('merge', ...parts, '--json');
      expect(m.code).toBe(1);
      expect(JSON.parse(m.out[0]!).summary).toEqual(want);
      const missing = await cli('merge', ...parts.slice(1));
      expect(missing.code).toBe(2);
      expect(missing.err[0]).toMatch(/shards missing: 1\//);
    }
    expect((await cli('merge', file('junk.json', '{"a":1}'))).err[0]).toMatch(/not a suite result/);
  });
});
