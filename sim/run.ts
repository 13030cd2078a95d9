/**
 * One simulated run, from a scenario name (or file, or resolved scenario) and a seed to a result:
 * the glue shared by the CLI, sweeps, worker threads, replay and tests.
 */
import type { FinishedRun, SystemInstance } from '../src/core/system.ts';
import type { DecisionLog, MismatchPolicy } from './decisions.ts';
import { checkSeed } from './rng.ts';
import { buildInstance, replayCommand, resolveScenario, type ScenarioRequest } from '../src/scenario/instance.ts';
import { type RunResult, Simulator } from './simulator.ts';
import { FileTraceSink, type TraceLevel, type TraceSink } from './trace.ts';

export interface RunRequest extends ScenarioRequest {
  readonly seed: number;
  readonly tracePath?: string | null;
  readonly traceSink?: TraceSink | null;
  readonly traceStates?: boolean;
  /** What a trace records of states (default 'states' when tracing, what the viewer needs). */
  readonly traceLevel?: TraceLevel;
  /** Keep only the last this many steps in the trace file (the ones leading to the violation). */
  readonly traceWindow?: number | null;
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
  const trace = req.traceSink ?? (req.tracePath ? new FileTraceSink(req.tracePath, { window: req.traceWindow ?? null }) : null);
  const sim = new Simulator({
    scenario,
    instance,
    seed: req.seed,
    trace,
    traceLevel: req.traceLevel ?? (req.traceStates ?? trace !== null ? 'states' : 'events'),
    recordDecisions: req.recordDecisions ?? trace !== null,
    ...(req.replay ? { replay: req.replay } : {}),
    ...(req.onMismatch ? { onMismatch: req.onMismatch } : {}),
    checks: req.checks ?? false,
    replayCommand: replayCommand(scenario, req.seed, req.sets ?? [], typeof req.scenario === 'string' ? req.scenario : undefined),
  });
  return sim.run();
}
