/**
 * Methodology: the CI examples are run, not just shown. The GitHub workflow and the Kubernetes
 * Indexed Job are parsed (with the yaml library), their structure checked (a matrix over every
 * shard of SHARDS with JUnit and artifact uploads and a merge job; an Indexed Job whose
 * completions equal SHARDS), and the exact shell their steps run is executed locally with bash,
 * for every shard of a small n, on a small suite (the SUITE and SHARDS variables the files define
 * are the only things replaced). The merged result must equal the unsharded run's summary.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '../..');
const N = 2;
const SMALL = `name: small
description: a small suite for running the CI examples locally
entries:
  - { scenario: register-smoke, seeds: "1..5", expect: pass }
  - { scenario: register-partition, variant: read-one, seeds: "1..8", expect: violation }
  - { scenario: register-clock-skew, variant: wallclock-ts, seeds: "1..3", expect: violation }
`;

/** A scratch directory that looks like a checkout: bin and scenarios link to the repository. */
function workdir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hm-ci-'));
  symlinkSync(join(root, 'bin'), join(d, 'bin'));
  symlinkSync(join(root, 'scenarios'), join(d, 'scenarios'));
  writeFileSync(join(d, 'small.yaml'), SMALL);
  return d;
}

function bash(script: string, cwd: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  // GitHub runs 'run' steps with bash -e -o pipefail; the Job's scripts say what they set.
  return spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
}

function unsharded(cwd: string): unknown {
  const r = spawnSync('node', [join(root, 'bin/halfmoon.mjs'), 'suite', 'small.yaml', '--json'], { cwd, encoding: 'utf8', timeout: 300_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).summary;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => n === 'testcase' || n === 'testsuite' });

describe('.github/workflows/halfmoon-suite.yml', () => {
  const wf = parse(readFileSync(join(root, '.github/workflows/halfmoon-suite.yml'), 'utf8'));
  it('is a matrix over every shard with JUnit and artifact uploads, and a merge job', () => {
    const shards = Number(wf.env.SHARDS);
    expect(wf.jobs.suite.strategy.matrix.shard).toEqual(Array.from({ length: shards }, (_, i) => i + 1));
    const uses = (job: { steps: { uses?: string }[] }) => job.steps.map((s) => s.uses ?? '').filter(Boolean);
    expect(uses(wf.jobs.suite).filter((u: string) => u.startsWith('actions/upload-artifact'))).toHaveLength(2);
    expect(wf.jobs.merge.needs).toBe('suite');
    expect(uses(wf.jobs.merge)).toContain('actions/download-artifact@v4');
    expect(uses(wf.jobs.merge)).toContain('actions/upload-artifact@v4');
  });

  it('its run steps, executed locally for every shard of a small n, merge to the unsharded summary', { timeout: 600_000 }, () => {
    const d = workdir();
    const steps = (job: { steps: { run?: string; name?: string }[] }) => job.steps.filter((s) => s.run !== undefined && s.run.trim() !== 'npm ci').map((s) => s.run!);
    const env = { ...wf.env, SUITE: 'small.yaml', SHARDS: String(N) };
    for (let k = 1; k <= N; k++) {
      for (const run of steps(wf.jobs.suite)) {
        const script = run.replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, String(k));
        expect(script).not.toMatch(/\$\{\{/);
        const r = bash(script, d, env);
        expect(r.status, r.stderr).toBe(0);
      }
      const j = xml.parse(readFileSync(join(d, `junit-${k}.xml`), 'utf8'));
      expect(j.testsuites.testsuite[0].testcase).toHaveLength(3);
    }
    // download-artifact with merge-multiple puts every shard's files in one directory: here they already are.
    const merge = steps(wf.jobs.merge);
    expect(merge).toHaveLength(1);
    const r = bash(merge[0]!, d, env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^::notice title=halfmoon suite small::3 met, 0 unmet, 0 incomplete of 3 entries/m);
    const j = xml.parse(readFileSync(join(d, 'junit.xml'), 'utf8'));
    expect(j.testsuites.testsuite[0].testcase.map((c: { '@name': string }) => c['@name'])).toEqual(['register-smoke', 'register-partition/read-one', 'register-clock-skew/wallclock-ts']);
    const again = spawnSync('node', [join(root, 'bin/halfmoon.mjs'), 'merge', ...Array.from({ length: N }, (_, i) => `shard-${i + 1}.json`), '--json'], { cwd: d, encoding: 'utf8' });
    expect(JSON.parse(again.stdout).summary).toEqual(unsharded(d));
  });
});

describe('deploy/k8s/suite-job.yaml', () => {
  const docs = parseAllDocuments(readFileSync(join(root, 'deploy/k8s/suite-job.yaml'), 'utf8')).map((x) => x.toJS());
  const [job, mergeJob] = docs;
  const container = (j: typeof job) => j.spec.template.spec.containers[0];
  const envOf = (j: typeof job) => Object.fromEntries(container(j).env.map((e: { name: string; value: string }) => [e.name, e.value]));
  it('is an Indexed Job with one completion per shard, and a merge Job', () => {
    expect(docs).toHaveLength(2);
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(Number(envOf(job).SHARDS));
    expect(container(job).args[0]).toContain('JOB_COMPLETION_INDEX');
    expect(mergeJob.kind).toBe('Job');
  });

  it('its scripts, run locally for every index of a small n, merge to the unsharded summary', { timeout: 600_000 }, () => {
    const d = workdir();
    const results = join(d, 'results');
    mkdirSync(results);
    const env = { ...envOf(job), SUITE: 'small.yaml', SHARDS: String(N), RESULTS: results };
    const [cmd, flag] = container(job).command;
    expect([cmd, flag]).toEqual(['bash', '-c']);
    for (let i = 0; i < N; i++) {
      const r = spawnSync('bash', ['-c', container(job).args[0]], { cwd: d, env: { ...process.env, ...env, JOB_COMPLETION_INDEX: String(i) }, encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
    }
    const r = spawnSync('bash', ['-c', container(mergeJob).args[0]], { cwd: d, env: { ...process.env, ...envOf(mergeJob), RESULTS: results }, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(results, 'merged.json'), 'utf8')).summary).toEqual(unsharded(d));
    expect(xml.parse(readFileSync(join(results, 'junit.xml'), 'utf8')).testsuites.testsuite[0].testcase).toHaveLength(3);
  });
});
