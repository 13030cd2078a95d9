/**
 * Methodology: trace files fuzzed (fast-check, replayable: FUZZ_SEED and FUZZ_RUNS as in
 * files.test.ts). A small simulator trace (register, three operations per client, with node
 * states and the decision log) is mutated one way per case: truncated at any byte, bytes
 * overwritten with random ones, two lines swapped, a line deleted or duplicated, or a line
 * hand-edited (a field at any depth set to a value of another type, a huge number, or deleted).
 * The mutated file goes to the loaders of `view` and `export` (loadTrace, then the Perfetto
 * conversion) and of `replay` and `shrink` (readTrace, then the replay from the decision log):
 * each must succeed (a replay may report a mismatch) or throw an InputError of one line.
 */
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadTrace } from '../../app/viewer/load.ts';
import { toPerfetto } from '../../app/viewer/perfetto.ts';
import { isInputError } from '../../src/core/assert.ts';
import { replayFile } from '../../sim/replay.ts';
import { runOnce } from '../../sim/run.ts';

const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const tmp = mkdtempSync(join(tmpdir(), 'hm-fuzz-trace-'));

// The trace as `run --trace` writes it (the compact format, trace-format.md), one record a line.
const BASE = join(tmp, 'base.jsonl');
runOnce({ scenario: 'register-smoke', seed: 7, sets: [['opsPerClient', 3]], tracePath: BASE, traceStates: true, recordDecisions: true });
const LINES = readFileSync(BASE, 'utf8').split('\n').filter((l) => l !== '');
const TEXT = LINES.join('\n') + '\n';

type Path = (string | number)[];
function places(doc: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...places(v, [...path, i])));
  else if (typeof doc === 'object' && doc !== null) for (const [k, v] of Object.entries(doc)) out.push(...places(v, [...path, k]));
  return out;
}

const weird = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.constantFrom(1e308, -1, 2 ** 53 + 1, null, true, [], {}), fc.jsonValue({ maxDepth: 2 }));

const mutation = fc.oneof(
  fc.nat().map((at) => (text: string) => text.slice(0, at % (text.length + 1))),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, bytes]) => (text: string) => {
    const b = Buffer.from(text, 'utf8');
    const i = at % b.length;
    Buffer.from(bytes).copy(b, i);
    return b.toString('utf8');
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => () => {
    const l = [...LINES];
    const a = i % l.length;
    const b = j % l.length;
    [l[a], l[b]] = [l[b]!, l[a]!];
    return l.join('\n');
  }),
  fc.tuple(fc.nat(), fc.boolean()).map(([i, dup]) => () => {
    const l = [...LINES];
    const a = i % l.length;
    if (dup) l.splice(a, 0, l[a]!);
    else l.splice(a, 1);
    return l.join('\n');
  }),
  fc.tuple(fc.nat(), fc.nat(), fc.option(weird, { nil: undefined })).map(([i, p, v]) => () => {
    const l = [...LINES];
    const a = i % l.length;
    const rec = JSON.parse(l[a]!) as Record<string, unknown>;
    const ps = places(rec).filter((x) => x.length > 0);
    const path = ps[p % ps.length]!;
    let o: unknown = rec;
    for (const k of path.slice(0, -1)) o = (o as Record<string | number, unknown>)[k];
    const last = path[path.length - 1]!;
    if (v === undefined) delete (o as Record<string | number, unknown>)[last];
    else (o as Record<string | number, unknown>)[last] = v;
    l[a] = JSON.stringify(rec);
    return l.join('\n');
  }),
);

function oneLineInputError(e: unknown): void {
  if (!isInputError(e)) throw new Error(`not an InputError: ${(e as Error)?.stack ?? String(e)}`);
  expect((e as Error).message).not.toMatch(/[\r\n]/);
}

it('the unmutated trace loads and replays', async () => {
  const f = join(tmp, 'clean.jsonl');
  writeFileSync(f, TEXT);
  expect((await loadTrace(f)).model).toBeTruthy();
  expect((await replayFile(f)).matches).toBe(true);
});

it(`${FUZZ_RUNS} mutated traces: view, export and replay load them or throw one InputError line`, async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(mutation, async (m) => {
      const f = join(tmp, `case-${n++ % 8}.jsonl`);
      writeFileSync(f, m(TEXT));
      try {
        toPerfetto((await loadTrace(f)).model);
      } catch (e) {
        oneLineInputError(e);
      }
      try {
        await replayFile(f);
      } catch (e) {
        oneLineInputError(e);
      }
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
}, 600_000);
