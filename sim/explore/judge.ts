/**
 * Shared by every search strategy: how a state is keyed (fingerprint, symmetry, the bits of
 * `eventually` properties still owed along the path), how properties are judged, and how results
 * are assembled.
 */
import { assert } from '../../src/core/assert.ts';
import type { Discovery, ExploreOptions, ExploreResult, Fp, Model, Path, Property, PropertyKind } from './model.ts';

/** At most this many `eventually` properties per model (they share one int of bits). */
export const EVENTUALLY_MAX = 30;

export class StateKey<S, A> {
  readonly eventually: readonly Extract<Property<S>, { kind: 'eventually' }>[];
  /** Bits of every eventually property: the value for a path where none has held yet. */
  readonly ebitsAll: number;
  private readonly sym: boolean;

  constructor(
    readonly model: Model<S, A>,
    symmetry: boolean,
  ) {
    this.eventually = model.properties.filter((p): p is Extract<Property<S>, { kind: 'eventually' }> => p.kind === 'eventually');
    assert(this.eventually.length <= EVENTUALLY_MAX, `at most ${EVENTUALLY_MAX} eventually properties`);
    this.ebitsAll = this.eventually.length === 0 ? 0 : (1 << this.eventually.length) - 1;
    this.sym = symmetry && model.symmetry !== null;
  }

  /** The eventually bits after visiting `s` with `ebits` still owed before it. */
  settle(s: S, ebits: number): number {
    if (ebits === 0) return 0;
    for (let i = 0; i < this.eventually.length; i++) {
      if ((ebits & (1 << i)) !== 0 && this.eventually[i]!.holds(s)) ebits &= ~(1 << i);
    }
    return ebits;
  }

  /**
   * The key a state is deduplicated under: its (canonical, under symmetry) fingerprint, with the
   * owed eventually bits folded in, so that one state reached along paths that owe different
   * properties counts as different search states (Stateright's DAG-join false negative, avoided).
   */
  key(s: S, ebits: number, out: Fp): void {
    if (this.sym) this.model.symmetry!.canonicalFingerprint(s, out);
    else this.model.fingerprint(s, out);
    if (ebits !== 0) {
      out[0] = out[0]! ^ Math.imul(ebits, 0x9e3779b1);
      out[1] = out[1]! ^ Math.imul(ebits + 0x7f4a7c15, 0x85ebca6b);
    }
  }
}

/** Judges properties and collects discoveries. */
export class Judge<S, A> {
  private readonly always: Extract<Property<S>, { kind: 'always' }>[];
  private readonly finals: Extract<Property<S>, { kind: 'final' }>[];
  private readonly pending: Extract<Property<S>, { kind: 'sometimes' }>[];
  readonly witnesses: Record<string, Discovery<S, A> | null> = {};
  readonly violations: Discovery<S, A>[] = [];

  constructor(
    model: Model<S, A>,
    private readonly key: StateKey<S, A>,
    private readonly violationsMax: number,
  ) {
    this.always = model.properties.filter((p): p is Extract<Property<S>, { kind: 'always' }> => p.kind === 'always');
    this.finals = model.properties.filter((p): p is Extract<Property<S>, { kind: 'final' }> => p.kind === 'final');
    this.pending = model.properties.filter((p): p is Extract<Property<S>, { kind: 'sometimes' }> => p.kind === 'sometimes');
    for (const p of this.pending) this.witnesses[p.name] = null;
    const names = new Set<string>();
    for (const p of model.properties) {
      assert(!names.has(p.name), `${model.name}: two properties named '${p.name}'`);
      names.add(p.name);
    }
  }

  get done(): boolean {
    return this.violations.length >= this.violationsMax;
  }

  /** Checks `always` properties; returns the first failure. */
  checkAlways(s: S): { property: string; message: string } | null {
    const ps = this.always;
    for (let i = 0; i < ps.length; i++) {
      const m = ps[i]!.check(s);
      if (m !== null) return { property: ps[i]!.name, message: m };
    }
    return null;
  }

