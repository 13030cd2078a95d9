/**
 * Scenarios: declarative files (YAML) naming a system, its parameters, the network, disk and
 * clock models, the fault schedule and the run limits. Loaded and validated here; every error
 * names the file and the field. A resolved scenario is plain data and is written whole into every
 * trace header, so a trace replays without the file that produced it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../core/assert.ts';
import { parseStrict } from './strict.ts';

const nonNegInt = z.number().int().min(0);
const prob = z.number().min(0).max(1);

export const DistSchema = z.discriminatedUnion('dist', [
  z.object({ dist: z.literal('constant'), us: nonNegInt }).strict(),
  z.object({ dist: z.literal('uniform'), minUs: nonNegInt, maxUs: nonNegInt }).strict(),
  z.object({ dist: z.literal('exponential'), meanUs: nonNegInt, capUs: nonNegInt }).strict(),
  z.object({ dist: z.literal('lognormal'), medianUs: nonNegInt, sigma: z.number().min(0).max(10), capUs: nonNegInt }).strict(),
]);
export type Dist = z.infer<typeof DistSchema>;

const LinkSchema = z
  .object({
    latency: DistSchema,
    drop: prob,
    duplicate: prob,
    /** Probability that a message gets `reorderDelay` added, so later ones can overtake it. */
    reorder: prob,
    reorderDelay: DistSchema,
    /** Extra fixed delay on every message (a slow link). */
    delayUs: nonNegInt,
    /** TCP-like channel: deliveries on the link never overtake each other. */
    fifo: z.boolean(),
  })
  .strict();
export type LinkModel = z.infer<typeof LinkSchema>;

const LinkOverrideSchema = LinkSchema.partial()
  .extend({ from: z.string().min(1), to: z.string().min(1) })
  .strict();

const NetworkSchema = z
  .object({
    default: LinkSchema.partial().strict().default({}),
    /** Links between workload drivers and the nodes they call. */
    client: LinkSchema.partial().strict().default({}),
    links: z.array(LinkOverrideSchema).max(1000).default([]),
  })
  .strict();

const DiskSchema = z
  .object({
    syncLatencyUs: nonNegInt.default(50),
    /** Probability that each unsynced write is lost when its node crashes. */
    unsyncedLoss: prob.default(0.5),
  })
  .strict();

const ClocksSchema = z
  .object({
    /** Initial skew of each node's clock, drawn per node. */
    skew: DistSchema.optional(),
    /** Maximum drift magnitude in parts per million, drawn uniformly in [-ppm, ppm] per node. */
    driftPpmMax: z.number().min(0).max(100_000).default(0),
  })
  .strict();

const nodeSel = z.string().min(1);
const at = { atUs: nonNegInt };

const ScriptedFaultSchema = z.discriminatedUnion('kind', [
  z.object({ ...at, kind: z.literal('crash'), node: nodeSel, unsyncedLoss: prob.optional() }).strict(),
  z.object({ ...at, kind: z.literal('restart'), node: nodeSel }).strict(),
  z.object({ ...at, kind: z.literal('crashRestart'), node: nodeSel, downUs: nonNegInt, unsyncedLoss: prob.optional() }).strict(),
  z.object({ ...at, kind: z.literal('pause'), node: nodeSel, durationUs: nonNegInt }).strict(),
  z
    .object({
      ...at,
      kind: z.literal('partition'),
      mode: z.enum(['symmetric', 'asymmetric', 'one-way']).default('symmetric'),
      /** symmetric/asymmetric: groups of node selectors; nodes not named form one more group. */
      groups: z.array(z.array(nodeSel).min(1)).min(1).optional(),
      /** one-way: messages from `from` to `to` are lost. */
      from: z.array(nodeSel).min(1).optional(),
      to: z.array(nodeSel).min(1).optional(),
      durationUs: nonNegInt.optional(),
    })
    .strict(),
  z.object({ ...at, kind: z.literal('heal') }).strict(),
  z.object({ ...at, kind: z.literal('clockSkew'), node: nodeSel, skewUs: z.number().int() }).strict(),
  z.object({ ...at, kind: z.literal('clockDrift'), node: nodeSel, ppm: z.number().min(-100_000).max(100_000) }).strict(),
  z
    .object({
      ...at,
      kind: z.literal('linkFault'),
      from: nodeSel,
      to: nodeSel,
      drop: prob.optional(),
      duplicate: prob.optional(),
      reorder: prob.optional(),
      delayUs: nonNegInt.optional(),
      durationUs: nonNegInt.optional(),
    })
    .strict(),
  z.object({ ...at, kind: z.literal('linkHeal') }).strict(),
]);
export type ScriptedFault = z.infer<typeof ScriptedFaultSchema>;

