import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../../src/core/assert.ts';
import { catalog, type ProofDef } from '../../prove/catalog.ts';
import { runProof, type ProofResult } from '../../prove/bounded.ts';
import { writeDiscovery } from '../../../sim/explore/trace.ts';
import { FileTraceSink } from '../../../sim/trace.ts';
import type { Command } from './types.ts';

function select(values: Record<string, unknown>): ProofDef[] {
  let all = catalog();
  if (values.fast === true) all = all.filter((p) => p.fast);
  if (typeof values.group === 'string') {
    const groups = [...new Set(catalog().map((p) => p.group))];
    if (!groups.includes(values.group)) throw new InputError(`--group: unknown group '${values.group}' (known: ${groups.join(', ')})`);
    all = all.filter((p) => p.group === values.group);
  }
  if (typeof values.only === 'string') {
    const want = values.only.split(',');
    all = all.filter((p) => want.some((w) => p.name.includes(w)));
    if (all.length === 0) throw new InputError(`--only: no proof matches '${values.only}'`);
  }
  return all;
}

function line(r: ProofResult): string {
  const mark = r.outcome === 'pending' ? 'PENDING' : r.known ? 'KNOWN  ' : !r.ok ? 'FAILED ' : r.outcome === 'proved' ? 'PROVED ' : r.outcome === 'survived' ? 'SURVIVED' : 'REFUTED';
  const figures = r.outcome === 'pending' ? '' : `${String(r.uniqueStates).padStart(9)} states  depth ${String(r.maxDepth).padStart(3)}  ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  `;
  return `${mark.padEnd(8)} ${r.name.padEnd(44)} ${figures}${r.ok && !r.known && r.outcome !== 'pending' ? '' : r.message}`;
}

export const proveCommand: Command = {
  name: 'prove',
  summary: 'run the catalog of bounded proofs: properties proved on small configurations, bugs refuted',
  usage: `usage: halfmoon prove [--fast] [--group <g>] [--only <name>[,<name>...]] [--traces <dir>] [--json]

Runs every proof of the catalog (proofs/catalog.ts): each explores a small configuration of a
model exhaustively and either proves a property for it or, for broken variants and controls,
refutes it with a counterexample. Prints per proof the states explored, the depth, the time and
the verdict; with --json, one object per proof and a summary.

  --fast           the subset CI runs on every change
  --group <g>      only one group (2pc, register, wf, log)
  --only <names>   only proofs whose name contains one of these
  --traces <dir>   write each counterexample as a trace 'halfmoon replay' accepts

Outcomes: PROVED (exhaustive), REFUTED (counterexample found), SURVIVED (a guided search found no
counterexample: evidence, not proof), KNOWN (fails as a reported defect says), PENDING (its system
is not in this build), FAILED (anything unexpected, with the reason).

Exit codes: 0 every proof came out as expected (pending proofs do not count), 1 otherwise.`,
  options: { fast: { type: 'boolean' }, group: { type: 'string' }, only: { type: 'string' }, traces: { type: 'string' }, json: { type: 'boolean' } },
  run(values, _pos, io) {
    const proofs = select(values);
    const dir = typeof values.traces === 'string' ? values.traces : null;
    if (dir !== null) mkdirSync(dir, { recursive: true });
    const results: ProofResult[] = [];
    for (const p of proofs) {
      io.progress?.(`proving ${p.name} ...`);
      const run = runProof(p);
      results.push(run.result);
      if (dir !== null && run.model !== null && run.discovery !== null) {
        const file = join(dir, `${p.name.replace(/\//g, '--')}.jsonl`);
        writeDiscovery(run.model, run.discovery, { model: p.model, sets: p.sets, variant: p.variant, strategy: p.options.strategy ?? 'bfs' }, new FileTraceSink(file));
      }
      if (!values.json) io.out(line(run.result));
    }
    if (io.progress) io.err('');
    const failed = results.filter((r) => !r.ok);
    const summary = {
      proofs: results.length,
      proved: results.filter((r) => r.outcome === 'proved' && r.ok).length,
      refuted: results.filter((r) => r.outcome === 'refuted' && r.ok).length,
      survived: results.filter((r) => r.outcome === 'survived' && r.ok).length,
      known: results.filter((r) => r.known).length,
      pending: results.filter((r) => r.outcome === 'pending').length,
      failed: failed.length,
      states: results.reduce((s, r) => s + r.uniqueStates, 0),
      wallMs: Math.round(results.reduce((s, r) => s + r.wallMs, 0)),
    };
    if (values.json) io.out(JSON.stringify({ ...summary, results }));
    else io.out(`summary   ${summary.proved} proved, ${summary.refuted} refuted, ${summary.survived} survived, ${summary.known} known issues, ${summary.pending} pending, ${summary.failed} failed; ${summary.states} states in ${(summary.wallMs / 1000).toFixed(1)} s`);
    return failed.length > 0 ? 1 : 0;
  },
};