  /** Checks pending `sometimes` properties; `path` builds the witness lazily. */
  checkSometimes(s: S, path: () => Path<S, A>): void {
    if (this.pending.length === 0) return;
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      if (!p.holds(s)) continue;
      this.witnesses[p.name] = { property: p.name, kind: 'sometimes', message: `reached after ${path().steps.length} steps`, path: path() };
      this.pending.splice(i, 1);
      i--;
    }
  }

  /** Records a witness found elsewhere (by a worker of a parallel search). */
  witnessed(d: Discovery<S, A>): void {
    const i = this.pending.findIndex((p) => p.name === d.property);
    if (i < 0) return;
    this.witnesses[d.property] = d;
    this.pending.splice(i, 1);
  }

  /** Final properties and owed eventually properties at a terminal (or truncated) state. */
  checkFinal(s: S, ebits: number, truncated: boolean): { property: string; kind: PropertyKind; message: string } | null {
    for (const p of this.finals) {
      const m = p.check(s, truncated);
      if (m !== null) return { property: p.name, kind: 'final', message: m };
    }
    if (!truncated && ebits !== 0) {
      const i = Math.clz32(0) - 1 - Math.clz32(ebits & -ebits);
      const p = this.key.eventually[i]!;
      return { property: p.name, kind: 'eventually', message: `a path ended in a terminal state without '${p.name}' ever holding` };
    }
    return null;
  }

  get hasFinals(): boolean {
    return this.finals.length > 0 || this.key.eventually.length > 0;
  }

  record(property: string, kind: PropertyKind, message: string, path: Path<S, A>): void {
    this.violations.push({ property, kind, message, path });
  }

  unwitnessed(): string[] {
    return this.pending.map((p) => p.name);
  }
}

export interface Counters {
  statesGenerated: number;
  uniqueStates: number;
  maxDepth: number;
  depthLimitHit: boolean;
  bytes: number;
}

/** Assembles a result: the verdict follows from discoveries, completeness and witnesses. */
export function finish<S, A>(
  model: Model<S, A>,
  opts: ExploreOptions,
  judge: Judge<S, A>,
  c: Counters,
  wallMs: number,
  stopReason: string | null,
  extra: { walks?: number; exhaustive: boolean },
): ExploreResult<S, A> {
  const complete = extra.exhaustive && stopReason === null;
  const missing = judge.unwitnessed();
  const violations = [...judge.violations];
  let verdict: ExploreResult<S, A>['verdict'];
  if (violations.length > 0) verdict = 'fail';
  else if (complete && missing.length > 0) verdict = 'fail';
  else verdict = complete ? 'pass' : 'unknown';
  const seconds = Math.max(wallMs, 0.001) / 1000;
  return {
    model: model.name,
    strategy: opts.strategy,
    symmetry: opts.symmetry && model.symmetry !== null,
    por: opts.por && model.independent !== undefined,
    verdict,
    complete,
    depthLimitHit: c.depthLimitHit,
    stopReason,
    violations,
    witnesses: { ...judge.witnesses },
    statesGenerated: c.statesGenerated,
    uniqueStates: c.uniqueStates,
    maxDepth: c.maxDepth,
    wallMs: Math.round(wallMs * 10) / 10,
    statesPerSecond: Math.round(c.uniqueStates / seconds),
    bytesPerState: c.uniqueStates > 0 ? Math.round((c.bytes / c.uniqueStates) * 10) / 10 : 0,
    ...(extra.walks !== undefined ? { walks: extra.walks } : {}),
  };
}

/** Unwitnessed sometimes properties of a complete search, as the reason it failed. */
export function vacuityMessage(missing: readonly string[], unique: number): string {
  return `never reached in ${unique} states: ${missing.map((m) => `'${m}'`).join(', ')} (the model is vacuous for it)`;
}
