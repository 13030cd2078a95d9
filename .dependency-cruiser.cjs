/**
 * The layering of halfmoon, enforced (docs/architecture.md draws it). `npm test` runs
 * `depcruise` with this file over src, sim, proofs, app and bin; test/arch/layers.test.ts runs the
 * same rules over a fixture tree with deliberately wrong imports and checks every rule fires.
 *
 * Layers, bottom to top; a layer may import the ones below it, never one above:
 *   core      src/core/                      the machine contract, hashing, JSON, the system interface
 *   machines  src/{boki,halfmoon,reflog,register}/   pure state machines
 *   checkers  proofs/                        pure judges of histories (know history types, not runtimes)
 *   systems   src/systems/                   machines + checkers assembled, the registry
 *   scenario  src/scenario/                  scenario files -> validated scenario -> system instance
 *   runtimes  sim/ (simulator), sim/explore/ (explorer), src/runtime/ (real)   peers
 *   fronts    app/                           CLI, viewer, reproduction, bench, proof catalog
 *   bin       bin/                           the executable
 */
const CORE = '^src/core/';
const MACHINES = '^src/(boki|halfmoon|reflog|register)/';
const CHECKERS = '^proofs/';
const SYSTEMS = '^src/systems/';
const SCENARIO = '^src/scenario/';
const SIM = '^sim/';
const EXPLORE = '^sim/explore/';
const REAL = '^src/runtime/';
const FRONTS = '^app/';
const BIN = '^bin/';
const TESTS = '^test/';
/** Node's modules that touch the outside world: no pure layer may import them. */
const IMPURE_NODE = '^(node:)?(fs|fs/promises|net|http|https|dgram|child_process|worker_threads|os|cluster|readline|tls|dns|process|timers|timers/promises|perf_hooks|crypto)$';

const layer = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: '^(src|sim|proofs|app|bin|test)/', pathNot: allowed },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'No import cycle anywhere, type-only imports included.', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-orphans',
      comment: 'Every module is imported by something or imports something; a module tied to nothing is dead code.',
      severity: 'error',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '(^|/)\\.[^/]+\\.(c|m)?js$', '\\.config\\.(c|m)?(js|ts)$', '^app/viewer/client/'] },
      to: {},
    },
    layer('core-imports-only-core', CORE, [CORE], 'The machine contract depends on nothing of ours.'),
    layer('machines-import-core-and-machines', MACHINES, [CORE, MACHINES], 'Machines know nothing of checkers, systems, scenarios, runtimes or front ends.'),
    {
      name: 'log-knows-no-protocol',
      comment: 'The Boki log and the register know nothing of the workflow protocols built on top of them.',
      severity: 'error',
      from: { path: '^src/(boki|register|reflog)/' },
      to: { path: '^src/halfmoon/' },
    },
    {
      name: 'register-stands-alone',
      comment: 'The example register is a system of its own: it shares only the contract.',
      severity: 'error',
      from: { path: '^src/register/' },
      to: { path: '^src/(boki|halfmoon|reflog)/' },
    },
    layer('checkers-import-core-and-machines', CHECKERS, [CORE, MACHINES, CHECKERS], 'Checkers judge histories: they know history types, not systems or runtimes.'),
    layer('systems-below-scenarios', SYSTEMS, [CORE, MACHINES, CHECKERS, SYSTEMS], 'A system assembles machines and checkers; it knows no scenario file and no runtime.'),
    layer('scenario-below-runtimes', SCENARIO, [CORE, SYSTEMS, SCENARIO], 'Scenario loading and instance building serve every runtime and know none of them.'),
    layer('simulator-below-fronts', `${SIM}(?!explore/)`, [CORE, MACHINES, CHECKERS, SYSTEMS, SCENARIO, `${SIM}(?!explore/)`], 'The simulator is a runtime: it knows neither the explorer, the real runtime nor any front end.'),
    layer('explorer-below-fronts', EXPLORE, [CORE, MACHINES, CHECKERS, SYSTEMS, SCENARIO, SIM], 'The explorer is a runtime; it shares the simulator\'s trace format and seeded generator, nothing above.'),
    layer('real-runtime-beside-simulator', REAL, [CORE, MACHINES, CHECKERS, SYSTEMS, SCENARIO, REAL], 'The real runtime and the simulator are peers: src/ imports nothing from sim/.'),
    layer('fronts-above-everything', FRONTS, [CORE, MACHINES, CHECKERS, SYSTEMS, SCENARIO, SIM, REAL, FRONTS], 'Front ends may use every layer below; nothing below uses them.'),
    layer('bin-starts-the-cli', BIN, [FRONTS], 'The executable hands over to the CLI.'),
    {
      name: 'no-test-imports',
      comment: 'Production code never imports the tests.',
      severity: 'error',
      from: { pathNot: TESTS },
      to: { path: TESTS },
    },
    {
      name: 'pure-layers-touch-no-world',
      comment: 'Machines, checkers and systems are pure: no file system, network, processes, clocks or crypto randomness (determinism).',
      severity: 'error',
      from: { path: [CORE, MACHINES, CHECKERS, SYSTEMS] },
      to: { dependencyTypes: ['core'], path: IMPURE_NODE },
    },
    {
      name: 'no-dev-deps-in-production',
      comment: 'What the package runs must be in its dependencies, not only in devDependencies (halfmoon/vitest runs inside the user\'s vitest: a peer dependency).',
      severity: 'error',
      from: { path: '^(src|sim|proofs|app|bin)/', pathNot: '^app/api/vitest\\.ts$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or a package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    moduleSystems: ['es6', 'cjs'],
    combinedDependencies: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], mainFields: ['module', 'main', 'types'] },
  },
};
