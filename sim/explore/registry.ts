/**
 * The models `halfmoon check --model <name>` knows. Names are part of the CLI contract:
 *
 * - `2pc`: two-phase commit (TLA+ TwoPhase, Stateright's examples/2pc.rs); `--set rms=<n>`.
 * - `register`: the example ABD register system through the SystemInstance adapter, at a tiny
 *   configuration (3 replicas, 2 clients, 1 operation each, read or write explored both ways).
 * - `wf-tiny`: the Halfmoon workflow system with the reference log: two requests of two
 *   operations on one key, two function nodes, at most one function crash; `--protocol` and
 *   `--variant` select what is checked.
 * - `log-tiny`: the Boki shared log on a tiny cluster with one crash and restart, running the
 *   driver's scripted workload until it is done.
 * - `system:<name>`: any registered system at its default parameters.
 *
 * `--set k=v` sets explorer knobs (the fault budget, network and timer semantics, see
 * `WorldOptions`) and otherwise system parameters, validated like a scenario's.
 */
import { InputError } from '../../src/core/assert.ts';
import type { SystemDef } from '../../src/core/system.ts';
import { SYSTEMS } from '../../src/systems/index.ts';
import { resolveParams } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import type { Model } from './model.ts';
import { RMS_MAX, TWOPC_VARIANTS, TwoPcModel, type TwoPcSymmetry, type TwoPcVariant } from './models/twopc.ts';
import { DEFAULT_WORLD_OPTIONS, SystemModel, type WorldOptions } from './world.ts';

export type Sets = readonly (readonly [string, unknown])[];

export interface ModelRequest {
  readonly sets: Sets;
  readonly variant: string | null;
}

export interface ModelEntry {
  readonly name: string;
  readonly description: string;
  /** Why this model cannot be built in this build, or null. */
  unavailable(): string | null;
  variants(): readonly { readonly name: string; readonly description: string }[];
  build(req: ModelRequest): Model<any, any>;
}

/** A system explored through the adapter, at a preset configuration. */
export interface Preset {
  readonly system: string;
  /** System parameters (overridable with --set). */
  params(def: SystemDef<any>): Record<string, unknown>;
  /** Explorer knobs (overridable with --set). */
  world(params: Record<string, unknown>): Partial<WorldOptions>;
}

const WORLD_KEYS = new Set(Object.keys(DEFAULT_WORLD_OPTIONS));

