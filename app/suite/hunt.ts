/**
 * Measured bug-finding power: for every named variant of every system, the default suite's entry
 * for it is run seed after seed (from the entry's first seed, past its range if need be) until a
 * seed is caught, once with the plain nemesis and once with the swarm nemesis. Seeds and CPU
 * seconds to detection are the figures; CPU time (this process, one core) rather than wall time,
 * so a loaded machine does not inflate them. A variant whose suite entries all expect a pass is
 * reported with the entry's reason instead.
 */
import { SYSTEMS } from '../../src/systems/index.ts';
import { runOnce } from '../../sim/run.ts';
import { entrySets, type Suite, type SuiteEntry } from './spec.ts';

export interface Detection {
  readonly caught: boolean;
  /** Seeds run, up to and including the first caught one. */
  readonly seeds: number;
  readonly seed: number | null;
  readonly cpuS: number;
  readonly invariant: string | null;
}

export interface HuntRow {
  readonly system: string;
  readonly variant: string;
  readonly entry: string | null;
  readonly why: string | null;
  readonly plain: Detection | null;
  readonly swarm: Detection | null;
}

export interface HuntOptions {
  readonly maxSeeds: number;
  readonly maxCpuS: number;
  /** CPU milliseconds used so far (the front end's clock). */
  readonly cpuMs: () => number;
  readonly only?: readonly string[];
  readonly onProgress?: (done: number, total: number, failing: number, note: string) => void;
}

export function detect(e: SuiteEntry, swarm: boolean, opts: HuntOptions): Detection {
  const sets = entrySets(e, swarm);
  const c0 = opts.cpuMs();
  for (let i = 0; i < opts.maxSeeds; i++) {
    const seed = e.from + i;
    const r = runOnce({ scenario: e.scenario, seed, sets, variant: e.variant });
    const cpuS = (opts.cpuMs() - c0) / 1000;
    if (r.violations.length > 0) return { caught: true, seeds: i + 1, seed, cpuS, invariant: r.violations[0]!.invariant };
    if (cpuS >= opts.maxCpuS) return { caught: false, seeds: i + 1, seed: null, cpuS, invariant: null };
  }
  return { caught: false, seeds: opts.maxSeeds, seed: null, cpuS: (opts.cpuMs() - c0) / 1000, invariant: null };
}

export function hunt(suite: Suite, opts: HuntOptions): HuntRow[] {
  const variants = Object.values(SYSTEMS).flatMap((s) => s.variants.map((v) => ({ system: s.name, variant: v.name }))).filter((v) => !opts.only || opts.only.includes(v.variant));
  const rows: HuntRow[] = [];
  let uncaught = 0;
  variants.forEach((v, i) => {
    opts.onProgress?.(i, variants.length, uncaught, `${v.system} ${v.variant}`);
    const entries = suite.entries.filter((e) => e.system === v.system && e.variant === v.variant);
    const e = entries.find((x) => x.expect === 'violation') ?? null;
    if (e === null) {
      rows.push({ system: v.system, variant: v.variant, entry: entries[0]?.name ?? null, why: entries[0]?.why ?? 'no entry in the suite', plain: null, swarm: null });
      uncaught++;
      return;
    }
    const plain = detect(e, false, opts);
    const swarm = detect(e, true, opts);
    if (!plain.caught) uncaught++;
    rows.push({ system: v.system, variant: v.variant, entry: e.name, why: e.why, plain, swarm });
  });
  opts.onProgress?.(variants.length, variants.length, uncaught, 'done');
  return rows;
}

/**
 * The swarm comparison where it matters: each variant of a system on that system's all-faults
 * mix (every kind at once), where the faults that do not expose a bug dilute the one that does.
 * Only the register's mix is cheap enough to hunt on routinely (log-chaos and wf-crash-storm take
 * seconds per seed).
 */
export const MIXED: readonly { readonly system: string; readonly scenario: string }[] = [{ system: 'register', scenario: 'register-chaos' }];

export interface MixedRow {
  readonly system: string;
  readonly scenario: string;
  readonly variant: string;
  readonly plain: Detection;
  readonly swarm: Detection;
}

