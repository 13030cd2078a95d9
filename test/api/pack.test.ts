/**
 * Methodology: halfmoon as a user installs it. `npm pack` builds the tarball; it is installed with
 * vitest into a fresh folder outside the repository (from npm's local cache when it can); each
 * examples/* package is copied there and its own `npm test` runs vitest against the installed
 * `halfmoon` (never a relative import into our sources). Every correct example must pass, and
 * every broken variant's test (which asserts it is caught) must print the failure: the seed and
 * the one-line replay command. Bounded: every step has a timeout.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../runtime/helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((d) => existsSync(join(ROOT, 'examples', d, 'package.json')));
const dir = tempDir('hm-pack-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sh(cmd: string, args: string[], cwd: string, timeoutMs: number) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, CI: '1', FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

describe('the packed tarball, installed outside the repository', () => {
  let installed = false;

  it('packs and installs with vitest', () => {
    const pack = sh(npm, ['pack', '--json', '--pack-destination', dir], ROOT, 120_000);
    expect(pack.code, pack.out).toBe(0);
    const file = (JSON.parse(pack.out.slice(pack.out.indexOf('['))) as { filename: string; files: { path: string }[] }[])[0]!;
    const paths = file.files.map((f) => f.path);
    expect(paths).toContain('app/api/index.ts');
    expect(paths).toContain('app/api/vitest.ts');
    expect(paths.some((p) => p.startsWith('test/') || p.startsWith('examples/'))).toBe(false);
    const vitest = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.vitest!;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'halfmoon-consumer', private: true, type: 'module' }));
    const inst = sh(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${file.filename}`, `vitest@${vitest}`], dir, 300_000);
    expect(inst.code, inst.out).toBe(0);
    expect(existsSync(join(dir, 'node_modules/halfmoon/package.json'))).toBe(true);
    const version = sh(process.execPath, [join(dir, 'node_modules/halfmoon/bin/halfmoon.mjs'), '--version'], dir, 60_000);
    expect(version.out.trim()).toBe('0.1.0');
    installed = true;
  }, 480_000);

  for (const ex of EXAMPLES) {
    it(`examples/${ex}: npm test passes; its broken variants are caught with seed and replay command`, () => {
      expect(installed, 'the tarball did not install').toBe(true);
      const to = join(dir, ex);
      cpSync(join(ROOT, 'examples', ex), to, { recursive: true, filter: (src) => !/[\\/](node_modules|\.halfmoon)([\\/]|$)/.test(src) });
      const r = sh(npm, ['test'], to, 600_000);
      expect(r.error, r.out).toBeUndefined();
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/Tests +\d+ passed/);
      expect(r.out).not.toMatch(/(Tests|Test Files) +\d+ failed/);
      // Each example has at least one broken variant; its test prints the failure it caught.
      const caught = r.out.split('[caught] ').slice(1);
      expect(caught.length, r.out).toBeGreaterThan(0);
      for (const c of caught) {
        expect(c).toMatch(/^(Property failed after \d+ (tests|states))/);
        expect(c).toMatch(/Replay: halfmoon (run .*--seed \d+|replay .*\.jsonl)/);
      }
      expect(r.out).toMatch(/\{ seed: \d+/);
    }, 660_000);
  }
});
