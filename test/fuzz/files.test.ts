/**
 * Methodology: structure-aware fuzzing of scenario and cluster files (fast-check, replayable:
 * FUZZ_SEED picks the seed, FUZZ_RUNS the number of cases, 1,000 by default per input kind; a
 * failure prints the seed and path to replay it). Each case takes a shipped file, picks a place
 * in it (any value at any depth, or the whole text) and applies one mutation: a value of the wrong
 * type, a huge or negative number (durations below zero, 1e308, 2^53+1), a key deleted, added or
 * misspelled, deep nesting, binary bytes spliced into the text or replacing it. The text is
 * parsed in-process, as the CLI would (scenario: parse, validate, resolve against its system and
 * build the instance; cluster: plan the cluster): it must either load or throw an InputError of
 * one line; any other exception, or a multi-line message, fails the case.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { isInputError } from '../../src/core/assert.ts';
import { parseClusterText } from '../../src/runtime/real/cluster-config.ts';
import { buildInstance, resolveScenario } from '../../src/scenario/instance.ts';
import { parseScenarioText } from '../../src/scenario/scenario.ts';

const root = join(import.meta.dirname, '../..');
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261206);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

function shipped(dir: string) {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: f, text: readFileSync(join(root, dir, f), 'utf8') }));
}

type Path = (string | number)[];
/** Every place in a document: the root and each value at any depth. */
function places(doc: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...places(v, [...path, i])));
  else if (typeof doc === 'object' && doc !== null) for (const [k, v] of Object.entries(doc)) out.push(...places(v, [...path, k]));
  return out;
}

function nest(depth: number, array: boolean): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
}

const weird = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1, -1_000_000, 2 ** 53 + 1, 1e21, -0, 0.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.tuple(fc.integer({ min: 1, max: 400 }), fc.boolean()).map(([d, a]) => nest(d, a)),
);

type Mutation =
  | { kind: 'set'; value: unknown }
  | { kind: 'delete' }
  | { kind: 'addKey'; key: string; value: unknown }
  | { kind: 'misspell'; at: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array }
  | { kind: 'binary'; bytes: Uint8Array }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  weird.map((value) => ({ kind: 'set' as const, value })),
  fc.constant({ kind: 'delete' as const }),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), weird).map(([key, value]) => ({ kind: 'addKey' as const, key, value })),
  fc.nat().map((at) => ({ kind: 'misspell' as const, at })),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, bytes]) => ({ kind: 'splice' as const, at, bytes })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'binary' as const, bytes })),
  fc.nat().map((at) => ({ kind: 'truncate' as const, at })),
);

function apply(text: string, doc: unknown, path: Path, m: Mutation): string {
  switch (m.kind) {
    case 'splice': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + Buffer.from(m.bytes).toString('latin1') + text.slice(at);
    }
    case 'binary':
      return Buffer.from(m.bytes).toString('utf8');
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    default:
      break;
  }
  const copy = structuredClone(doc);
  if (path.length === 0) {
    if (m.kind === 'set') return stringify(m.value);
    if (m.kind === 'delete') return '';
  }
  let parent: unknown = copy;
  for (const p of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[p];
  const last = path[path.length - 1]!;
  const target = path.length === 0 ? copy : (parent as Record<string | number, unknown>)[last];
  const obj = parent as Record<string | number, unknown>;
  if (m.kind === 'set') obj[last] = m.value;
  else if (m.kind === 'delete') {
    if (Array.isArray(obj)) obj.splice(Number(last), 1);
    else delete obj[last];
  } else if (m.kind === 'addKey') {
    if (typeof target === 'object' && target !== null && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = m.value;
    else obj[last] = { [m.key]: m.value };
  } else if (m.kind === 'misspell' && typeof last === 'string' && last.length > 1) {
    const i = m.at % (last.length - 1);
    const wrong = last.slice(0, i) + last[i + 1] + last[i] + last.slice(i + 2);
    const v = obj[last];
    delete obj[last];
    obj[wrong === last ? `${last}x` : wrong] = v;
  }
  return stringify(copy);
}

function expectInputErrorOrSuccess(load: () => void): void {
  try {
    load();
  } catch (e) {
    if (!isInputError(e)) throw new Error(`not an InputError: ${(e as Error)?.stack ?? String(e)}`);
    expect((e as Error).message).not.toMatch(/[\r\n]/);
    expect((e as Error).message.length).toBeLessThan(2000);
  }
}

const kinds = [
  {
    name: 'scenario',
    files: shipped('scenarios'),
    load: (text: string) => {
      const s = parseScenarioText(text, 'fuzzed.yaml');
      buildInstance(resolveScenario({ scenario: s }));
    },
  },
  { name: 'cluster', files: shipped('clusters'), load: (text: string) => void parseClusterText(text, 'fuzzed.yaml', root) },
];

for (const k of kinds) {
  describe(`fuzzed ${k.name} files`, () => {
    const docs = k.files.map((f) => ({ ...f, doc: parseYaml(f.text) as unknown, places: places(parseYaml(f.text)) }));
    it(`${FUZZ_RUNS} mutations of the shipped files: a file loads or throws one InputError line`, () => {
      fc.assert(
        fc.property(fc.nat(), fc.nat(), mutation, (fi, pi, m) => {
          const d = docs[fi % docs.length]!;
          const text = apply(d.text, d.doc, d.places[pi % d.places.length]!, m);
          expectInputErrorOrSuccess(() => k.load(text));
        }),
        { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
      );
    }, 600_000);
  });
}

it('deep nesting is refused by name, not by a stack overflow', () => {
  const doc = (d: number) => `{"name": "x", "description": "y", "system": "register", "params": {"a": ${'{"a": '.repeat(d)}1${'}'.repeat(d)}}}`;
  expect(() => parseScenarioText(doc(100), 'deep.yaml')).toThrow(/deep\.yaml: nested deeper than 64 levels/);
  expectInputErrorOrSuccess(() => parseScenarioText(doc(20_000), 'deeper.yaml'));
  expect(() => parseScenarioText(doc(20_000), 'deeper.yaml')).toThrow(/deeper\.yaml/);
});
