/**
 * From a scenario to a system instance: the one place every runtime (simulator, explorer, real)
 * resolves a scenario's overrides, variant and parameters against its system and builds the
 * machines. It sits above the systems registry and below the runtimes, so the simulator and the
 * real runtime are peers that share it rather than one importing the other.
 */
import { InputError } from '../core/assert.ts';
import { unknownKeyMessage } from '../core/suggest.ts';
import type { SystemDef, SystemInstance } from '../core/system.ts';
import { SYSTEMS } from '../systems/index.ts';
import { applyOverrides, loadScenario, type Scenario } from './scenario.ts';

/** What names a scenario to run: a name, a path or a resolved scenario, with overrides. */
export interface ScenarioRequest {
  /** A scenario name, a path, or an already resolved scenario. */
  readonly scenario: string | Scenario;
  readonly sets?: readonly (readonly [string, unknown])[];
  readonly variant?: string | null;
}

export function systemOf(s: Scenario): SystemDef<Record<string, unknown>> {
  const sys = SYSTEMS[s.system];
  if (!sys) throw new InputError(`scenario ${s.name}: system: unknown system '${s.system}' (known: ${Object.keys(SYSTEMS).join(', ')})`);
  return sys;
}

/** Scenario with overrides and variant applied, validated against its system. */
export function resolveScenario(req: ScenarioRequest): Scenario {
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
      throw new InputError(`scenario ${s.name}: params.${k}: ${unknownKeyMessage(k, Object.keys(defaults), 'parameter')} for system '${sys.name}'`);
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

