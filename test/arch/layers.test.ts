/**
 * The layering rules (.dependency-cruiser.cjs, drawn in docs/architecture.md): the tree obeys
 * them, and every rule fires on a fixture tree with deliberately wrong imports, so the check can
 * fail. `npm test` also runs `depcruise` itself before vitest (`npm run deps`).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');
const FIXTURE = join(here, 'fixtures', 'wrong-imports');
const require = createRequire(import.meta.url);
const config = require(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: { name: string }[]; options: Record<string, unknown> };

async function violations(baseDir: string): Promise<IViolation[]> {
  const prev = process.cwd();
  process.chdir(baseDir);
  try {
    const out = await cruise(['src', 'sim', 'proofs', 'app', 'bin'], { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden } } as never);
    return (out.output as ICruiseResult).summary.violations;
  } finally {
    process.chdir(prev);
  }
}

describe('layering rules', () => {
  it('the tree has no violation and no cycle', async () => {
    const v = await violations(ROOT);
    expect(v.map((x) => `${x.rule.name}: ${x.from} -> ${x.to}`)).toEqual([]);
  });

  it('every rule fires on the fixture of wrong imports', async () => {
    const v = await violations(FIXTURE);
    const fired = new Set(v.map((x) => x.rule.name));
    expect([...config.forbidden.map((r) => r.name)].filter((n) => !fired.has(n))).toEqual([]);
    // A few exact findings, so a rule that fires for the wrong reason is noticed.
    const pairs = v.map((x) => `${x.rule.name}: ${x.from} -> ${x.to}`);
    expect(pairs).toEqual(expect.arrayContaining([
      'machines-import-core-and-machines: src/boki/machine.ts -> sim/simulator.ts',
      'log-knows-no-protocol: src/boki/machine.ts -> src/halfmoon/protocol.ts',
      'real-runtime-beside-simulator: src/runtime/host.ts -> sim/simulator.ts',
      'checkers-import-core-and-machines: proofs/checker.ts -> sim/simulator.ts',
      'pure-layers-touch-no-world: src/boki/machine.ts -> fs',
      'no-orphans: src/core/lonely.ts -> src/core/lonely.ts',
    ]));
    expect(v.filter((x) => x.rule.name === 'no-circular').length).toBeGreaterThan(0);
  });
});
