/**
 * Methodology: plugins through the real executable, as a user runs it. The chain replication
 * plugin of examples/own-system must run, sweep and explore from the repository root (by
 * `--plugin` and by the scenario's `plugins:` list), its broken variant must be caught (exit 1);
 * and each bad plugin (missing, throws while loading, a syntax error, a name that clashes with a
 * built-in or with another plugin, a malformed definition of each kind) must exit 2 with exactly
 * one line on stderr naming the file and the problem, on more than one command.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../runtime/helpers.ts';

const BIN = join(import.meta.dirname, '../../bin/halfmoon.mjs');
const ROOT = join(import.meta.dirname, '../..');
const dir = tempDir('hm-plugins-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function plugin(name: string, text: string): string {
  const f = join(dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(f, text);
  return f;
}

const SYSTEM = (name: string, extra = '') => `import { defineSystem } from 'halfmoon';
defineSystem({ name: '${name}', description: 'd', defaults: {}, variants: [], build: () => ({ nodes: [], invariants: [], checkers: [] }), ${extra} });
`;

describe('the chain replication plugin from the repository root', () => {
  it('runs with --plugin and prints the run --json object', () => {
    const r = hm('run', '--plugin', 'examples/own-system/chain.ts', '--scenario', 'examples/own-system/chain.yaml', '--seed', '1', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    expect(j.system).toBe('chain');
    expect(j.outcome).toBe('done');
    expect(j.violations).toEqual([]);
    expect(j.replay).toBe('halfmoon run --scenario examples/own-system/chain.yaml --seed 1');
  });

  it('loads the scenario\'s plugins: list without --plugin (in sweep workers too), and catches the broken variant', () => {
    const r = hm('sweep', '--scenario', 'examples/own-system/chain.yaml', '--seeds', '1..5', '--workers', '2', '--variant', 'ack-at-head', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { failingSeeds: number[]; replays: string[] };
    expect(j.failingSeeds.length).toBeGreaterThan(0);
    expect(j.replays[0]).toMatch(/^halfmoon run --scenario examples\/own-system\/chain\.yaml --seed \d+ --variant ack-at-head$/);
  });

  it('explores system:chain with check --plugin (correct: pass; ack-at-head: a counterexample)', () => {
    const small = ['--set', 'opsPerClient=1', '--set', 'timers=quiescent', '--set', 'freeTimers=["driver:next:"]', '--set', 'branchRandom={"driver:op":[0,4294967295]}', '--depth', '60', '--json'];
    const ok = hm('check', '--plugin', 'examples/own-system/chain.ts', '--model', 'system:chain', ...small);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ model: 'system:chain', verdict: 'pass', complete: true });
    const bad = hm('check', '--plugin', 'examples/own-system/chain.ts', '--model', 'system:chain', '--variant', 'ack-at-head', ...small);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).violations[0].property).toMatch(/linearizability/);
  });

  it('its failing trace replays (with --plugin) and opens in the viewer', () => {
    const trace = join(dir, 'chain.jsonl');
    const html = join(dir, 'chain.html');
    expect(hm('run', '--scenario', 'examples/own-system/chain.yaml', '--variant', 'ack-at-head', '--trace', trace).code).toBe(1);
    const replay = hm('replay', '--plugin', 'examples/own-system/chain.ts', trace, '--json');
    expect(replay.code).toBe(1);
    expect(JSON.parse(replay.out)).toMatchObject({ system: 'chain', matches: true });
    const view = hm('view', trace, '--out', html);
    expect(view.code, view.err).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('linearizability');
  });

  it('lists the plugin system among the variants', () => {
    const r = hm('variants', '--plugin', 'examples/own-system/chain.ts', '--system', 'chain');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ack-at-head');
  });
});

describe('bad plugins exit 2 with one line naming the file and the problem', () => {
  const cases: [string, () => string, RegExp][] = [
    ['missing', () => join(dir, 'nope.ts'), /plugin .*nope\.ts: no such file$/],
    ['throws while loading', () => plugin('throws.ts', "throw new Error('boom\\nsecond line');\n"), /plugin .*throws\.ts: threw while loading: boom$/],
    ['a syntax error', () => plugin('syntax.ts', 'export const = ;\n'), /plugin .*syntax\.ts: threw while loading: /],
    ['clashes with a built-in system', () => plugin('clash.ts', SYSTEM('register')), /plugin .*clash\.ts: defineSystem: a system named 'register' is already defined \(/],
    ['clashes with a built-in protocol', () => plugin('clash-proto.ts', "import { defineProtocol, BUILTIN_RULES } from 'halfmoon';\ndefineProtocol({ name: 'hm-read', mode: 'MINE', description: 'd', rules: BUILTIN_RULES.hmRead, records: () => 0, logs: { reads: false, writes: true }, finalRead: 'versioned', style: 'halfmoon' });\n"), /plugin .*clash-proto\.ts: defineProtocol: a protocol named 'hm-read' is already defined$/],
    ['takes a built-in mode with other rules', () => plugin('clash-mode.ts', "import { defineProtocol, BUILTIN_RULES } from 'halfmoon';\ndefineProtocol({ name: 'mine', mode: 'HMR', description: 'd', rules: BUILTIN_RULES.unsafe, records: () => 0, logs: { reads: false, writes: false }, finalRead: 'base', style: 'halfmoon' });\n"), /plugin .*clash-mode\.ts: defineProtocol 'mine': mode 'HMR' already belongs to protocol 'hm-read'/],
    ['clashes with a built-in workload', () => plugin('clash-wl.ts', "import { defineWorkload } from 'halfmoon';\ndefineWorkload({ name: 'rw', description: 'd', functions: { f: () => null }, generate: () => ({ fn: 'f', input: null }), initial: () => [] });\n"), /plugin .*clash-wl\.ts: defineWorkload: a workload named 'rw' is already defined$/],
    ['a malformed system (no build)', () => plugin('nobuild.ts', "import { defineSystem } from 'halfmoon';\ndefineSystem({ name: 'nobuild', description: 'd', defaults: {}, variants: [] } as never);\n"), /plugin .*nobuild\.ts: defineSystem 'nobuild': build: expected a function/],
    ['a malformed system name', () => plugin('badname.ts', SYSTEM('Bad Name')), /plugin .*badname\.ts: defineSystem: name: expected lower-case/],
    ['a malformed variant list', () => plugin('badvar.ts', SYSTEM('badvar').replace('variants: []', "variants: [{ name: 'x' }]")), /plugin .*badvar\.ts: defineSystem 'badvar': variants\[0\]: expected \{ name, description, exposedBy \}/],
    ['a protocol whose record formula is not a count', () => plugin('badformula.ts', "import { defineProtocol, BUILTIN_RULES } from 'halfmoon';\ndefineProtocol({ name: 'half', mode: 'HALF', description: 'd', rules: BUILTIN_RULES.hmRead, records: ({ w }) => w / 2, logs: { reads: false, writes: true }, finalRead: 'versioned', style: 'halfmoon' });\n"), /plugin .*badformula\.ts: defineProtocol 'half': records\(.*\): expected a non-negative integer, got 1\.5$/],
    ['a protocol missing a rule', () => plugin('norule.ts', "import { defineProtocol, BUILTIN_RULES } from 'halfmoon';\ndefineProtocol({ name: 'norule', mode: 'NORULE', description: 'd', rules: { ...BUILTIN_RULES.hmRead, read: undefined } as never, records: () => 0, logs: { reads: false, writes: true }, finalRead: 'versioned', style: 'halfmoon' });\n"), /plugin .*norule\.ts: defineProtocol 'norule': rules\.read: expected a function$/],
    ['a workload without functions', () => plugin('nofns.ts', "import { defineWorkload } from 'halfmoon';\ndefineWorkload({ name: 'nofns', description: 'd', functions: {}, generate: () => ({ fn: 'f', input: null }), initial: () => [] });\n"), /plugin .*nofns\.ts: defineWorkload 'nofns': functions: expected an object/],
    ['not a module file', () => plugin('notes.txt', 'hello\n'), /plugin .*notes\.txt: expected a \.ts or \.js module$/],
  ];
  for (const [i, [what, make, want]] of cases.entries()) {
    it(what, () => {
      const f = make();
      // Every case on run; a few on a second command too (the loader is the same for all).
      const commands = i < 2 ? [['run', '--plugin', f, '--json'], ['scenarios', `--plugin=${f}`]] : [['run', '--plugin', f, '--json']];
      for (const args of commands) {
        const r = hm(...args);
        expect(r.code, r.err).toBe(2);
        expect(r.out).toBe('');
        const lines = r.err.split('\n').filter((l) => l !== '');
        expect(lines, r.err).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^halfmoon ${args[0]}: `));
        expect(lines[0]).toMatch(want);
      }
    });
  }

  it('two plugins defining one name: the second is named', () => {
    const a = plugin('twin-a.ts', SYSTEM('twin'));
    const b = plugin('twin-b.ts', SYSTEM('twin'));
    const r = hm('run', '--plugin', a, '--plugin', b);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/^halfmoon run: plugin .*twin-b\.ts: defineSystem: a system named 'twin' is already defined \(/);
  });

  it('a scenario listing a missing plugin names it, relative to the scenario', () => {
    const sc = join(dir, 'sc.yaml');
    writeFileSync(sc, 'name: sc\ndescription: d\nsystem: register\nplugins: [./gone.ts]\n');
    const r = hm('run', '--scenario', sc);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/^halfmoon run: plugin .*gone\.ts: no such file$/);
  });

  it('--plugin without a file', () => {
    const r = hm('run', '--plugin');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('halfmoon run: --plugin: expected a file');
  });
});
