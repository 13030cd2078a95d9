// A sweep worker: loads the TypeScript sources through tsx, then runs the seeds it is sent.
import { register } from 'tsx/esm/api';
import { parentPort, workerData } from 'node:worker_threads';

register();
const { loadPlugins } = await import('../src/scenario/plugins.ts');
await loadPlugins(workerData.plugins ?? []);
const { runOnce } = await import('./run.ts');
const { summarize } = await import('./sweep.ts');

parentPort.on('message', (seed) => {
  try {
    const r = runOnce({ scenario: workerData.scenario, seed, sets: workerData.sets, variant: workerData.variant });
    parentPort.postMessage({ ok: true, summary: summarize(r) });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
