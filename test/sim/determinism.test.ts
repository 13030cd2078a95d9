/**
 * Methodology: a run must be a pure function of its scenario and seed. We compare trace hashes of
 * the same seed run twice in this process, in two separate child processes, and with tracing on
 * and off (tracing must observe, never perturb). Different seeds must give different schedules.
 * Replays from the recorded decision log and from the seed reproduce the hash, and a tampered log
 * is reported as a divergence at the first differing choice rather than silently accepted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReplayDivergence } from '../../sim/decisions.ts';
import { replayFile } from '../../sim/replay.ts';
import { runOnce } from '../../sim/run.ts';
import { MemoryTraceSink } from '../../sim/trace.ts';

const bin = join(import.meta.dirname, '../../bin/halfmoon.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'hm-det-'));

describe('determinism', () => {
  it('gives the same trace hash for the same seed in one process', () => {
    for (const scenario of ['register-smoke', 'register-chaos']) {
      const a = runOnce({ scenario, seed: 11 });
      const b = runOnce({ scenario, seed: 11 });
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.events).toBe(a.events);
      expect(b.faults).toEqual(a.faults);
    }
  });

  it('gives the same trace hash in two separate processes', () => {
    const run = () => JSON.parse(execFileSync(process.execPath, [bin, 'run', '--scenario', 'register-chaos', '--seed', '5', '--json'], { encoding: 'utf8' }).split('\n')[0]!);
    const a = run();
    const b = run();
    expect(a.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.traceHash).toBe(a.traceHash);
    expect(runOnce({ scenario: 'register-chaos', seed: 5 }).traceHash).toBe(a.traceHash);
  });

  it('gives different schedules for different seeds', () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) hashes.add(runOnce({ scenario: 'register-chaos', seed }).traceHash);
    expect(hashes.size).toBe(20);
  });

  it('does not let tracing or the checks mode change the run', () => {
    const plain = runOnce({ scenario: 'register-chaos', seed: 3 });
    const sink = new MemoryTraceSink();
    const traced = runOnce({ scenario: 'register-chaos', seed: 3, traceSink: sink, traceStates: true, recordDecisions: true });
    expect(traced.traceHash).toBe(plain.traceHash);
    expect(sink.records.filter((r) => r.type === 'step').length).toBe(plain.events);
    const checked = runOnce({ scenario: 'register-chaos', seed: 3, checks: true });
    expect(checked.traceHash).toBe(plain.traceHash);
  });

  it('replays a trace from its decision log and from its seed', async () => {
    const file = join(tmp, 'chaos.jsonl');
    const r = runOnce({ scenario: 'register-chaos', seed: 9, tracePath: file });
    const fromLog = await replayFile(file);
    expect(fromLog.matches).toBe(true);
    expect(fromLog.actualHash).toBe(r.traceHash);
    const fromSeed = await replayFile(file, { fromSeed: true });
    expect(fromSeed.matches).toBe(true);
  });

  it('reports where a tampered decision log diverges', async () => {
    const file = join(tmp, 'smoke.jsonl');
    runOnce({ scenario: 'register-smoke', seed: 2, tracePath: file });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const end = JSON.parse(lines.at(-1)!);
    // Rename the label of choice 10: the program asks for a different choice than the log holds.
    const li = end.decisions.entries[20];
    end.decisions.labels[li] = 'something-else';
    lines[lines.length - 1] = JSON.stringify(end);
    const bad = join(tmp, 'tampered.jsonl');
    writeFileSync(bad, lines.join('\n') + '\n');
    const out = await replayFile(bad);
    expect(out.matches).toBe(false);
    expect(out.divergence).toMatch(/replay diverged at choice \d+: the log has 'something-else'/);
    expect(ReplayDivergence).toBeDefined();
  });
});
