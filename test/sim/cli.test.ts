/**
 * Methodology: the CLI is a contract with users and CI. Every kind of bad input named by the
 * issue (unknown scenario, malformed seed range, bad shard spec, malformed scenario file, unknown
 * flag) and a few more must exit 2 with exactly one line on stderr naming the problem, and
 * nothing on stdout. Good input exits 0 (or 1 on a violation) with the documented JSON fields.
 * Most cases run in-process through `main`; one spawns the real binary end to end.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';

const bin = join(import.meta.dirname, '../../bin/halfmoon.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'hm-cli-'));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // Colours are the terminal's business (picocolors turns them on under CI even without a TTY):
  // the assertions read the text.
  const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
  const code = await main(args, { out: (s) => out.push(plain(s)), err: (s) => err.push(plain(s)), progress: null });
  return { code, out, err };
}

const badFile = join(tmp, 'bad.yaml');
writeFileSync(badFile, 'name: bad\ndescription: x\nsystem: register\nlimits: { events: -5 }\n');
const notYaml = join(tmp, 'broken.yaml');
writeFileSync(notYaml, 'name: [unclosed\n');
const unknownParam = join(tmp, 'param.yaml');
writeFileSync(unknownParam, 'name: param\ndescription: x\nsystem: register\nparams: { replicaz: 3 }\n');
const badFault = join(tmp, 'fault.yaml');
writeFileSync(badFault, 'name: fault\ndescription: x\nsystem: register\nfaults: { scripted: [ { atUs: 5, kind: crash, node: r9 } ] }\n');

describe('bad input exits 2 with one line', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown scenario', ['run', '--scenario', 'no-such-thing'], /unknown scenario 'no-such-thing'/],
    ['malformed seed range', ['sweep', '--scenario', 'register-smoke', '--seeds', '5..x'], /--seeds: expected <a>\.\.<b>/],
    ['empty seed range', ['sweep', '--scenario', 'register-smoke', '--seeds', '9..3'], /--seeds: the range 9\.\.3 is empty/],
    ['bad shard spec', ['sweep', '--scenario', 'register-smoke', '--seeds', '1..10', '--shard', '3/2'], /--shard: expected k\/n/],
    ['non-numeric shard', ['sweep', '--scenario', 'register-smoke', '--seeds', '1..10', '--shard', 'a/b'], /--shard/],
    ['malformed scenario field', ['run', '--scenario', badFile], /bad\.yaml: limits\.events: .*>=1/],
    ['malformed YAML', ['run', '--scenario', notYaml], /broken\.yaml: malformed YAML/],
    ['unknown parameter', ['run', '--scenario', unknownParam], /params\.replicaz: unknown parameter/],
    ['unknown node in a fault', ['run', '--scenario', badFault], /faults\.scripted\[0\]\.node: unknown node 'r9'/],
    ['unknown flag', ['run', '--bogus'], /Unknown option '--bogus'/],
    ['bad seed', ['run', '--seed', '-3'], /--seed/],
    ['unknown variant', ['run', '--variant', 'nope'], /unknown variant 'nope'/],
    ['bad --set', ['run', '--set', 'novalue'], /--set: expected key=value/],
    ['bad --set type', ['run', '--set', 'replicas="three"'], /params\.replicas: expected a number/],
    ['missing trace file', ['replay', join(tmp, 'absent.jsonl')], /cannot read trace file/],
    ['not a trace', ['replay', badFile], /not valid JSON|not a halfmoon trace/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['bad workers', ['sweep', '--scenario', 'register-smoke', '--seeds', '1..2', '--workers', '0'], /--workers/],
  ];
  it.each(cases)('%s', async (_name, args, pattern) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(pattern);
    expect(r.err[0]).not.toMatch(/\n|    at /);
  });

  it('the real binary prints one line and no stack trace', () => {
    const r = spawnSync(process.execPath, [bin, 'sweep', '--scenario', 'register-smoke', '--seeds', '1..x'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('good input', () => {
  it('run --json prints the documented fields', async () => {
    const r = await cli('run', '--scenario', 'register-smoke', '--seed', '3', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    for (const k of ['scenario', 'seed', 'events', 'simulatedTimeUs', 'wallMs', 'traceHash', 'violations', 'faults']) expect(j).toHaveProperty(k);
    expect(j.violations).toEqual([]);
  });
  it('a violation exits 1 and prints the replay command', async () => {
    const r = await cli('run', '--scenario', 'register-clock-skew', '--variant', 'wallclock-ts', '--seed', '1');
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/FAIL: linearizability/);
    expect(r.out.join('\n')).toMatch(/halfmoon run --scenario register-clock-skew --seed 1 --variant wallclock-ts/);
  });
  it('sweep --json adds seeds and failingSeeds', async () => {
    const r = await cli('sweep', '--scenario', 'register-clock-skew', '--variant', 'wallclock-ts', '--seeds', '1..4', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out[0]!);
    expect(j.seeds).toBe(4);
    expect(j.failingSeeds).toEqual([1, 2, 3, 4]);
    expect(j.replays[0]).toMatch(/--seed 1/);
  });
  it('scenarios and variants list one line each', async () => {
    const s = await cli('scenarios');
    expect(s.code).toBe(0);
    expect(s.out.some((l) => l.startsWith('register-smoke'))).toBe(true);
    const v = await cli('variants', '--system', 'register');
    expect(v.out.some((l) => l.includes('wallclock-ts'))).toBe(true);
  });
  it('every command answers --help', async () => {
    for (const c of ['run', 'sweep', 'replay', 'scenarios', 'variants', 'bench']) {
      const r = await cli(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(new RegExp(`usage: halfmoon ${c}`));
    }
  });
  it('a reader that closes the pipe early (| head) costs no stack trace and keeps the verdict as the exit code', async () => {
    // The reader is gone before the sweep writes its first line, so every write meets EPIPE.
    const child = spawn(process.execPath, [bin, 'sweep', '--scenario', 'register-smoke', '--seeds', '1..50'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(err).not.toMatch(/EPIPE|    at /);
    expect(code).toBe(0);
  }, 60_000);
  it('npm start path: the binary runs the default simulation and prints a verdict', () => {
    const out = execFileSync(process.execPath, [bin, 'run'], { encoding: 'utf8' });
    expect(out).toMatch(/verdict\s+.*PASS/);
  });
});
