// A parallel explorer worker: loads the TypeScript sources through tsx (and the plugins the main
// thread loaded), then runs its part of the search (see parallel-search.ts).
import { register } from 'tsx/esm/api';
import { parentPort, workerData } from 'node:worker_threads';

register();
const { loadPlugins } = await import('../../src/scenario/plugins.ts');
await loadPlugins(workerData.plugins ?? []);
const { serveWorker } = await import('./parallel-search.ts');
serveWorker(workerData, parentPort);
