/**
 * The public API of halfmoon: `import { ... } from 'halfmoon'`. Everything a user needs to check
 * their own protocols, systems and workflows without forking; everything not exported here (or
 * from `halfmoon/vitest`) is private. docs/api.md describes the surface.
 *
 *   the machine contract      Machine, Input, Effect, Ctx and the effect constructors
 *   defineSystem              a message-passing system (nodes, invariants, checkers, variants)
 *   defineProtocol            a workflow protocol as rules over the shared workflow runtime
 *   defineWorkload            workflow functions plus a request generator and initial rows
 *   checkers, invariants      linearizability, liveness, exactly-once, log accounting
 *   run/sweep/check/replay/shrink   the commands, returning what `halfmoon <cmd> --json` prints
 *
 * The built-ins register through these same functions (src/systems/*.ts, src/halfmoon/protocols.ts,
 * src/halfmoon/workloads/index.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { filePlugins } from '../plugins.ts';
import { InputError } from '../../src/core/assert.ts';
import { SYSTEMS } from '../../src/systems/index.ts';
import { loadPlugins } from '../../src/scenario/plugins.ts';
import { checkCommand } from '../cli/commands/check.ts';
import { replayCommand } from '../cli/commands/replay.ts';
import { runCommand } from '../cli/commands/run.ts';
import { shrinkCommand } from '../cli/commands/shrink.ts';
import { sweepCommand } from '../cli/commands/sweep.ts';
import type { Command, Io } from '../cli/commands/types.ts';
// The CLI's command list loads the explorer's trace replayer, as `halfmoon replay` does.
import '../cli/commands/index.ts';

// ---- the machine contract
export type { Ctx, DiskImage, Effect, Input, Machine, NodeId, StepResult } from '../../src/core/contract.ts';
export { cancelTimer, fatal, NO_EFFECTS, persist, record, reply, request, send, setTimer } from '../../src/core/contract.ts';
export type { Checker, FaultRecord, FinishedRun, HistoryEvent, Invariant, NodeSpec, SystemDef, SystemInstance, VariantDef, Violation, WireChecks, WorldView } from '../../src/core/system.ts';
export { InputError } from '../../src/core/assert.ts';

// ---- registries
export { defineSystem, systemNames } from '../../src/systems/index.ts';
export { BUILTIN_RULES, defineProtocol, protocolByName, protocolNames, type ProtocolDef, type Rules, RULE_PARTS } from '../../src/halfmoon/protocols.ts';
export { defineWorkload, pick, valueOf, workloadNames, type Rand, type Workload } from '../../src/halfmoon/workloads/index.ts';
export type { FunctionRegistry, WfContext, WorkflowFn } from '../../src/halfmoon/program.ts';
export type { Json, Mode } from '../../src/halfmoon/records.ts';
export type { OpIO, Scratch } from '../../src/halfmoon/steps.ts';
export { HALFMOON_VARIANTS } from '../../src/halfmoon/variants.ts';

// ---- checkers and invariants
export { checkLinearizable, type HistOp, type LinResult, registerSpec, type RegInput, type RegOutput, type SeqSpec } from '../../proofs/linearizability.ts';
export { type CallRet, callsAndReturns, livenessChecker } from '../../proofs/liveness.ts';
export { exactlyOnceChecker } from '../../proofs/exactly-once.ts';
export { formula, logAccountingChecker } from '../../proofs/accounting.ts';
/** The register system's workload driver: C clients, each running operations one at a time (read/write). */
export { regDriverMachine as registerDriverMachine, driverDone as registerDriverDone, type RegDriverConfig, type RegDriverState } from '../../src/register/driver.ts';

import { checkLinearizable, type SeqSpec } from '../../proofs/linearizability.ts';
import { callsAndReturns } from '../../proofs/liveness.ts';
import type { Checker } from '../../src/core/system.ts';

/** A checker: the history's client operations are linearizable with respect to `spec`. */
export function linearizabilityChecker<S, I, O>(spec: SeqSpec<S, I, O>, stepsMax = 2_000_000, name = 'linearizability'): Checker {
  return {
    name,
    check(run) {
      const ops = callsAndReturns(run.history).map((c) => ({ id: c.reqId, client: c.node, call: c.call, ret: c.ret, input: c.input as I, output: c.output as O | undefined }));
      const r = checkLinearizable(spec, ops, stepsMax);
      if (r.verdict === 'violated') return [{ invariant: name, message: r.message }];
      if (r.verdict === 'unknown') return [{ invariant: `${name}-unknown`, message: r.reason }];
      return [];
    },
  };
}

/** The variants a registered system declares. */
export function variantsOf(system: string): readonly { name: string; description: string; exposedBy: string }[] {
  const def = SYSTEMS[system];
  if (!def) throw new InputError(`unknown system '${system}' (known: ${Object.keys(SYSTEMS).join(', ')})`);
  return def.variants;
}

// ---- programmatic commands

/** Options every command takes. */
export interface CommonOptions {
  /** Plugin modules to load first (as `--plugin`), relative to the current directory. */
  readonly plugins?: readonly string[];
}

export interface ScenarioOptions extends CommonOptions {
  /** A scenario name (`halfmoon scenarios`) or a YAML file; its `plugins:` load too. */
  readonly scenario: string;
  /** System parameters and dotted scenario fields, as `--set k=v`. */
  readonly set?: Readonly<Record<string, unknown>>;
  readonly variant?: string | null;
  readonly protocol?: string;
}