export const RANDOM_FAULT_KINDS = ['crash', 'crashRestart', 'pause', 'partition', 'linkFault', 'clockSkew', 'clockDrift'] as const;
export type RandomFaultKind = (typeof RANDOM_FAULT_KINDS)[number];

const RandomFaultsSchema = z
  .object({
    startUs: nonNegInt.default(0),
    endUs: nonNegInt,
    /** Mean time between fault injections (exponentially distributed). */
    meanIntervalUs: z.number().int().min(1),
    /** Relative weights of fault kinds. */
    kinds: z.partialRecord(z.enum(RANDOM_FAULT_KINDS), z.number().min(0)),
    /** Roles that may be targeted (default: every faultable node). */
    roles: z.array(z.string()).optional(),
    /** How long a crash-restart, pause, partition or link fault lasts. */
    duration: DistSchema.default({ dist: 'uniform', minUs: 10_000, maxUs: 500_000 }),
    /** At most this many nodes crashed or paused at once (before the system's own budget). */
    maxDown: nonNegInt.default(1),
    /** Parameters of random link faults. */
    linkDrop: prob.default(0.2),
    linkDuplicate: prob.default(0.2),
    linkReorder: prob.default(0.3),
    clockSkewMaxUs: nonNegInt.default(100_000),
    clockDriftPpmMax: z.number().min(0).max(100_000).default(1000),
  })
  .strict();
export type RandomFaults = z.infer<typeof RandomFaultsSchema>;

/** Validates a random fault schedule given as plain data (a system's own, from its parameters). */
export function parseRandomFaults(raw: unknown, where: string): RandomFaults {
  return parseStrict(RandomFaultsSchema, raw, where);
}

const LimitsSchema = z
  .object({
    events: z.number().int().min(1).max(1e10).default(5_000_000),
    simulatedTimeUs: z.number().int().min(1).default(60_000_000),
    wallMs: z.number().int().min(1).default(120_000),
  })
  .strict();

const jsonValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.lazy(() => jsonValue)), z.record(z.string(), z.lazy(() => jsonValue))]);

export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().min(1),
    system: z.string().min(1),
    variant: z.string().nullable().default(null),
    params: z.record(z.string(), jsonValue).default({}),
    network: NetworkSchema.default({ default: {}, client: {}, links: [] }),
    disk: DiskSchema.default({ syncLatencyUs: 50, unsyncedLoss: 0.5 }),
    clocks: ClocksSchema.default({ driftPpmMax: 0 }),
    faults: z
      .object({
        scripted: z.array(ScriptedFaultSchema).max(10_000).default([]),
        random: RandomFaultsSchema.nullable().default(null),
        /** Swarm testing: each seed draws its own subset of kinds and rates from the random schedule (sim/swarm.ts). */
        swarm: z.boolean().optional(),
      })
      .strict()
      .default({ scripted: [], random: null }),
    limits: LimitsSchema.default({ events: 5_000_000, simulatedTimeUs: 60_000_000, wallMs: 120_000 }),
    rng: z.enum(['xoroshiro128plus', 'alea']).default('xoroshiro128plus'),
    /** Plugin modules (relative to the scenario file) the front end loads before resolving it (src/scenario/plugins.ts). */
    plugins: z.array(z.string().min(1)).max(32).optional(),
  })
  .strict();

