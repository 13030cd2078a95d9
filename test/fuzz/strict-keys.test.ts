/**
 * Methodology: strict files that help. Every key of every shipped scenario (scenarios/*.yaml) and
 * cluster file (clusters/*.yaml), at any depth (fault schedules, link models, distributions,
 * system parameters, Boki parameters inside Halfmoon's), is misspelled in a copy of the file one
 * at a time (two letters swapped, or a letter dropped or doubled, never another valid key of that
 * object), and the copy is loaded by the CLI in-process: exit 2, one line on stderr, naming the
 * misspelled key and suggesting the original. A misspelled required key must be reported as the
 * misspelling, not as the field it leaves missing.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { main } from '../../app/cli/cli.ts';
import { closest, editDistance } from '../../src/core/suggest.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'hm-strict-'));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), progress: null });
  return { code, out, err };
}

type Json = unknown;
interface KeySite {
  readonly path: (string | number)[];
  readonly key: string;
  readonly siblings: readonly string[];
}

/** Every key of a document, with the path of the object holding it. */
function keySites(doc: Json, path: (string | number)[] = []): KeySite[] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => keySites(v, [...path, i]));
  if (typeof doc !== 'object' || doc === null) return [];
  const keys = Object.keys(doc);
  return keys.flatMap((k) => [{ path, key: k, siblings: keys }, ...keySites((doc as Record<string, Json>)[k], [...path, k])]);
}

/** A misspelling of `key` that is no other sibling and whose closest key among the siblings is `key`. */
function misspell(key: string, siblings: readonly string[]): string {
  const tries: string[] = [];
  for (let i = Math.floor(key.length / 2); i + 1 < key.length; i++) if (key[i] !== key[i + 1]) tries.push(key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2));
  if (key.length > 3) tries.push(key.slice(0, -2) + key.slice(-1));
  tries.push(key + key.slice(-1));
  for (const t of tries) if (t !== key && !siblings.includes(t) && siblings.every((s) => s === key || editDistance(t.toLowerCase(), s.toLowerCase()) > editDistance(t.toLowerCase(), key.toLowerCase()))) return t;
  throw new Error(`no misspelling for ${key}`);
}

function withKeyRenamed(doc: Json, site: KeySite, to: string): Json {
  const copy = structuredClone(doc) as Record<string, Json>;
  let o: Json = copy;
  for (const p of site.path) o = (o as Record<string | number, Json>)[p];
  const obj = o as Record<string, Json>;
  const entries = Object.entries(obj).map(([k, v]) => [k === site.key ? to : k, v] as const);
  for (const k of Object.keys(obj)) delete obj[k];
  for (const [k, v] of entries) obj[k] = v;
  return copy;
}

function shipped(dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(root, dir, f));
}

const kinds: [string, string[], (file: string) => string[]][] = [
  ['scenario', shipped('scenarios'), (f) => ['run', '--scenario', f]],
  ['cluster', shipped('clusters'), (f) => ['cluster', 'status', '--config', f]],
];

describe('closest', () => {
  it('suggests the nearest key and none when all are far', () => {
    expect(closest('nmae', ['name', 'description', 'system'])).toBe('name');
    expect(closest('endUS', ['endUs', 'startUs'])).toBe('endUs');
    expect(closest('zzzzzz', ['name', 'system'])).toBeNull();
    expect(editDistance('abc', 'acb')).toBe(1);
  });
});

for (const [kind, files, args] of kinds) {
  describe(`every key of every shipped ${kind} file, misspelled`, () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      it(basename(file), async () => {
        const doc = parseYaml(readFileSync(file, 'utf8')) as Json;
        const sites = keySites(doc);
        expect(sites.length).toBeGreaterThan(2);
        for (const site of sites) {
          const wrong = misspell(site.key, site.siblings);
          const copy = join(tmp, `${kind}-${basename(file, '.yaml')}.yaml`);
          writeFileSync(copy, stringify(withKeyRenamed(doc, site, wrong)));
          const r = await cli(...args(copy));
          const where = `${[...site.path, site.key].join('.')} -> ${wrong}`;
          expect(r.code, where).toBe(2);
          expect(r.err, where).toHaveLength(1);
          expect(r.err[0], where).toContain(`\`${wrong}\``);
          expect(r.err[0], where).toContain(`did you mean \`${site.key}\`?`);
        }
      });
    }
  });
}

it('a misspelled required key is named ahead of the missing field', async () => {
  const f = join(tmp, 'nmae.yaml');
  writeFileSync(f, 'nmae: x\ndescription: y\nsystem: register\n');
  const r = await cli('run', '--scenario', f);
  expect(r.code).toBe(2);
  expect(r.err).toEqual([`halfmoon run: ${f}: (top level): unknown key \`nmae\`; did you mean \`name\`?`]);
});
