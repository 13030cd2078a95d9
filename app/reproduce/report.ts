/**
 * Writing the reproduction's outputs: per experiment its results as JSON (the input of every
 * rendering), its tables as CSV and Markdown, its figures as SVG; and REPRODUCTION.md, composed
 * from every experiment result found in the output folder, so experiments run separately into one
 * folder still make one document.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/core/assert.ts';
import { CALIBRATION } from './calibration.ts';
import { fx } from './format.ts';
import type { Cell, Comparison, Experiment, ExperimentResult, Rendered, Table } from './types.ts';

/** RFC 4180: quote fields holding commas, quotes or line breaks; numbers at full precision. */
export function csvCell(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'number') return Number.isFinite(c) ? String(Math.round(c * 1e6) / 1e6) : '';
  return /[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c;
}

export function toCsv(t: Table): string {
  return [t.columns.map(csvCell).join(','), ...t.rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function toMarkdown(t: Table): string {
  const cols = t.md?.columns ?? t.columns;
  const rows = t.md?.rows ?? t.rows.map((r) => r.map((c) => (c === null ? '–' : typeof c === 'number' ? fx(c, 3) : c)));
  const out = [`| ${cols.map(mdEscape).join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => mdEscape(String(c))).join(' | ')} |`)];
  for (const n of t.notes ?? []) out.push('', n);
  return out.join('\n') + '\n';
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`--out ${dir}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Writes one experiment's result, tables and figures; returns the files written. */
export function writeExperiment(dir: string, exp: Experiment, result: ExperimentResult, rendered: Rendered): string[] {
  ensureDir(dir);
  const files: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };
  put(`${exp.name}.json`, JSON.stringify(result, null, 1) + '\n');
  for (const t of rendered.tables) {
    put(`${t.name}.csv`, toCsv(t));
    put(`${t.name}.md`, `### ${t.title}\n\n${toMarkdown(t)}`);
  }
  for (const f of rendered.figures) put(`${f.name}.svg`, f.svg);
  return files;
}

/** The saved result of an experiment in `dir`, if any (null when absent). */
export function readResult(dir: string, name: string): ExperimentResult | null {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as ExperimentResult;
    if (r.experiment !== name || !Array.isArray(r.points)) throw new Error('not a result');
    return r;
  } catch {
    throw new InputError(`${file}: not a reproduction result (delete it or choose another --out)`);
  }
}

function calibrationSection(): string {
  const rows = CALIBRATION.map((c) => `| \`${c.key}\` | ${typeof c.value === 'object' ? `\`${JSON.stringify(c.value)}\`` : `\`${String(c.value)}\``} | ${mdEscape(c.observed)} | ${mdEscape(c.source)} |`);
  return [
    '## The latency model',
    '',
    'Every run uses these settings (sim/reproduce/calibration.ts). Append, conditional-append and read latencies on the Boki log are not set: they emerge from the links, the disk and the 300 µs cuts, and each experiment measures them (the log-call table of the rw experiment).',
    '',
    '| parameter | value | what the functions observe | source |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The headline table leads with the paper's headline figures (rw), then the applications. */
const HEADLINE_ORDER = ['rw', 'hotel', 'movie', 'singleop', 'switching'];

function comparisonTable(all: readonly { exp: Experiment; rendered: Rendered }[]): string {
  const rank = (name: string) => (HEADLINE_ORDER.includes(name) ? HEADLINE_ORDER.indexOf(name) : HEADLINE_ORDER.length);
  const rows: Comparison[] = [...all].sort((a, b) => rank(a.exp.name) - rank(b.exp.name)).flatMap((x) => x.rendered.comparisons);
  return [
    '| claim | simulated | published | verdict | cause of the gap |',
    '|---|---|---|---|---|',
    ...rows.map((c) => `| ${mdEscape(c.what)} | ${mdEscape(c.simulated)} | ${mdEscape(c.published)} | **${c.verdict}** | ${mdEscape(c.cause)} |`),
  ].join('\n');
}

/**
 * REPRODUCTION.md: the headline comparison, then per experiment its figure, tables and notes, then
 * the discussion of gaps (`discussion`, written from the same results), then the latency model.
 */
export function reproductionMarkdown(all: readonly { exp: Experiment; result: ExperimentResult; rendered: Rendered }[], discussion: string): string {
  const commands = [...new Set(all.map((x) => x.result.command || 'halfmoon reproduce'))];
  const runs = all.reduce((a, x) => a + x.result.runs.length, 0);
  const violations = all.reduce((a, x) => a + x.result.runs.filter((r) => r.violations.length > 0).length, 0);
  const cpu = all.reduce((a, x) => a + x.result.cpuMs, 0);
  const parts: string[] = [
    '# Reproducing the Halfmoon and Boki evaluations in simulation',
    '',
    `Generated by ${commands.map((c) => `\`${c}\``).join(' and ')} from ${runs} simulated runs (${all.map((x) => x.exp.name).join(', ')}; ${fx(cpu / 60000, 1)} CPU minutes). Every run is an ordinary seeded simulation of ${all.every((x) => x.result.scale.log === 'boki') ? 'the full Boki log (3 sequencers, 3 storage nodes, 8 engines, 300 µs cuts) with the Halfmoon runtime on its engines' : '**the one-node reference log** (not the published cluster: a smoke test, not a reproduction)'}${all.some((x) => x.result.scale.quick) ? ', at the **--quick** scale' : ''}; its exactly-once, log and liveness checkers ran on every run: ${violations === 0 ? 'no run violated any of them' : `**${violations} runs reported violations** (see the JSON results)`}. Each run's \`replay\` command (in the JSON) reproduces it exactly.`,
    '',
    '## Headline comparison',
    '',
    comparisonTable(all),
    '',
  ];
  for (const { exp, rendered } of all) {
    parts.push(`## ${exp.figure}: ${exp.title}`, '', exp.description.charAt(0).toUpperCase() + exp.description.slice(1) + '.', '');
    for (const f of rendered.figures) parts.push(`![${f.caption}](${f.name}.svg)`, '');
    for (const t of rendered.tables) parts.push(`### ${t.title}`, '', toMarkdown(t), `CSV: [${t.name}.csv](${t.name}.csv)`, '');
    if (rendered.section) parts.push(rendered.section, '');
  }
  if (discussion) parts.push(discussion, '');
  parts.push(calibrationSection(), '');
  return parts.join('\n');
}
