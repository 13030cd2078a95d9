/**
 * Merging shard results: the union of the seeds every shard ran, summarised by the same function
 * an unsharded run uses, so the merged summary is exactly the unsharded one. The shards must come
 * from one suite (the same entries) and one shard count, and cover it: every k of n once.
 */
import { InputError } from '../../src/core/assert.ts';
import { type EntrySummary, type SeedRow, summarizeEntry, summarizeSuite, type SuiteSummary } from './run.ts';
import { entryKey, type SuiteEntry } from './spec.ts';

export interface ShardInput {
  readonly where: string;
  readonly file: string;
  readonly shard: string;
  readonly suite: string;
  readonly runs: readonly { readonly entry: SuiteEntry; readonly planned: readonly number[]; readonly rows: readonly SeedRow[]; readonly wallMs: number }[];
}

export interface Merged {
  readonly summary: SuiteSummary;
  readonly wallMs: Map<string, number>;
  readonly file: string;
  readonly shards: number;
}

export function mergeShards(inputs: readonly ShardInput[], artifactsDir: string | null = null): Merged {
  if (inputs.length === 0) throw new InputError('at least one shard result is required');
  const first = inputs[0]!;
  const n = Number(first.shard.split('/')[1]);
  const seen = new Map<number, string>();
  for (const s of inputs) {
    const m = /^(\d+)\/(\d+)$/.exec(s.shard);
    if (!m) throw new InputError(`${s.where}: shard: expected k/n, got '${s.shard}'`);
    const [k, nn] = [Number(m[1]), Number(m[2])];
    if (nn !== n) throw new InputError(`${s.where}: shard ${s.shard} is of ${nn} shards, but ${first.where} is of ${n}`);
    if (seen.has(k)) throw new InputError(`${s.where}: shard ${s.shard} is given twice (also ${seen.get(k)})`);
    seen.set(k, s.where);
    if (s.suite !== first.suite) throw new InputError(`${s.where}: suite '${s.suite}' differs from '${first.suite}' in ${first.where}`);
    const a = s.runs.map((r) => entryKey(r.entry)).join('\n');
    const b = first.runs.map((r) => entryKey(r.entry)).join('\n');
    if (a !== b) throw new InputError(`${s.where}: its entries differ from those of ${first.where} (not shards of one suite run)`);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !seen.has(k));
  if (missing.length > 0) throw new InputError(`shards missing: ${missing.map((k) => `${k}/${n}`).join(', ')} (give every shard's result)`);
  const entries: EntrySummary[] = [];
  const wallMs = new Map<string, number>();
  first.runs.forEach((r0, i) => {
    const planned = new Set<number>();
    const rows = new Map<number, SeedRow>();
    let ms = 0;
    for (const s of inputs) {
      const r = s.runs[i]!;
      for (const p of r.planned) planned.add(p);
      for (const row of r.rows) rows.set(row.seed, row);
      ms += r.wallMs;
    }
    entries.push(summarizeEntry(r0.entry, [...planned], [...rows.values()], artifactsDir));
    wallMs.set(r0.entry.name, ms);
  });
  return { summary: summarizeSuite(first.suite, entries), wallMs, file: first.file, shards: n };
}
