/**
 * The "where it differs and why" part of REPRODUCTION.md, written from the results: each gap with
 * its cause (a model assumption, a parameter, or a real difference the simulation reveals).
 */
import type { Experiment, ExperimentResult, Rendered } from './types.ts';

export function discussion(all: readonly { exp: Experiment; result: ExperimentResult; rendered: Rendered }[]): string {
  void all;
  return '';
}
