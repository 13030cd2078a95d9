import type { ParseArgsConfig } from 'node:util';
import type { Progress } from '../progress.ts';

/** Where a command writes: stdout for results (JSON when asked), stderr for people. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Rewrites a one-line status on a TTY; null when stderr is not a terminal. */
  progress: ((line: string) => void) | null;
  /**
   * A progress reporter for long work (a bar on a terminal, a line every ~10 s otherwise), or
   * absent (tests, embedding): then nothing is shown.
   */
  startProgress?: (label: string, unit: string, json: boolean) => Progress | null;
}

export interface Command {
  readonly name: string;
  /** One line for `halfmoon --help`. */
  readonly summary: string;
  /** The full `--help` text. */
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes (default 0). */
  readonly positionals?: number;
  run(values: Record<string, unknown>, positionals: readonly string[], io: Io): Promise<number> | number;
}
