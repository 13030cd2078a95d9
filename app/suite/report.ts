/**
 * Suite reports: JUnit XML (one testcase per entry, built with xmlbuilder2), GitHub Actions
 * workflow commands (::error with the replay command), JSON and a human table. Each takes the
 * same summary, so every reporter says the same thing.
 */
import { create } from 'xmlbuilder2';
import type { EntrySummary, SuiteSummary } from './run.ts';

/** Characters XML 1.0 cannot carry, even escaped. */
const clean = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '?');

export function failureText(e: EntrySummary): string {
  const lines = [e.verdict];
  if (e.failingSeeds.length > 0) lines.push(`failing seeds: ${e.failingSeeds.join(', ')}`);
  for (const f of e.failures) {
    lines.push(`seed ${f.seed}: ${f.invariant}: ${f.message}`);
    lines.push(`  replay: ${f.replay}`);
    lines.push(`  trace:  ${f.trace}${f.html ? ` (page: ${f.html})` : ''}`);
  }
  if (e.expect === 'violation' && e.status === 'unmet') lines.push(`replay a seed: halfmoon run --scenario ${e.scenario} --seed ${e.seedRange.split('..')[0]}${e.variant ? ` --variant ${e.variant}` : ''}`);
  return lines.join('\n');
}

export function junitXml(s: SuiteSummary, wallMsByEntry: ReadonlyMap<string, number>): string {
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const totalMs = [...wallMsByEntry.values()].reduce((a, b) => a + b, 0);
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', {
    name: `halfmoon suite ${s.suite}`,
    tests: String(s.entries.length),
    failures: String(s.unmet),
    errors: '0',
    skipped: String(s.incomplete),
    time: secs(totalMs),
  });
  const suite = root.ele('testsuite', { name: s.suite, tests: String(s.entries.length), failures: String(s.unmet), errors: '0', skipped: String(s.incomplete), time: secs(totalMs) });
  suite.ele('properties').ele('property', { name: 'traceHash', value: s.traceHash }).up().ele('property', { name: 'seedsRun', value: String(s.seedsRun) });
  for (const e of s.entries) {
    const tc = suite.ele('testcase', { name: e.name, classname: `halfmoon.${e.system}.${e.scenario.replace(/[^A-Za-z0-9-]/g, '_')}`, time: secs(wallMsByEntry.get(e.name) ?? 0) });
    if (e.status === 'unmet') {
      const first = e.failures[0];
      const message = first ? `${e.verdict}; replay: ${first.replay}` : e.verdict;
      tc.ele('failure', { message: clean(message), type: first?.invariant ?? 'expected-violation' }).txt(clean(failureText(e)));
    } else if (e.status === 'incomplete') {
      tc.ele('skipped', { message: clean(e.verdict) });
    }
    tc.ele('system-out').txt(clean(`${e.verdict}\nseeds ${e.seedRange}, ran ${e.seedsRun}, trace hash ${e.traceHash}${e.why ? `\nwhy: ${e.why}` : ''}${e.status !== 'unmet' && e.failures.length ? '\n' + failureText(e).split('\n').slice(1).join('\n') : ''}`));
  }
  return root.end({ prettyPrint: true }) + '\n';
}

/** GitHub Actions workflow-command escaping (data and properties). */
const ghData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const ghProp = (s: string) => ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function githubLines(s: SuiteSummary, file: string): string[] {
  const out: string[] = [];
  for (const e of s.entries) {
    if (e.status === 'unmet') {
      const f = e.failures[0];
      const body = f ? `${e.verdict}\nseed ${f.seed}: ${f.invariant}: ${f.message.slice(0, 300)}\nreplay: ${f.replay}\ntrace: ${f.trace}` : failureText(e);
      out.push(`::error file=${ghProp(file)},title=${ghProp(`halfmoon suite ${s.suite}: ${e.name}`)}::${ghData(body)}`);
    } else if (e.status === 'incomplete') {
      out.push(`::warning file=${ghProp(file)},title=${ghProp(`halfmoon suite ${s.suite}: ${e.name}`)}::${ghData(e.verdict)}`);
    }
  }
  out.push(`::notice title=${ghProp(`halfmoon suite ${s.suite}`)}::${ghData(`${s.met} met, ${s.unmet} unmet, ${s.incomplete} incomplete of ${s.entries.length} entries; ${s.seedsRun} seeds`)}`);
  return out;
}

export function humanLines(s: SuiteSummary, wallMsByEntry: ReadonlyMap<string, number>): string[] {
  const w = Math.min(60, Math.max(5, ...s.entries.map((e) => e.name.length)));
  const mark = { met: 'ok  ', unmet: 'FAIL', incomplete: 'SKIP' } as const;
  const lines = [`suite     ${s.suite}: ${s.entries.length} entries`];
  for (const e of s.entries) {
    const ms = wallMsByEntry.get(e.name);
    lines.push(`  ${mark[e.status]} ${e.name.padEnd(w)}  expect ${e.expect.padEnd(9)} ${e.verdict}${ms !== undefined ? ` [${(ms / 1000).toFixed(1)} s]` : ''}`);
    if (e.status === 'unmet') for (const l of failureText(e).split('\n').slice(1, 8)) lines.push(`       ${l}`);
  }
  const verdict = s.unmet > 0 ? 'FAIL' : s.incomplete > 0 ? 'INCOMPLETE' : 'PASS';
  lines.push(`verdict   ${verdict}: ${s.met} met, ${s.unmet} unmet, ${s.incomplete} incomplete; ${s.seedsRun} seeds run; hash ${s.traceHash}`);
  return lines;
}
