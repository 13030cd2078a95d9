import { InputError } from '../../../src/core/assert.ts';
import { guidedFound, shrinkPath } from '../../../sim/explore/guided.ts';
import { describePath } from '../../../sim/explore/index.ts';
import { executeKeys } from '../../../sim/explore/path.ts';
import { buildModel } from '../../../sim/explore/registry.ts';
import { writeDiscovery } from '../../../sim/explore/trace.ts';
import { decisionLogOf } from '../../../sim/replay.ts';
import { parseScenario } from '../../../src/scenario/scenario.ts';
import { shrinkToTrace, type Size } from '../../../sim/shrink.ts';
import { FileTraceSink, readTrace, type TraceFile } from '../../../sim/trace.ts';
import { parseCount } from './check.ts';
import type { Command, Io } from './types.ts';

const fmt = (s: Size) => `${s.faults} faults, ${s.requests} requests, ${s.events} events, ${s.choices} non-zero choices`;

function shrinkSim(trace: TraceFile, file: string, out: string, runs: number, values: Record<string, unknown>, io: Io): number {
  const h = trace.header;
  const scenario = parseScenario(h.scenario, `${file}: header.scenario`);
  if (typeof h.seed !== 'number') throw new InputError(`${file}: header.seed must be a number`);
  const violations = (trace.end?.violations ?? []) as { invariant?: unknown }[];
  const invariant = typeof values.invariant === 'string' ? values.invariant : violations[0]?.invariant;
  if (typeof invariant !== 'string') throw new InputError(`${file}: the trace records no violation; nothing to shrink`);
  const log = decisionLogOf(trace, file);
  const r = shrinkToTrace(scenario, h.seed, log, invariant, runs, new FileTraceSink(out), out, io.progress ? (n, s) => io.progress!(`${n} runs: ${fmt(s)}`) : null);
  if (io.progress) io.err('');
  if (values.json) {
    io.out(JSON.stringify({ source: 'sim', invariant, original: r.original, shrunk: r.shrunk, runs: r.runs, trace: out, scenario: r.scenario.name, params: r.scenario.params, faults: r.scenario.faults }));
  } else {
    io.out(`violation ${invariant}`);
    io.out(`original  ${fmt(r.original)}`);
    io.out(`shrunk    ${fmt(r.shrunk)} (${r.runs} runs)`);
    io.out(`trace     ${out} (halfmoon replay ${out})`);
  }
  return 0;
}

function shrinkExplore(trace: TraceFile, file: string, out: string, runs: number, values: Record<string, unknown>, io: Io): number {
  const h = trace.header;
  const end = trace.end;
  if (end === null || !Array.isArray(end.path)) throw new InputError(`${file}: an explorer trace needs an end record with its path`);
  if (typeof h.model !== 'string' || typeof h.property !== 'string') throw new InputError(`${file}: header.model and header.property are required`);
  const sets = (h.sets ?? []) as [string, unknown][];
  const variant = (h.variant as string | null) ?? null;
  const model = buildModel(h.model, sets, variant);
  const path = executeKeys(model, end.path as string[], typeof end.init === 'number' ? end.init : 0);
  if (path === null) throw new InputError(`${file}: the path no longer replays on this model`);
  const found = guidedFound(String(h.property), String(h.kind ?? 'always'), model, path);
  const small = shrinkPath(model, path, found, runs);
  writeDiscovery(model, { property: found.property, kind: found.kind, message: found.message, path: small }, { model: h.model, sets, variant, strategy: String(h.strategy ?? 'bfs') }, new FileTraceSink(out));
  if (values.json) io.out(JSON.stringify({ source: 'explore', property: found.property, originalSteps: path.steps.length, shrunkSteps: small.steps.length, trace: out }));
  else {
    io.out(`violation ${found.property}`);
    io.out(`original  ${path.steps.length} steps`);
    io.out(`shrunk    ${small.steps.length} steps:`);
    for (const l of describePath(model, small)) io.out(l);
    io.out(`trace     ${out} (halfmoon replay ${out})`);
  }
  return 0;
}

export const shrinkCommand: Command = {
  name: 'shrink',
  summary: 'minimise a failing trace (faults, workload, random choices) into a smaller replayable one',
  usage: `usage: halfmoon shrink <trace-file> [--out <file>] [--runs <n>] [--invariant <name>] [--json]

Shrinks the failing run recorded in a trace while it keeps violating the same invariant, and
writes the smallest run found as a trace that 'halfmoon replay' accepts.

Simulator traces: drops the random nemesis or shortens its window, removes scripted faults, lowers
the workload sizes the system declares shrinkable (opsPerClient, clients, ...), and zeroes random
choices in the decision log (0 is always the simplest outcome: no fault, the shortest delay). It
keeps what makes the run smaller in faults, then events, then non-zero choices.
Explorer traces: removes steps of the counterexample while it still fails.

  --out <file>        where to write the shrunk trace (default: <trace>.shrunk.jsonl)
  --runs <n>          budget of simulator runs (default 300)
  --invariant <name>  the violation to preserve (default: the trace's first)

Exit codes: 0 shrunk (or already minimal), 2 bad input (including a trace without a violation).`,
  options: { out: { type: 'string' }, runs: { type: 'string' }, invariant: { type: 'string' }, json: { type: 'boolean' } },
  positionals: 1,
  async run(values, pos, io) {
    const file = pos[0];
    if (!file) throw new InputError('a trace file is required');
    const out = typeof values.out === 'string' ? values.out : file.replace(/(\.jsonl)?$/, '.shrunk.jsonl');
    const runs = values.runs === undefined ? 300 : parseCount(values.runs, '--runs', 1, 1_000_000);
    const trace = await readTrace(file);
    const source = typeof trace.header.source === 'string' ? trace.header.source : 'sim';
    if (source === 'sim') return shrinkSim(trace, file, out, runs, values, io);
    if (source === 'explore') return shrinkExplore(trace, file, out, runs, values, io);
    throw new InputError(`${file}: cannot shrink traces from '${source}' (sim and explore traces only)`);
  },
};
