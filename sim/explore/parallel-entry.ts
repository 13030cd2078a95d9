/**
 * A worker of the parallel explorer, bundled by `parallel.ts` into one CommonJS file a worker
 * thread loads directly (parallel-worker.mjs is the fallback that loads the sources through tsx):
 * it runs its part of the search, reports, then answers the main thread's questions about the
 * states it owns (fingerprint and parent, to rebuild counterexample paths) until it is ended.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveWorker } from './parallel-search.ts';

const port = parentPort;
if (port === null) throw new Error('parallel-entry runs in a worker thread');
serveWorker(workerData, port);