export function huntMixed(opts: HuntOptions & { readonly mixedSeeds: number }): MixedRow[] {
  const rows: MixedRow[] = [];
  for (const m of MIXED) {
    const sys = SYSTEMS[m.system]!;
    for (const v of sys.variants) {
      if (opts.only && !opts.only.includes(v.name)) continue;
      const e: SuiteEntry = { name: `${m.scenario}/${v.name}`, scenario: m.scenario, protocol: null, variant: v.name, sets: [], from: 1, to: opts.mixedSeeds, expect: 'violation', timeBudgetS: null, swarm: false, why: null, system: m.system };
      const o = { ...opts, maxSeeds: opts.mixedSeeds };
      rows.push({ system: m.system, scenario: m.scenario, variant: v.name, plain: detect(e, false, o), swarm: detect(e, true, o) });
    }
  }
  return rows;
}

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface HuntStats {
  readonly variants: number;
  readonly measured: number;
  readonly caughtPlain: number;
  readonly caughtSwarm: number;
  readonly medianSeedsPlain: number;
  readonly medianSeedsSwarm: number;
  readonly medianCpuSPlain: number;
  readonly medianCpuSSwarm: number;
  readonly slowestPlain: { variant: string; cpuS: number; seeds: number } | null;
  readonly slowestSwarm: { variant: string; cpuS: number; seeds: number } | null;
  readonly over10sPlain: readonly string[];
  readonly swarmFaster: number;
  readonly plainFaster: number;
  readonly ties: number;
}