/** Splits --set pairs into explorer knobs and system parameters, checking the knobs' types. */
export function splitSets(sets: Sets, where: string): { world: Partial<Record<keyof WorldOptions, unknown>>; params: [string, unknown][] } {
  const world: Partial<Record<keyof WorldOptions, unknown>> = {};
  const params: [string, unknown][] = [];
  for (const [k, v] of sets) {
    if (!WORLD_KEYS.has(k)) {
      params.push([k, v]);
      continue;
    }
    const d = DEFAULT_WORLD_OPTIONS[k as keyof WorldOptions];
    if (typeof d === 'number' && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) throw new InputError(`${where}: --set ${k}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    if (typeof d === 'boolean' && typeof v !== 'boolean') throw new InputError(`${where}: --set ${k}: expected true or false, got ${JSON.stringify(v)}`);
    if (typeof d === 'string' && typeof v !== 'string') throw new InputError(`${where}: --set ${k}: expected a string, got ${JSON.stringify(v)}`);
    if (typeof d === 'object' && (typeof v !== 'object' || v === null)) throw new InputError(`${where}: --set ${k}: expected a JSON value, got ${JSON.stringify(v)}`);
    world[k as keyof WorldOptions] = v;
  }
  return { world, params };
}

const ENUMS: Partial<Record<keyof WorldOptions, readonly string[]>> = {
  inFlight: ['set', 'multiset'],
  timers: ['unordered', 'duration', 'quiescent'],
  maybe: ['branch', 'never'],
  checkers: ['terminal', 'every'],
  checkerCache: ['history', 'state'],
  unsyncedLoss: ['prefixes', 'all'],
};

function worldOptions(base: Partial<WorldOptions>, over: Partial<Record<keyof WorldOptions, unknown>>, where: string): WorldOptions {
  const o = { ...DEFAULT_WORLD_OPTIONS, ...base, ...over } as WorldOptions;
  for (const [k, allowed] of Object.entries(ENUMS)) {
    const v = o[k as keyof WorldOptions];
    if (!allowed.includes(v as string)) throw new InputError(`${where}: --set ${k}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return o;
}

/** System parameters: preset values, then --set, validated by the system like a scenario's. */
function systemParams(system: string, preset: Record<string, unknown>, sets: [string, unknown][], variant: string | null, where: string): Record<string, unknown> {
  const params: Record<string, unknown> = { ...preset };
  for (const [k, v] of sets) params[k] = v;
  const scenario = parseScenario({ name: 'explore', description: where, system, variant, params }, where);
  return resolveParams(scenario);
}

export function presetModel(name: string, description: string, preset: Preset, missing: string): ModelEntry {
  return {
    name,
    description,
    unavailable: () => (SYSTEMS[preset.system] ? null : missing),
    variants: () => SYSTEMS[preset.system]?.variants ?? [],
    build(req) {
      const def = SYSTEMS[preset.system];
      if (!def) throw new InputError(`model ${name}: ${missing}`);
      const { world, params: sets } = splitSets(req.sets, `model ${name}`);
      const params = systemParams(preset.system, preset.params(def), sets, req.variant, `model ${name}`);
      const options = worldOptions(preset.world(params), world, `model ${name}`);
      return new SystemModel({ name, def, params, variant: req.variant, options, rebuild: { model: name, sets: req.sets.map(([k, v]) => [k, v]), variant: req.variant } });
    },
  };
}

const twoPc: ModelEntry = {
  name: '2pc',
  description: `two-phase commit (TLA+ TwoPhase, messages as a set); --set rms=<1..${RMS_MAX}> (default 3), symmetry=full|sort`,
  unavailable: () => null,
  variants: () => TWOPC_VARIANTS,
  build(req) {
    let rms = 3;
    let symmetry: TwoPcSymmetry = 'full';
    for (const [k, v] of req.sets) {
      if (k === 'rms') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > RMS_MAX) throw new InputError(`model 2pc: --set rms: expected an integer in [1, ${RMS_MAX}], got ${JSON.stringify(v)}`);
        rms = v;
      } else if (k === 'symmetry') {
        if (v !== 'full' && v !== 'sort') throw new InputError(`model 2pc: --set symmetry: expected full or sort, got ${JSON.stringify(v)}`);
        symmetry = v;
      } else throw new InputError(`model 2pc: unknown setting '${k}' (known: rms, symmetry)`);
    }
    if (req.variant !== null && !TWOPC_VARIANTS.some((v) => v.name === req.variant)) {
      throw new InputError(`model 2pc: unknown variant '${req.variant}' (known: ${TWOPC_VARIANTS.map((v) => v.name).join(', ')})`);
    }
    return new TwoPcModel({ rms, variant: req.variant as TwoPcVariant | null, symmetry });
  },
};

/** The register driver draws 'op' below readRatio for a read: 0 reads, 2^32-1 writes. */
const READ_OR_WRITE = [0, 0xffff_ffff];

export const registerPreset: Preset = {
  system: 'register',
  params: () => ({ replicas: 3, clients: 2, opsPerClient: 1, readRatio: 0.5, thinkUsMax: 1 }),
  world: (p) => ({
    branchRandom: { 'driver:op': READ_OR_WRITE },
    symmetry: [Array.from({ length: p.replicas as number }, (_, i) => `r${i}`)],
    // Timeouts fire only when nothing is in flight (late, never premature; `earlyTimers` allows
    // some premature ones): the bounded proofs' timing assumption. 'unordered' explores premature
    // retransmissions everywhere, at a much higher cost. The driver's think timers pace the
    // workload and fire at any moment, so operations of different clients overlap.
    timers: 'quiescent',
    freeTimers: ['driver:next:'],
    // The register's checkers (linearizability, liveness) read the history alone.
    checkerCache: 'history',
    localInvariants: true,
  }),
};

