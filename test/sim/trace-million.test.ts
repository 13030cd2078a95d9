/**
 * Methodology: traces scale (issue 17). One Boki shared-log run of more than a million events
 * (log-smoke, the published topology, with a workload of 28 simulated seconds; the wall-clock
 * limit raised, since a loaded machine must not cut the run short) is recorded at
 * level events without gzip (the leanest trace that still replays and draws the message diagram),
 * then replayed from the file (the hash must match), loaded for the viewer within its memory
 * limit, and served: the server answers the model, the first page and the last page of records
 * (the end record), all from a file far larger than what the viewer keeps in memory.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTrace, TRACE_MEMORY_BYTES_MAX } from '../../app/viewer/load.ts';
import { startViewerServer } from '../../app/viewer/server.ts';
import { replayFile } from '../../sim/replay.ts';
import { runOnce } from '../../sim/run.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const tmp = mkdtempSync(join(tmpdir(), 'hm-million-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a trace of a million events', () => {
  it('is recorded, replays with the same hash and opens in the viewer within its memory limit', async () => {
    const file = join(tmp, 'million.jsonl');
    const r = runOnce({ scenario: 'log-smoke', seed: 1, sets: [['durationMs', 28000], ['limits.simulatedTimeUs', 60_000_000], ['limits.wallMs', 3_600_000]], tracePath: file, traceLevel: 'events' });
    expect(r.events).toBeGreaterThanOrEqual(1_000_000);
    expect(r.violations).toEqual([]);

    const rep = await replayFile(file);
    expect(rep.divergence).toBeNull();
    expect(rep.actualHash).toBe(r.traceHash);
    expect(rep.matches).toBe(true);

    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const t = await loadTrace(file);
    expect(t.model.steps.rec.length).toBe(r.events);
    expect(t.memoryBytes).toBeLessThan(TRACE_MEMORY_BYTES_MAX);
    expect(t.memoryBytes).toBeLessThan(statSync(file).size);
    // The heap the loaded trace really holds (the estimate above leaves out the decoded blobs
    // and the model's objects; measured: 747 MB of heap for this 299 MB file, estimate 271 MB).
    gc();
    const heldMB = (process.memoryUsage().heapUsed - heap0) / 1e6;
    expect(heldMB).toBeLessThan(1000);

    const srv = await startViewerServer(t);
    try {
      const n = t.index.records;
      const head = await fetch(`${srv.url}model.json`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1e6);
      const first = (await (await fetch(`${srv.url}records?from=0&to=300`)).json()) as Record<string, unknown>[];
      expect(first[0]!.type).toBe('header');
      expect(first.filter((x) => x.type === 'step').length).toBeGreaterThan(100);
      const last = (await (await fetch(`${srv.url}records?from=${n - 300}&to=${n}`)).json()) as Record<string, unknown>[];
      expect(last).toHaveLength(300);
      expect(last.at(-1)!.type).toBe('end');
      expect(last.at(-1)!.traceHash).toBe(r.traceHash);
      const steps = last.filter((x) => x.type === 'step');
      expect(steps.length).toBeGreaterThan(100);
      expect(steps.at(-1)!.i).toBe(r.events - 1);
    } finally {
      await srv.close();
    }
  }, 1_200_000);
});
