/** Human and JSON renderings of run results. */
import pc from 'picocolors';
import type { RunResult } from '../../../sim/simulator.ts';

/** The JSON object `run --json` prints: the common fields, then the system's own figures. */
export function runJson(r: RunResult): Record<string, unknown> {
  return {
    scenario: r.scenario,
    system: r.system,
    variant: r.variant,
    seed: r.seed,
    outcome: r.outcome,
    events: r.events,
    simulatedTimeUs: r.simulatedTimeUs,
    wallMs: r.wallMs,
    traceHash: r.traceHash,
    violations: r.violations,
    faults: r.faults,
    decisions: r.decisions,
    replay: r.replay,
    ...r.report,
  };
}

export function formatUs(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(1)} ms`;
  return `${us} us`;
}

export function runLines(r: RunResult, tracePath: string | null): string[] {
  const faults = Object.entries(r.faults)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `scenario  ${r.scenario}${r.variant ? ` (variant ${r.variant})` : ''}  seed ${r.seed}  system ${r.system}`,
    `outcome   ${r.outcome}: ${r.events} events, ${formatUs(r.simulatedTimeUs)} simulated, ${r.wallMs} ms wall`,
    `faults    ${faults || 'none'}`,
  ];
  for (const [k, v] of Object.entries(r.report)) lines.push(`${k.padEnd(9)} ${JSON.stringify(v)}`);
  lines.push(`hash      ${r.traceHash}`);
  if (r.violations.length === 0) {
    lines.push(`verdict   ${pc.green('PASS')}: every invariant and checker held`);
  } else {
    const v = r.violations[0]!;
    const where = v.eventIndex !== undefined ? ` (event ${v.eventIndex}, t=${v.timeUs}us)` : '';
    lines.push(`verdict   ${pc.red('FAIL')}: ${v.invariant}${where}: ${v.message}`);
    if (r.violations.length > 1) lines.push(`          and ${r.violations.length - 1} more violation(s)`);
    lines.push(`replay    ${r.replay}${tracePath ? `   or: halfmoon replay ${tracePath}` : ' --trace failing.jsonl'}`);
  }
  return lines;
}