export function huntStats(rows: readonly HuntRow[]): HuntStats {
  const measured = rows.filter((r) => r.plain !== null);
  const cp = measured.filter((r) => r.plain!.caught);
  const cs = measured.filter((r) => r.swarm!.caught);
  const slow = (xs: readonly HuntRow[], k: 'plain' | 'swarm') => {
    let best: HuntRow | null = null;
    for (const r of xs) if (best === null || r[k]!.cpuS > best[k]!.cpuS) best = r;
    return best ? { variant: best.variant, cpuS: best[k]!.cpuS, seeds: best[k]!.seeds } : null;
  };
  let swarmFaster = 0;
  let plainFaster = 0;
  let ties = 0;
  for (const r of measured) {
    const a = r.plain!.caught ? r.plain!.seeds : Infinity;
    const b = r.swarm!.caught ? r.swarm!.seeds : Infinity;
    if (b < a) swarmFaster++;
    else if (a < b) plainFaster++;
    else ties++;
  }
  return {
    variants: rows.length,
    measured: measured.length,
    caughtPlain: cp.length,
    caughtSwarm: cs.length,
    medianSeedsPlain: median(cp.map((r) => r.plain!.seeds)),
    medianSeedsSwarm: median(cs.map((r) => r.swarm!.seeds)),
    medianCpuSPlain: median(cp.map((r) => r.plain!.cpuS)),
    medianCpuSSwarm: median(cs.map((r) => r.swarm!.cpuS)),
    slowestPlain: slow(cp, 'plain'),
    slowestSwarm: slow(cs, 'swarm'),
    over10sPlain: cp.filter((r) => r.plain!.cpuS > 10).map((r) => r.variant),
    swarmFaster,
    plainFaster,
    ties,
  };
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const cell = (d: Detection | null) => (d === null ? '-' : d.caught ? `${d.seeds} | ${f1(d.cpuS)} | ${d.invariant}` : `not caught in ${d.seeds} | ${f1(d.cpuS)} | -`);

export function detectionMarkdown(suiteFile: string, rows: readonly HuntRow[], opts: { maxSeeds: number; maxCpuS: number; command: string }, mixed: readonly MixedRow[] = [], mixedSeeds = 0): string {
  const s = huntStats(rows);
  const out = [
    '# Detection: seeds and seconds to catch each named variant',
    '',
    `<!-- Generated by \`${opts.command}\`; do not edit by hand. -->`,
    '',
    `For every named variant of every system, \`halfmoon hunt\` runs the entry of the default suite`,
    `(\`${suiteFile}\`) that expects it to be caught, seed after seed from the entry's first seed,`,
    `until a seed violates an invariant: once with the scenario's plain nemesis and once with the`,
    `swarm nemesis (\`--swarm\`: per seed, a random non-empty subset of the fault kinds of the`,
    `scenario's random schedule, with drawn weights, injection interval and link-fault rates; Groce`,
    `et al., ISSTA 2012). Seconds are CPU seconds of one core (the process's user + system time), so`,
    `they do not depend on the machine's load. Bounds: ${opts.maxSeeds} seeds or ${opts.maxCpuS} CPU seconds per variant and mode.`,
    `Where an entry switches the random nemesis off (fixed programs, \`faults.random: null\`), the swarm`,
    `run has nothing to draw from and equals the plain one.`,
    '',
    '| system | variant | suite entry | plain: seeds \\| s \\| caught by | swarm: seeds \\| s \\| caught by |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.plain === null) out.push(`| ${r.system} | ${r.variant} | ${r.entry ?? '-'} | not caught in simulation: ${r.why ?? ''} | - |`);
    else out.push(`| ${r.system} | ${r.variant} | ${r.entry} | ${cell(r.plain).replace(/\|/g, '\\|')} | ${cell(r.swarm).replace(/\|/g, '\\|')} |`);
  }
  const uncaught = rows.filter((r) => r.plain === null);
  out.push(
    '',
    '## Summary',
    '',
    `- Variants: ${s.variants}; measured (the suite expects them caught): ${s.measured}; caught with the plain nemesis: ${s.caughtPlain}, with swarm: ${s.caughtSwarm}.`,
    `- Median seeds to detection: plain ${f1(s.medianSeedsPlain)}, swarm ${f1(s.medianSeedsSwarm)}; median CPU seconds: plain ${f1(s.medianCpuSPlain)}, swarm ${f1(s.medianCpuSSwarm)}.`,
    `- Slowest: plain ${s.slowestPlain ? `${s.slowestPlain.variant} (${f1(s.slowestPlain.cpuS)} s, ${s.slowestPlain.seeds} seeds)` : '-'}; swarm ${s.slowestSwarm ? `${s.slowestSwarm.variant} (${f1(s.slowestSwarm.cpuS)} s, ${s.slowestSwarm.seeds} seeds)` : '-'}.`,
    `- Over 10 CPU seconds (plain): ${s.over10sPlain.length === 0 ? 'none' : s.over10sPlain.join(', ')}.`,
    `- Swarm against plain, in seeds to detection: swarm fewer on ${s.swarmFaster}, plain fewer on ${s.plainFaster}, equal on ${s.ties}.`,
    `- Not caught in simulation (${uncaught.length}): ${uncaught.length === 0 ? 'none' : uncaught.map((r) => `${r.system} ${r.variant}`).join(', ')}; each says why in the table.`,
    '',
  );
  if (mixed.length > 0) {
    const seeds = (d: Detection) => (d.caught ? d.seeds : Infinity);
    const total = (k: 'plain' | 'swarm') => mixed.reduce((a, r) => a + (r[k].caught ? r[k].seeds : r[k].seeds), 0);
    out.push(
      '## Swarm against plain on the all-faults mix',
      '',
      'The exposing entries above mostly catch their variant on the first seed either way, so they say',
      'little about swarm testing. Here each variant runs on its system\'s all-faults scenario, where',
      `every fault kind is mixed in and the one that exposes the bug is diluted (at most ${mixedSeeds} seeds).`,
      '',
      '| scenario | variant | plain: seeds \\| s \\| caught by | swarm: seeds \\| s \\| caught by |',
      '|---|---|---|---|',
      ...mixed.map((r) => `| ${r.scenario} | ${r.variant} | ${cell(r.plain).replace(/\|/g, '\\|')} | ${cell(r.swarm).replace(/\|/g, '\\|')} |`),
      '',
      `Seeds run in all: plain ${total('plain')}, swarm ${total('swarm')}; caught: plain ${mixed.filter((r) => r.plain.caught).length}/${mixed.length}, swarm ${mixed.filter((r) => r.swarm.caught).length}/${mixed.length}; swarm fewer seeds on ${mixed.filter((r) => seeds(r.swarm) < seeds(r.plain)).length}, plain fewer on ${mixed.filter((r) => seeds(r.plain) < seeds(r.swarm)).length}.`,
      '',
    );
  }
  return out.join('\n');
}