/**
 * Two requests of two operations each on one key, both conflicting (the read-write conflict of
 * the log-optimality lemma), over two function nodes so a retry can run concurrently with a
 * zombie execution; service times are zero because the explorer is untimed.
 */
export const WF_TINY_PROGRAMS = [
  [{ r: 'k0' }, { w: 'k0', v: 'a' }],
  [{ w: 'k0', v: 'b' }, { r: 'k0' }],
];

export const wfTinyPreset: Preset = {
  system: 'halfmoon',
  params: () => ({
    workload: 'program',
    programs: WF_TINY_PROGRAMS,
    keys: 1,
    requests: 2,
    concurrency: 2,
    engines: 2,
    crashProbability: 0.5,
    appendUs: 0,
    condAppendUs: 0,
    readUs: 0,
    storeGetUs: 0,
    storePutUs: 0,
  }),
  world: () => ({
    // One function crash at most (the runtime's crash points are ctx.maybe choices).
    maybes: 1,
    // Retries fire only once nothing is in flight: a timeout is late, never premature.
    timers: 'quiescent',
    checkerCache: 'state',
  }),
};

/**
 * The Boki log on a tiny cluster with one crash: two sequencers (a primary and one metalog
 * backup), one engine, two storage nodes, each record on both, one book with one tag, and the
 * driver's scripted workload (one invocation issuing a fixed handful of operations one after
 * another, see `SCRIPT` in src/boki/driver.ts). The cluster's timers (cuts, repairs, heartbeats)
 * fire only when nothing is in flight; they never fall silent, so the run ends when the workload
 * is done, as in the simulator (`stopAtDone`). Links to and from the coordination service are
 * FIFO.
 */
export const logTinyPreset: Preset = {
  system: 'boki',
  params: () => ({
    sequencers: 2,
    spareSequencers: 0,
    engines: 1,
    storages: 2,
    metalogReplicas: 2,
    userlogReplicas: 2,
    indexReplicas: 1,
    books: 1,
    tagsPerBook: 1,
    invocations: 1,
    probes: false,
    workload: 'script',
  }),
  // The coordination service's sessions are in-order (TCP, as the simulator's links are): its
  // client takes any reordering for a lost connection and re-reads, which floods an unordered
  // network. The log's own links stay unordered.
  world: () => ({ crashes: 1, restarts: 1, timers: 'quiescent', fifo: ['zk'], stopAtDone: true, checkerCache: 'state' }),
};

function systemModel(system: string): ModelEntry {
  return presetModel(`system:${system}`, `the ${system} system at its default parameters`, { system, params: () => ({}), world: () => ({}) }, `unknown system '${system}'`);
}

export const MODELS: readonly ModelEntry[] = [
  twoPc,
  presetModel('register', 'the ABD register (3 replicas, 2 clients x 1 operation, read or write)', registerPreset, "needs the 'register' system"),
  presetModel('wf-tiny', 'Halfmoon workflows: 2 requests x 2 operations on one key, 2 function nodes, <= 1 function crash', wfTinyPreset, "needs the 'halfmoon' system"),
  presetModel('log-tiny', 'the Boki shared log: 2 sequencers, 1 engine, 2 storage nodes, 1 scripted invocation of 11 operations, <= 1 crash and restart', logTinyPreset, "needs the Boki log system ('boki')"),
];

export function findModel(name: string): ModelEntry {
  const m = MODELS.find((x) => x.name === name);
  if (m) return m;
  if (name.startsWith('system:')) {
    const sys = name.slice(7);
    if (!SYSTEMS[sys]) throw new InputError(`--model ${name}: unknown system '${sys}' (known: ${Object.keys(SYSTEMS).join(', ')})`);
    return systemModel(sys);
  }
  throw new InputError(`--model: unknown model '${name}' (known: ${MODELS.map((x) => x.name).join(', ')}, system:<name>)`);
}

/** Builds a model by name, for the CLI, proofs and trace replay. */
export function buildModel(name: string, sets: Sets, variant: string | null): Model<any, any> {
  const m = findModel(name);
  const why = m.unavailable();
  if (why !== null) throw new InputError(`model ${name}: ${why}`);
  return m.build({ sets, variant });
}
