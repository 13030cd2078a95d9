/**
 * Suite files: a list of entries, each a scenario (with a protocol or variant, overrides and an
 * optional swarm nemesis) run over a seed range and expected either to pass every seed or to be
 * caught. Validated strictly: an unknown key, a bad range or an unknown scenario or variant is
 * one line naming the file, the entry and the field (exit 2), before anything runs.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../src/core/assert.ts';
import { resolveScenario } from '../../src/scenario/instance.ts';
import type { Scenario } from '../../src/scenario/scenario.ts';

const SEED_RANGE = /^(\d+)\.\.(\d+)$/;
const MAX_ENTRY_SEEDS = 1_000_000;

const EntrySchema = z
  .object({
    /** Unique within the suite; default: scenario[/protocol][/variant][/swarm]. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/+-]*$/, 'letters, digits and . _ / + -').optional(),
    scenario: z.string().min(1),
    protocol: z.string().min(1).optional(),
    variant: z.string().min(1).optional(),
    /** Overrides, as `--set key=value`: a key without a dot is a system parameter. */
    set: z.record(z.string(), z.unknown()).optional(),
    seeds: z.string().regex(SEED_RANGE, 'expected <a>..<b>'),
    expect: z.enum(['pass', 'violation']),
    /** Seconds of wall time this entry may take; it stops (incomplete) when exceeded. */
    timeBudget: z.number().positive().max(86_400).optional(),
    /** Swarm testing: each seed draws its own fault kinds and rates (sim/swarm.ts). */
    swarm: z.boolean().optional(),
    /** Why the entry expects what it does (shown in reports; required reading for expect: pass on a variant). */
    why: z.string().min(1).optional(),
  })
  .strict();

const SuiteSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().min(1),
    entries: z.array(EntrySchema).min(1).max(10_000),
  })
  .strict();

export type EntryDoc = z.infer<typeof EntrySchema>;

export interface SuiteEntry {
  readonly name: string;
  readonly scenario: string;
  readonly protocol: string | null;
  readonly variant: string | null;
  readonly sets: readonly (readonly [string, unknown])[];
  readonly from: number;
  readonly to: number;
  readonly expect: 'pass' | 'violation';
  readonly timeBudgetS: number | null;
  readonly swarm: boolean;
  readonly why: string | null;
  /** The scenario's system (for reports). */
  readonly system: string;
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly entries: readonly SuiteEntry[];
}

/** The `--set` pairs an entry runs with: its overrides, its protocol, and the swarm flag. */
export function entrySets(e: Pick<SuiteEntry, 'sets' | 'protocol' | 'swarm'>, swarm = false): [string, unknown][] {
  const out: [string, unknown][] = e.sets.map(([k, v]) => [k, v]);
  if (e.protocol !== null) out.push(['protocol', e.protocol]);
  if (e.swarm || swarm) out.push(['faults.swarm', true]);
  return out;
}

/** Every seed of an entry's range that shard k of n runs (seed from+i belongs to shard i mod n + 1). */
export function entrySeeds(e: Pick<SuiteEntry, 'from' | 'to'>, k = 1, n = 1): number[] {
  const out: number[] = [];
  for (let s = e.from + (k - 1); s <= e.to; s += n) out.push(s);
  return out;
}

function issuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** Validates a suite document; `file` names it in errors. Scenarios and variants are resolved too. */
export function parseSuite(raw: unknown, file: string): Suite {
  const r = SuiteSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? `: ${(issue as { keys: string[] }).keys.map((k) => `'${k}'`).join(', ')}` : '';
    const msg = issue.code === 'unrecognized_keys' ? 'unknown key' + ((issue as { keys: string[] }).keys.length > 1 ? 's' : '') : issue.message;
    throw new InputError(`${file}: ${issuePath(issue.path)}: ${msg}${keys}`);
  }
  const names = new Set<string>();
  const entries = r.data.entries.map((d, i): SuiteEntry => {
    const where = `${file}: entries[${i}]`;
    const m = SEED_RANGE.exec(d.seeds)!;
    const from = Number(m[1]);
    const to = Number(m[2]);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to || to > 0xffff_ffff) throw new InputError(`${where}.seeds: '${d.seeds}' is not a non-empty range of 32-bit seeds`);
    if (to - from + 1 > MAX_ENTRY_SEEDS) throw new InputError(`${where}.seeds: at most ${MAX_ENTRY_SEEDS} seeds per entry`);
    const name = d.name ?? [d.scenario.replace(/\.ya?ml$/, '').replace(/^.*\//, ''), d.protocol, d.variant, d.swarm ? 'swarm' : undefined].filter((x) => x !== undefined).join('/');
    if (names.has(name)) throw new InputError(`${where}.name: '${name}' names another entry too; give one a name`);
    names.add(name);
    for (const k of Object.keys(d.set ?? {})) {
      if (!/^[A-Za-z0-9_.]+$/.test(k)) throw new InputError(`${where}.set.${k}: key must be letters, digits, '_' and '.'`);
      if (k === 'protocol') throw new InputError(`${where}.set.protocol: use the entry's 'protocol' field`);
    }
    const entry: SuiteEntry = {
      name,
      scenario: d.scenario,
      protocol: d.protocol ?? null,
      variant: d.variant ?? null,
      sets: Object.entries(d.set ?? {}),
      from,
      to,
      expect: d.expect,
      timeBudgetS: d.timeBudget ?? null,
      swarm: d.swarm ?? false,
      why: d.why ?? null,
      system: '',
    };
    let scenario: Scenario;
    try {
      scenario = resolveScenario({ scenario: d.scenario, sets: entrySets(entry), variant: entry.variant });
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${where} (${name}): ${e.message}`);
      throw e;
    }
    return { ...entry, system: scenario.system };
  });
  return { name: r.data.name, description: r.data.description, file, entries };
}

export function readSuiteFile(file: string): Suite {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read suite file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new InputError(`${file}: malformed YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseSuite(raw, file);
}

/** The identity of an entry's work, for checking that shards come from one suite. */
export function entryKey(e: SuiteEntry): string {
  return JSON.stringify([e.name, e.scenario, e.protocol, e.variant, e.sets, e.from, e.to, e.expect, e.swarm]);
}
