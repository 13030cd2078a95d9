/**
 * The sweep worker's code, bundled by sweep.ts into one CommonJS file that a worker thread loads
 * directly (sweep-worker.mjs is the fallback that loads the sources through tsx): it runs the
 * seeds it is sent and answers each with its summary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runOnce } from './run.ts';
import { summarize } from './seed-summary.ts';

const port = parentPort;
if (port === null) throw new Error('sweep-entry runs in a worker thread');
const data = workerData as { scenario: string; sets: [string, unknown][]; variant: string | null };
port.on('message', (seed: number) => {
  try {
    const r = runOnce({ scenario: data.scenario, seed, sets: data.sets, variant: data.variant });
    port.postMessage({ ok: true, summary: summarize(r) });
  } catch (e) {
    port.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
