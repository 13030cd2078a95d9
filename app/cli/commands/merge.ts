import { readFileSync } from 'node:fs';
import { InputError } from '../../../src/core/assert.ts';
import { mergeShards, type ShardInput } from '../../suite/merge.ts';
import { report, SUITE_JSON_FORMAT } from './suite.ts';
import type { Command } from './types.ts';

function readShard(path: string): ShardInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InputError(`${path}: not JSON (expected the output of 'halfmoon suite --json')`);
  }
  if (j === null || typeof j !== 'object' || j.format !== SUITE_JSON_FORMAT || j.version !== 1) throw new InputError(`${path}: not a suite result (format '${SUITE_JSON_FORMAT}' version 1, from 'halfmoon suite --json')`);
  const summary = j.summary as { suite?: unknown } | undefined;
  if (typeof j.shard !== 'string' || typeof j.file !== 'string' || !Array.isArray(j.runs) || typeof summary?.suite !== 'string') throw new InputError(`${path}: a suite result needs shard, file, summary.suite and runs`);
  for (const [i, r] of (j.runs as unknown[]).entries()) {
    const x = r as Record<string, unknown>;
    if (x === null || typeof x !== 'object' || typeof x.entry !== 'object' || !Array.isArray(x.planned) || !Array.isArray(x.rows) || typeof x.wallMs !== 'number') throw new InputError(`${path}: runs[${i}]: expected entry, planned, rows and wallMs`);
    for (const [ri, row] of (x.rows as unknown[]).entries()) {
      const y = row as Record<string, unknown>;
      if (typeof y?.seed !== 'number' || typeof y.traceHash !== 'string' || typeof y.events !== 'number' || typeof y.simulatedTimeUs !== 'number' || !(y.invariant === null || typeof y.invariant === 'string')) {
        throw new InputError(`${path}: runs[${i}].rows[${ri}]: expected seed, traceHash, events, simulatedTimeUs and invariant`);
      }
    }
  }
  return { where: path, file: j.file, shard: j.shard, suite: summary.suite, runs: j.runs as ShardInput['runs'] };
}

export const mergeCommand: Command = {
  name: 'merge',
  summary: "combine the results of 'suite --shard k/n --json' into the summary of one unsharded run",
  usage: `usage: halfmoon merge <shard.json>... [--reporter human|junit|github|json]... [--out <file>] [--json]

Reads the JSON that 'halfmoon suite --shard k/n --json' wrote for every k of n, checks they are
shards of one suite, and reports the union exactly as the unsharded run would (same verdicts,
seeds, failing seeds and hashes). Reporters as for 'halfmoon suite'.

Exit codes: 0 every entry met its expectation, 1 one did not, 2 bad input (including a missing
or duplicated shard).`,
  options: { reporter: { type: 'string', multiple: true }, out: { type: 'string' }, json: { type: 'boolean' } },
  positionals: 1_000,
  run(values, pos, io) {
    if (pos.length === 0) throw new InputError('give the shard results to merge (halfmoon merge shard-1.json shard-2.json ...)');
    const m = mergeShards(pos.map(readShard));
    report(m.summary, m.file, { summary: m.summary, shards: m.shards } as never, values, m.wallMs, io);
    return m.summary.unmet > 0 ? 1 : 0;
  },
};