export type Scenario = z.infer<typeof ScenarioSchema>;

export const DEFAULT_LINK: LinkModel = {
  latency: { dist: 'lognormal', medianUs: 100, sigma: 0.3, capUs: 2000 },
  drop: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: { dist: 'uniform', minUs: 0, maxUs: 1000 },
  delayUs: 0,
  fifo: true,
};

export const DEFAULT_CLIENT_LINK: LinkModel = {
  ...DEFAULT_LINK,
  latency: { dist: 'constant', us: 50 },
};

// ---------------------------------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url));
export const SCENARIO_DIR = resolve(here, '..', '..', 'scenarios');

export function listScenarioFiles(): string[] {
  if (!existsSync(SCENARIO_DIR)) return [];
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(SCENARIO_DIR, f));
}

/** Parses and validates one scenario document; `where` names it in errors. */
export function parseScenario(raw: unknown, where: string): Scenario {
  return parseStrict(ScenarioSchema, raw, where);
}

export function readScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read scenario file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseScenarioText(text, file);
}

/** Nesting deeper than this in a file is refused before validation (recursion stays bounded). */
export const FILE_DEPTH_MAX = 64;

/** Throws an InputError when `v` nests deeper than `max` (arrays and objects). */
export function checkDepth(v: unknown, where: string, max = FILE_DEPTH_MAX): void {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d >= max) throw new InputError(`${where}: nested deeper than ${max} levels`);
    for (const c of Object.values(x)) if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
}

/** A YAML (or JSON) document's value; bad syntax or nesting past the limit is one InputError line. */
export function parseYamlText(text: string, where: string, what = 'YAML'): unknown {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    // The parser's first line only, and a carriage return in the file must not end it early.
    const msg = (e as Error).message.split(/\r?\n|\r/)[0];
    throw new InputError(`${where}: malformed ${what}: ${msg}`);
  }
  checkDepth(raw, where);
  return raw;
}

/** Parses and validates a scenario file's text; `where` names it in errors. */
export function parseScenarioText(text: string, where: string): Scenario {
  return parseScenario(parseYamlText(text, where), where);
}

/** A scenario by name (from scenarios/) or by path (anything containing a slash or ending .yaml). */
export function loadScenario(nameOrFile: string): Scenario {
  if (nameOrFile.includes('/') || nameOrFile.endsWith('.yaml') || nameOrFile.endsWith('.yml')) {
    return readScenarioFile(nameOrFile);
  }
  const file = join(SCENARIO_DIR, `${nameOrFile}.yaml`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(nameOrFile) || !existsSync(file)) {
    const known = listScenarioFiles().map((f) => basename(f, '.yaml'));
    throw new InputError(`unknown scenario '${nameOrFile}' (known: ${known.join(', ') || 'none'})`);
  }
  const s = readScenarioFile(file);
  if (s.name !== nameOrFile) throw new InputError(`${file}: name: must equal the file name '${nameOrFile}'`);
  return s;
}

/** Parses a `--set key=value` value: JSON when it parses, else a plain string. */
export function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Applies `--set` overrides. A key without a dot is a system parameter; a dotted key addresses any
 * scenario field (`limits.events=1000`, `network.default.drop=0.1`). The result is re-validated.
 */
export function applyOverrides(s: Scenario, sets: readonly (readonly [string, unknown])[], where: string): Scenario {
  if (sets.length === 0) return s;
  const raw = structuredClone(s) as Record<string, unknown>;
  for (const [key, value] of sets) {
    if (!/^[A-Za-z0-9_.]+$/.test(key)) throw new InputError(`--set ${key}: key must be letters, digits, '_' and '.'`);
    const parts = key.split('.');
    if (parts.length === 1) {
      (raw.params as Record<string, unknown>)[key] = value;
      continue;
    }
    let o = raw as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) {
      if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
      o = o[p] as Record<string, unknown>;
    }
    o[parts[parts.length - 1]!] = value;
  }
  return parseScenario(raw, `${where} (after --set)`);
}