/** What a command printed with --json, and its exit code (0 held, 1 a violation). */
export type Report = Record<string, unknown> & { readonly exitCode: number };

function setArgs(set: Readonly<Record<string, unknown>> | undefined): string[] {
  return Object.entries(set ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

async function invoke(cmd: Command, values: Record<string, unknown>, positionals: string[], o: CommonOptions & { scenario?: string }): Promise<Report> {
  await loadPlugins(o.plugins ?? []);
  if (o.scenario !== undefined && (o.scenario.includes('/') || /\.ya?ml$/.test(o.scenario))) {
    const listed = filePlugins(resolve(o.scenario));
    if (listed.length > 0) await loadPlugins(listed, dirname(resolve(o.scenario)));
  }
  const out: string[] = [];
  const io: Io = { out: (s) => out.push(s), err: () => {}, progress: null };
  const clean = Object.fromEntries(Object.entries({ ...values, json: true }).filter(([, v]) => v !== undefined && v !== null));
  const exitCode = await cmd.run(clean, positionals, io);
  const last = out[out.length - 1];
  if (last === undefined) throw new Error(`halfmoon ${cmd.name}: printed nothing`);
  return { ...(JSON.parse(last) as Record<string, unknown>), exitCode };
}

export interface RunOptions extends ScenarioOptions {
  readonly seed?: number;
  /** Write the run's JSONL trace here (for `halfmoon view` and `halfmoon replay`). */
  readonly trace?: string;
}

/** One simulated run: the object `halfmoon run --json` prints, plus `exitCode`. */
export function run(o: RunOptions): Promise<Report> {
  return invoke(runCommand, { scenario: o.scenario, seed: String(o.seed ?? 1), set: setArgs(o.set), variant: o.variant ?? undefined, protocol: o.protocol, trace: o.trace }, [], o);
}

export interface SweepOptions extends ScenarioOptions {
  /** Inclusive seed range [from, to]. */
  readonly seeds: readonly [number, number];
  readonly workers?: number;
  readonly failFast?: boolean;
  /** Shrink the first failing seeds into `dir`/shrunk-seed-<seed>.jsonl. */
  readonly shrink?: { readonly dir: string; readonly max?: number; readonly runs?: number };
}

/** Many seeds: the object `halfmoon sweep --json` prints, plus `exitCode`. */
export function sweep(o: SweepOptions): Promise<Report> {
  return invoke(
    sweepCommand,
    {
      scenario: o.scenario,
      seeds: `${o.seeds[0]}..${o.seeds[1]}`,
      set: setArgs(o.set),
      variant: o.variant ?? undefined,
      protocol: o.protocol,
      workers: o.workers === undefined ? undefined : String(o.workers),
      'fail-fast': o.failFast === true ? true : undefined,
      shrink: o.shrink ? true : undefined,
      'shrink-dir': o.shrink?.dir,
      'shrink-max': o.shrink?.max === undefined ? undefined : String(o.shrink.max),
      'shrink-runs': o.shrink?.runs === undefined ? undefined : String(o.shrink.runs),
    },
    [],
    o,
  );
}

export interface CheckOptions extends CommonOptions {
  /** 2pc, register, wf-tiny, log-tiny or system:<name>. */
  readonly model: string;
  readonly strategy?: 'bfs' | 'dfs' | 'random' | 'pct' | 'coverage';
  readonly depth?: number;
  readonly maxStates?: number;
  readonly set?: Readonly<Record<string, unknown>>;
  readonly variant?: string | null;
  readonly protocol?: string;
  readonly symmetry?: boolean;
  readonly seed?: number;
  readonly walks?: number;
  /** Write the first counterexample as a trace here. */
  readonly trace?: string;
}

/** Model checking: the object `halfmoon check --json` prints, plus `exitCode`. */
export function check(o: CheckOptions): Promise<Report> {
  const n = (x: number | undefined) => (x === undefined ? undefined : String(x));
  return invoke(
    checkCommand,
    { model: o.model, strategy: o.strategy, depth: n(o.depth), 'max-states': n(o.maxStates), set: setArgs(o.set), variant: o.variant ?? undefined, protocol: o.protocol, symmetry: o.symmetry ? true : undefined, seed: n(o.seed), walks: n(o.walks), trace: o.trace },
    [],
    o,
  );
}

/** Re-runs a trace: the object `halfmoon replay --json` prints, plus `exitCode`. */
export function replay(trace: string, o: CommonOptions & { readonly fromSeed?: boolean } = {}): Promise<Report> {
  return invoke(replayCommand, { 'from-seed': o.fromSeed ? true : undefined }, [trace], o);
}

/** Minimises a failing trace: the object `halfmoon shrink --json` prints, plus `exitCode`. */
export function shrink(trace: string, o: CommonOptions & { readonly out?: string; readonly runs?: number; readonly invariant?: string } = {}): Promise<Report> {
  return invoke(shrinkCommand, { out: o.out, runs: o.runs === undefined ? undefined : String(o.runs), invariant: o.invariant }, [trace], o);
}

/** Reads a JSONL trace file into its records (header first). */
export function readTraceRecords(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** A fresh temporary folder (for traces); `remove` deletes it. */
export function tempDir(prefix = 'halfmoon-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
