/**
 * One simulated run, from a scenario name (or file, or resolved scenario) and a seed to a result:
 * the glue shared by the CLI, sweeps, worker threads, replay and tests.
 */
import { InputError } from '../src/core/assert.ts';
import type { FinishedRun, SystemDef, SystemInstance } from '../src/core/system.ts';
import { SYSTEMS } from '../src/systems/index.ts';
import type { DecisionLog, MismatchPolicy } from './decisions.ts';
import { checkSeed } from './rng.ts';
import { applyOverrides, loadScenario, type Scenario } from './scenario.ts';
import { type RunResult, Simulator } from './simulator.ts';
import { FileTraceSink, type TraceSink } from './trace.ts';

export interface RunRequest {
  /** A scenario name, a path, or an already resolved scenario. */
  readonly scenario: string | Scenario;
  readonly seed: number;
  readonly sets?: readonly (readonly [string, unknown])[];
  readonly variant?: string | null;
  readonly tracePath?: string | null;
  readonly traceSink?: TraceSink | null;
  readonly traceStates?: boolean;
  readonly recordDecisions?: boolean;
  readonly replay?: DecisionLog;
  readonly onMismatch?: MismatchPolicy;
  readonly checks?: boolean;
  /**
   * A further analysis of the finished run (its history and final states, after the checkers),
   * given the system's report; its result becomes the report's `analysis` field.
   */
  readonly analyze?: (run: FinishedRun, report: Readonly<Record<string, unknown>>) => unknown;
}

export function systemOf(s: Scenario): SystemDef<Record<string, unknown>> {
  const sys = SYSTEMS[s.system];
  if (!sys) throw new InputError(`scenario ${s.name}: system: unknown system '${s.system}' (known: ${Object.keys(SYSTEMS).join(', ')})`);
  return sys;
}

/** Scenario with overrides and variant applied, validated against its system. */
export function resolveScenario(req: Pick<RunRequest, 'scenario' | 'sets' | 'variant'>): Scenario {
  let s = typeof req.scenario === 'string' ? loadScenario(req.scenario) : req.scenario;
  const where = typeof req.scenario === 'string' ? req.scenario : s.name;
  s = applyOverrides(s, req.sets ?? [], where);
  if (req.variant !== undefined && req.variant !== null) s = { ...s, variant: req.variant };
  resolveParams(s);
  return s;
}

/** The system's parameters: defaults overridden by the scenario, checked for names and types. */
export function resolveParams(s: Scenario): Record<string, unknown> {
  const sys = systemOf(s);
  const defaults = sys.defaults;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(s.params)) {
    if (!(k in defaults)) {
      throw new InputError(`scenario ${s.name}: params.${k}: unknown parameter for system '${sys.name}' (known: ${Object.keys(defaults).join(', ')})`);
    }
    const want = typeof defaults[k];
    const d = defaults[k];
    if (d !== null && typeof v !== want) {
      throw new InputError(`scenario ${s.name}: params.${k}: expected a ${want}, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  if (s.variant !== null && !sys.variants.some((v) => v.name === s.variant)) {
    throw new InputError(`unknown variant '${s.variant}' for system '${sys.name}' (known: ${sys.variants.map((v) => v.name).join(', ') || 'none'})`);
  }
  sys.validate?.(out);
  return out;
}

export function buildInstance(s: Scenario): SystemInstance {
  const sys = systemOf(s);
  return sys.build(resolveParams(s), s.variant);
}

/** The command line that reproduces a run. */
export function replayCommand(s: Scenario, seed: number, sets: readonly (readonly [string, unknown])[] = [], scenarioArg?: string): string {
  const parts = ['halfmoon', 'run', '--scenario', scenarioArg ?? s.name, '--seed', String(seed)];
  for (const [k, v] of sets) parts.push('--set', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (s.variant) parts.push('--variant', s.variant);
  return parts.join(' ');
}

export function runOnce(req: RunRequest): RunResult {
  checkSeed(req.seed);
  const scenario = resolveScenario(req);
  const built = buildInstance(scenario);
  const analyze = req.analyze;
  const instance: SystemInstance = analyze
    ? {
        ...built,
        report: (run) => {
          const base = built.report ? built.report(run) : {};
          return { ...base, analysis: analyze(run, base) };
        },
      }
    : built;
  const trace = req.traceSink ?? (req.tracePath ? new FileTraceSink(req.tracePath) : null);
  const sim = new Simulator({
    scenario,
    instance,
    seed: req.seed,
    trace,
    traceStates: req.traceStates ?? trace !== null,
    recordDecisions: req.recordDecisions ?? trace !== null,
    ...(req.replay ? { replay: req.replay } : {}),
    ...(req.onMismatch ? { onMismatch: req.onMismatch } : {}),
    checks: req.checks ?? false,
    replayCommand: replayCommand(scenario, req.seed, req.sets ?? [], typeof req.scenario === 'string' ? req.scenario : undefined),
  });
  return sim.run();
}
