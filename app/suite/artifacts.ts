/**
 * CI artifacts for a failing seed: its shrunk trace (as 'halfmoon shrink' writes it) and the
 * viewer's one-page static export of that trace (what 'halfmoon view <trace> --out x.html' writes).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveScenario } from '../../src/scenario/instance.ts';
import { shrinkToTrace } from '../../sim/shrink.ts';
import { FileTraceSink } from '../../sim/trace.ts';
import { loadTrace } from '../viewer/load.ts';
import { renderPage } from '../viewer/page.ts';
import { entrySets, type SuiteEntry } from './spec.ts';
import { traceName } from './run.ts';

export interface Artifact {
  readonly seed: number;
  readonly trace: string;
  readonly html: string;
  readonly faults: readonly [number, number];
  readonly events: readonly [number, number];
}

export async function writeArtifacts(dir: string, e: SuiteEntry, seed: number, invariant: string, shrinkRuns: number): Promise<Artifact> {
  mkdirSync(dir, { recursive: true });
  const trace = join(dir, traceName(e, seed));
  const html = trace.replace(/\.jsonl$/, '.html');
  const scenario = resolveScenario({ scenario: e.scenario, sets: entrySets(e), variant: e.variant });
  const r = shrinkToTrace(scenario, seed, null, invariant, shrinkRuns, new FileTraceSink(trace), trace);
  const loaded = await loadTrace(trace);
  writeFileSync(html, await renderPage(loaded.model.meta.file, { model: loaded.model, index: loaded.index, blobs: loaded.blobLines().join('\n'), text: loaded.compactLines(0, loaded.index.records).join('\n') }));
  return { seed, trace, html, faults: [r.original.faults, r.shrunk.faults], events: [r.original.events, r.shrunk.events] };
}
