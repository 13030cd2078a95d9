/**
 * Methodology: `halfmoon check`, `prove`, `replay` of explorer traces and `shrink` of explorer
 * traces are exercised through the CLI entry point, as users and CI call them: the documented
 * JSON fields are present, a counterexample written with --trace replays to the same violation,
 * a trace whose path no longer fits the model is reported as diverged, and bad input exits 2 with
 * one line naming the problem.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hm-check-'));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), progress: null });
  return { code, out, err };
}

describe('halfmoon check', () => {
  it('reports states, speed and memory for 2pc with 8 resource managers', async () => {
    const r = await cli('check', '--model', '2pc', '--set', 'rms=8', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.uniqueStates).toBe(1_745_408);
    expect(j.statesPerSecond).toBeGreaterThan(0);
    expect(j.bytesPerState).toBeGreaterThan(0);
    expect(j.verdict).toBe('pass');
    expect(j.complete).toBe(true);
  });

  it('prints a counterexample, writes it as a trace, and replays it', async () => {
    const file = join(tmp, '2pc.jsonl');
    const r = await cli('check', '--model', '2pc', '--set', 'rms=3', '--variant', 'commit-early', '--trace', file, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out[0]!);
    expect(j.verdict).toBe('fail');
    expect(j.violations[0].property).toBe('consistent');
    expect(j.violations[0].counterexample).toHaveLength(5);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'header', source: 'explore', model: '2pc' });
    expect(lines.filter((l) => l.type === 'step')).toHaveLength(5);
    expect(lines.filter((l) => l.type === 'boot')).toHaveLength(4);
    expect(lines.at(-2)).toMatchObject({ type: 'violation', invariant: 'consistent' });
    expect(lines.at(-1)).toMatchObject({ type: 'end', outcome: 'violation' });
    const rep = await cli('replay', file, '--json');
    expect(rep.code).toBe(1);
    const rj = JSON.parse(rep.out[0]!);
    expect(rj.matches).toBe(true);
    expect(rj.violations[0].invariant).toBe('consistent');
  });

  it('replays a register counterexample, and reports a path that no longer fits as diverged', async () => {
    const file = join(tmp, 'reg.jsonl');
    const r = await cli('check', '--model', 'register', '--variant', 'volatile-state', '--set', 'clients=1', '--set', 'crashes=1', '--set', 'restarts=1', '--trace', file);
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toContain('replica-timestamp-monotonic');
    const ok = await cli('replay', file);
    expect(ok.out.join('\n')).toContain('reproduced');
    const recs = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.some((x) => x.type === 'fault' && x.kind === 'crash')).toBe(true);
    expect(recs.some((x) => x.type === 'step' && x.input?.type === 'restart')).toBe(true);
    const end = recs.at(-1);
    end.path = [...end.path.slice(0, 2), 'timer nobody nothing', ...end.path.slice(2)];
    const bad = join(tmp, 'reg-bad.jsonl');
    writeFileSync(bad, recs.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const div = await cli('replay', bad, '--json');
    expect(div.code).toBe(1);
    const dj = JSON.parse(div.out[0]!);
    expect(dj.matches).toBe(false);
    expect(dj.divergence).toMatch(/step 2 of the path/);
  });

  it('shrinks an explorer counterexample found by a random walk', async () => {
    const file = join(tmp, 'walk.jsonl');
    const r = await cli('check', '--model', '2pc', '--set', 'rms=4', '--variant', 'abort-after-prepare', '--strategy', 'random', '--seed', '5', '--trace', file, '--json');
    expect(r.code).toBe(1);
    const steps = JSON.parse(r.out[0]!).violations[0].steps;
    const small = join(tmp, 'walk.small.jsonl');
    const s = await cli('shrink', file, '--out', small, '--json');
    expect(s.code).toBe(0);
    const sj = JSON.parse(s.out[0]!);
    expect(sj.originalSteps).toBe(steps);
    expect(sj.shrunkSteps).toBeLessThanOrEqual(steps);
    expect((await cli('replay', small, '--json')).out[0]).toContain('"matches":true');
  });

  const bad: [string, string[], RegExp][] = [
    ['no model', ['check'], /--model: required/],
    ['unknown model', ['check', '--model', 'paxos'], /unknown model 'paxos'/],
    ['unknown strategy', ['check', '--model', '2pc', '--strategy', 'astar'], /--strategy: expected one of bfs/],
    ['por without dfs', ['check', '--model', '2pc', '--por'], /--por: partial-order reduction runs with --strategy dfs/],
    ['bad depth', ['check', '--model', '2pc', '--depth', 'deep'], /--depth: expected an integer/],
    ['unknown 2pc setting', ['check', '--model', '2pc', '--set', 'nodes=3'], /unknown setting 'nodes'/],
    ['too many rms', ['check', '--model', '2pc', '--set', 'rms=40'], /rms: expected an integer in \[1, 12\]/],
    ['unknown system', ['check', '--model', 'system:paxos'], /unknown system 'paxos'/],
    ['unknown proof', ['prove', '--only', 'nothing-like-this'], /--only: no proof matches/],
    ['unknown group', ['prove', '--group', 'paxos'], /--group: unknown group 'paxos'/],
    ['shrink without a violation', ['shrink', join(tmp, 'absent.jsonl')], /cannot read trace file/],
  ];
  for (const [what, args, re] of bad) {
    it(`exits 2 with one line on ${what}`, async () => {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(re);
    });
  }
});

describe('halfmoon prove', () => {
  it('runs selected proofs and prints states, depth, time and verdict', async () => {
    const r = await cli('prove', '--only', '2pc/consistent-rms3,2pc/commit-early-refuted', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.proofs).toBe(4);
    expect(j.failed).toBe(0);
    const rms3 = j.results.find((x: { name: string }) => x.name === '2pc/consistent-rms3');
    expect(rms3).toMatchObject({ outcome: 'proved', uniqueStates: 288, maxDepth: 10 });
    expect(typeof rms3.wallMs).toBe('number');
    const text = await cli('prove', '--only', '2pc/consistent-rms3');
    expect(text.out[0]).toMatch(/^PROVED +2pc\/consistent-rms3 +288 states +depth +10/);
  });
});
