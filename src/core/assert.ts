/**
 * Assertions that stay on in every mode (TIGER_STYLE): a simulator run is cheap to repeat, a
 * silent corruption is not. A failed assertion is a bug in a machine or in the framework, never an
 * expected protocol outcome; expected failures are effects or state variants.
 */

/** Thrown by `assert`; tagged so it is recognised across worker-thread boundaries. */
export class AssertionFailure extends Error {
  readonly tag = 'AssertionFailure' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AssertionFailure';
  }
}

export function assert(cond: unknown, why: string): asserts cond {
  if (!cond) throw new AssertionFailure(why);
}

/** Exhaustiveness for `switch` over discriminated unions. */
export function assertNever(x: never, what = 'value'): never {
  throw new AssertionFailure(`unexpected ${what}: ${JSON.stringify(x, bigintReplacer)}`);
}

/** Integer in [lo, hi], for limits and sizes. */
export function assertInt(x: number, lo: number, hi: number, what: string): void {
  if (!Number.isInteger(x)) throw new AssertionFailure(`${what} must be an integer, got ${x}`);
  if (x < lo) throw new AssertionFailure(`${what} must be >= ${lo}, got ${x}`);
  if (x > hi) throw new AssertionFailure(`${what} must be <= ${hi}, got ${x}`);
}

function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? hex16(v) : v;
}

/** Fixed-width lower-case hex of a 64-bit unsigned value, so lexicographic order is numeric. */
export function hex16(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

/**
 * Thrown for bad user input (CLI, scenario files, traces): one line, exit code 2. Messages quote
 * what the user gave (a key, a name, a value), so control characters in it (a carriage return,
 * a NUL from a binary file) are shown escaped: the line stays one line on any terminal.
 */
export class InputError extends Error {
  readonly tag = 'InputError' as const;
  constructor(message: string) {
    // eslint-disable-next-line no-control-regex
    super(message.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    this.name = 'InputError';
  }
}

export function isInputError(e: unknown): e is InputError {
  return typeof e === 'object' && e !== null && (e as { tag?: unknown }).tag === 'InputError';
}
