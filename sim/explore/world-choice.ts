/**
 * Choices inside one machine step: the `Ctx` a node steps with under the explorer. `ctx.maybe` and
 * the branching `ctx.randomU32` labels answer from a forced prefix (the choices an action names),
 * then take option 0 and record each choice's arity, so the model can fork the other options as
 * actions of their own. Other random draws are derived from the stepping node's own state and
 * input, so a step is a function of that node alone.
 */
import { AssertionFailure } from '../../src/core/assert.ts';
import type { Ctx, NodeId } from '../../src/core/contract.ts';
import { Hash64, strHash32 } from '../../src/core/hash.ts';
import { CHOICES_MAX, type WorldOptions } from './world-state.ts';

/** What a step's context needs from its model. */
export interface ChoiceHost {
  readonly opts: WorldOptions;
  branchValues(self: NodeId, label: string): readonly number[] | null;
}

/** A path that asks a step for a choice it does not offer: the model changed, not the machine. */
export class ChoiceError extends AssertionFailure {}

/**
 * The context a machine steps with. Branching choices answer from a forced prefix, then take
 * option 0 and record how many options there were, so the caller can fork the others.
 */
export class ChoiceCtx implements Ctx {
  readonly answers: number[] = [];
  readonly arities: number[] = [];
  /** How many maybe choices came out true. */
  maybesUsed = 0;
  private draws = 0;
  constructor(
    readonly self: NodeId,
    readonly nowUs: number,
    private readonly forced: readonly number[],
    readonly seedA: number,
    readonly seedB: number,
    private readonly maybesLeft: number,
    private readonly m: ChoiceHost,
  ) {}
  private choose(arity: number, label: string): number {
    const j = this.answers.length;
    if (j >= CHOICES_MAX) throw new ChoiceError(`${this.self}: more than ${CHOICES_MAX} branching choices in one step (${label})`);
    const v = j < this.forced.length ? this.forced[j]! : 0;
    if (v >= arity) throw new ChoiceError(`${this.self}: choice ${j} (${label}) has ${arity} options, the path asks for option ${v}`);
    this.answers.push(v);
    this.arities.push(arity);
    return v;
  }
  maybe(label: string, p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new AssertionFailure(`ctx.maybe(${label}): probability ${p} outside [0, 1]`);
    if (p === 0) return false;
    if (p === 1) return true;
    if (this.m.opts.maybe === 'never' || this.maybesUsed >= this.maybesLeft) return false;
    const yes = this.choose(2, label) === 1;
    if (yes) this.maybesUsed++;
    return yes;
  }
  randomU32(label: string): number {
    const values = this.m.branchValues(this.self, label);
    if (values !== null) return values[this.choose(values.length, label)]!;
    const h = new Hash64(this.seedA).u32(this.seedB).u32(strHash32(label)).u32(this.draws++);
    return h.finish()[0] >>> 0;
  }
}
