/**
 * Methodology: progress is for people and must never disturb machines. Under a pseudo-terminal
 * (util-linux `script`) a sweep draws a bar on stderr with seeds done / total, seeds per second,
 * ETA and failures so far; with stderr and stdout piped and --json, stdout is exactly one JSON
 * document and stderr carries no bar (no escape codes); piped without --json, stderr gets plain
 * lines at the interval (set to 0 here so the test does not depend on the run's speed).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/halfmoon.mjs');
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const args = ['sweep', '--scenario', 'register-clock-skew', '--variant', 'wallclock-ts', '--seeds', '1..12'];

describe('progress on stderr', () => {
  it.skipIf(!hasScript)('a bar under a pseudo-terminal: seeds done/total, seeds/s, ETA, failures', { timeout: 300_000 }, () => {
    const cmd = ['node', bin, ...args].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '160', TERM: 'xterm' }, timeout: 120_000 });
    expect(r.status).toBe(1);
    const screen = r.stdout;
    expect(screen).toMatch(/sweep \[[=-]+\] 12\/12 seeds \| [\d.]+ seeds\/s \| ETA \S+ \| 12 failing/);
    expect(screen).toMatch(/\x1b\[/);
    expect(screen).toMatch(/verdict {3}FAIL: 12 of 12 seeds/);
  });

  it('with --json and pipes: stdout is one JSON document and stderr has no bar', () => {
    const r = spawnSync('node', [bin, ...args, '--json'], { encoding: 'utf8', env: { ...process.env, HALFMOON_PROGRESS_INTERVAL_MS: '1000000' }, timeout: 120_000 });
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.seeds).toBe(12);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
  });

  it('piped without a terminal: plain lines (one per interval), never escape codes', () => {
    const r = spawnSync('node', [bin, ...args], { encoding: 'utf8', env: { ...process.env, HALFMOON_PROGRESS_INTERVAL_MS: '0' }, timeout: 120_000 });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l).toMatch(/^sweep: \d+\/12 seeds, [\d.]+ seeds\/s, ETA \S+, \d+ failing$/);
    expect(r.stderr).not.toMatch(/\x1b/);
    expect(r.stdout).toMatch(/verdict {3}FAIL/);
  });
});
