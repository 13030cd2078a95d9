/**
 * Methodology: README stays true. The demo block in README (between the demo-table markers) must
 * be exactly what `halfmoon demo` prints for its first line and its table (trailing padding
 * aside), so a change to the demo's numbers fails here until README is updated; README must also
 * say that --scenario takes a name or a path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

it("README's demo table is what `halfmoon demo` prints", async () => {
  const m = /<!-- demo-table[^>]*-->\n```\n([\s\S]*?)\n```\n<!-- \/demo-table -->/.exec(readme);
  expect(m, 'README has a demo-table block').not.toBeNull();
  const out: string[] = [];
  const code = await main(['demo'], { out: (s) => out.push(s.replace(/\x1b\[[0-9;]*m/g, '')), err: () => {}, progress: null });
  expect(code).toBe(0);
  const printed = out.slice(0, out.findIndex((l, i) => i > 2 && l === '')).map((l) => l.trimEnd());
  expect(printed.length).toBe(7);
  expect(m![1]!.split('\n')).toEqual(printed);
}, 300_000);

it('README says --scenario takes a name or a path', () => {
  expect(readme).toMatch(/`--scenario`[\s\S]{0,120}takes either a name from `scenarios\/`[\s\S]{0,200}or a path to a scenario file/);
});
