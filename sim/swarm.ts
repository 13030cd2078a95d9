/**
 * Swarm testing (Groce, Zhang, Eide, Chen and Regehr, ISSTA 2012): instead of one nemesis that
 * mixes every fault kind at fixed rates, each seed draws its own configuration from the scenario's
 * fault budget: a random non-empty subset of the kinds the budget allows, each kept kind's weight,
 * the mean interval between injections and the link-fault probabilities. Runs then differ in kind
 * and not only in timing, so a bug that one fault kind exposes is not drowned by the others.
 *
 * Every choice comes from the run's decision source under 'swarm:' labels, so it is deterministic
 * from the seed, recorded in decision logs and replayed; a zero choice (what the shrinker tries
 * first) omits a kind and gives the lowest rates.
 */
import { RANDOM_FAULT_KINDS, type RandomFaultKind, type RandomFaults } from '../src/scenario/scenario.ts';

export interface SwarmChooser {
  float(label: string): number;
  int(label: string, lo: number, hi: number): number;
  bool(label: string, p: number): boolean;
}

/** One seed's fault configuration, drawn from the budget. */
export function swarmFaults(budget: RandomFaults, d: SwarmChooser): RandomFaults {
  const allowed = RANDOM_FAULT_KINDS.filter((k) => (budget.kinds[k] ?? 0) > 0);
  if (allowed.length === 0) return budget;
  let kept: RandomFaultKind[] = allowed.filter((k) => d.bool(`swarm:keep:${k}`, 0.5));
  if (kept.length === 0) kept = [allowed[d.int('swarm:only', 0, allowed.length - 1)]!];
  const kinds: Partial<Record<RandomFaultKind, number>> = {};
  // Each kept kind's weight: a quarter to the whole of its budgeted weight.
  for (const k of kept) kinds[k] = budget.kinds[k]! * (0.25 + 0.75 * d.float(`swarm:weight:${k}`));
  // The injection rate: half to twice the budget's mean interval.
  const meanIntervalUs = Math.max(1, Math.round(budget.meanIntervalUs * (0.5 + 1.5 * d.float('swarm:interval'))));
  const scale = (p: number, label: string) => p * d.float(label);
  return {
    ...budget,
    kinds,
    meanIntervalUs,
    maxDown: budget.maxDown <= 1 ? budget.maxDown : d.int('swarm:maxDown', 1, budget.maxDown),
    linkDrop: kept.includes('linkFault') ? scale(budget.linkDrop, 'swarm:linkDrop') : budget.linkDrop,
    linkDuplicate: kept.includes('linkFault') ? scale(budget.linkDuplicate, 'swarm:linkDuplicate') : budget.linkDuplicate,
    linkReorder: kept.includes('linkFault') ? scale(budget.linkReorder, 'swarm:linkReorder') : budget.linkReorder,
  };
}
