/**
 * Methodology: the adapter that turns a system into an explorer model is checked on the register
 * (whose broken variants each need a specific fault to show) and on toy systems built to isolate
 * one mechanism: a coin flipped with `ctx.maybe` (both branches must be explored, within the
 * maybe budget), a machine that is nondeterministic (checks mode must say so), a machine that
 * throws; two messages on one link (FIFO links deliver them in order, unordered ones both ways), an
 * object a state reaches along two paths (it must stay one object across steps), and a heartbeat
 * that never stops (with stopAtDone the run ends at done and is judged there, as stopped rather
 * than quiescent). Reductions must keep every verdict: each register variant is refuted, and the canonical
 * register proved, with and without symmetry and partial-order reduction; state counts of small
 * configurations are pinned so a change in the adapter's semantics shows.
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../src/core/contract.ts';
import { send, setTimer } from '../../src/core/contract.ts';
import type { SystemDef } from '../../src/core/system.ts';
import { explore } from '../../sim/explore/index.ts';
import type { ExploreOptions } from '../../sim/explore/model.ts';
import { buildModel } from '../../sim/explore/registry.ts';
import { DEFAULT_WORLD_OPTIONS, SystemModel, type WorldOptions } from '../../sim/explore/world.ts';

type Sets = [string, unknown][];
const reg = (sets: Sets, variant: string | null = null) => buildModel('register', sets, variant);

// ---------------------------------------------------------------------------------------------
// Toy systems

interface CoinState {
  readonly cfg: null;
  got: string | null;
}
const flipper: Machine<null, CoinState> = {
  role: 'flipper',
  init: (cfg) => ({ cfg, got: null }),
  recover: (cfg) => ({ cfg, got: null }),
  step(s, input, ctx) {
    if (input.type !== 'start') return { state: s, effects: [] };
    const heads = ctx.maybe('flip', 0.5);
    return { state: s, effects: [send('catcher', { type: heads ? 'heads' : 'tails' })] };
  },
};
const catcher: Machine<null, CoinState> = {
  role: 'catcher',
  init: (cfg) => ({ cfg, got: null }),
  recover: (cfg) => ({ cfg, got: null }),
  step(s, input) {
    if (input.type === 'message') s.got = (input.msg as { type: string }).type;
    return { state: s, effects: [] };
  },
};
let sneaky = 0;
/** Answers differently every time it is asked the same thing: a module-level counter. */
const nondeterministic: Machine<null, CoinState> = {
  role: 'catcher',
  init: (cfg) => ({ cfg, got: null }),
  recover: (cfg) => ({ cfg, got: null }),
  step(s, input) {
    if (input.type === 'message') s.got = `${(input.msg as { type: string }).type}${sneaky++}`;
    return { state: s, effects: [] };
  },
};
const thrower: Machine<null, CoinState> = {
  role: 'catcher',
  init: (cfg) => ({ cfg, got: null }),
  recover: (cfg) => ({ cfg, got: null }),
  step(s, input) {
    if (input.type === 'message') throw new Error('cannot handle this message');
    return { state: s, effects: [] };
  },
};

function coinSystem(second: Machine): SystemDef<Record<string, never>> {
  return {
    name: 'coin',
    description: 'a flipped coin',
    defaults: {},
    variants: [],
    build: () => ({
      nodes: [
        { id: 'flipper', role: 'flipper', machine: flipper, config: null },
        { id: 'catcher', role: 'catcher', machine: second, config: null },
      ],
      invariants: [{ name: 'never heads', afterStep: (view, node) => (node === 'catcher' && (view.state(node) as CoinState).got === 'heads' ? 'the coin came up heads' : null) }],
      checkers: [],
    }),
  };
}

function coin(second: Machine, options: Partial<WorldOptions> = {}): SystemModel {
  return new SystemModel({ name: 'coin', def: coinSystem(second), params: {}, variant: null, options: { ...DEFAULT_WORLD_OPTIONS, ...options }, rebuild: {} });
}

describe('choices inside a step', () => {
  it('explores both outcomes of ctx.maybe', () => {
    const r = explore(coin(catcher), { strategy: 'bfs' });
    expect(r.verdict).toBe('fail');
    expect(r.violations[0]!.property).toBe('never heads');
    expect(r.violations[0]!.path.steps).toHaveLength(1);
  });

  it('never takes the rare path with maybe: never, or with no maybe budget left', () => {
    expect(explore(coin(catcher, { maybe: 'never' }), { strategy: 'bfs' }).verdict).toBe('pass');
    expect(explore(coin(catcher, { maybes: 0 }), { strategy: 'bfs' }).verdict).toBe('pass');
  });

  it('reports a machine that throws as a machine-assertion violation', () => {
    const r = explore(coin(thrower), { strategy: 'bfs' });
    expect(r.violations[0]!.property).toBe('machine-assertion');
    expect(r.violations[0]!.message).toContain('cannot handle this message');
  });

  it('catches a nondeterministic machine in checks mode, and only there', () => {
    expect(explore(coin(nondeterministic, { maybe: 'never' }), { strategy: 'bfs' }).verdict).toBe('pass');
    const r = explore(coin(nondeterministic, { maybe: 'never', checks: true }), { strategy: 'bfs' });
    expect(r.violations[0]!.property).toBe('machine-assertion');
    expect(r.violations[0]!.message).toContain('nondeterministic step');
  });
});

// ---------------------------------------------------------------------------------------------
// The register

/** Smallest configurations that expose each broken variant. */
const EXPOSE: Record<string, Sets> = {
  'no-retransmit': [['clients', 1], ['drops', 2]],
  'no-ts-compare': [['clients', 1], ['opsPerClient', 2]],
  'ack-before-sync': [['clients', 1], ['crashes', 1], ['restarts', 1]],
  'volatile-state': [['clients', 1], ['crashes', 1], ['restarts', 1]],
  'read-one': [['clients', 1], ['opsPerClient', 2], ['checkers', 'every']],
};

describe('register through the adapter', () => {
  it('proves the canonical register on small configurations, with pinned state counts', () => {
    const cases: [Sets, number, number][] = [
      [[['clients', 1]], 591, 0],
      [[['clients', 1], ['crashes', 1], ['restarts', 1]], 8_244, 0],
      [[['clients', 1], ['crashes', 1], ['restarts', 1]], 1_605, 1],
      [[['clients', 1], ['drops', 1], ['duplicates', 1]], 2_017, 1],
    ];
    for (const [sets, pinned, sym] of cases) {
      const r = explore(reg(sets), { strategy: 'bfs', symmetry: sym === 1 });
      expect(r.verdict, JSON.stringify(sets)).toBe('pass');
      expect(r.witnesses['workload completes']).not.toBeNull();
      if (pinned > 0) expect(r.uniqueStates, JSON.stringify(sets)).toBe(pinned);
    }
  });

  it('needs the fault budget to expose a fault-dependent bug', () => {
    expect(explore(reg([['clients', 1], ['drops', 1]], 'no-retransmit'), { strategy: 'bfs' }).verdict).toBe('pass');
    const r = explore(reg([['clients', 1], ['drops', 2]], 'no-retransmit'), { strategy: 'bfs' });
    expect(r.verdict).toBe('fail');
    expect(r.violations[0]!.property).toBe('liveness');
    // The canonical client retransmits, so the same two drops only delay it.
    expect(explore(reg([['clients', 1], ['drops', 2]]), { strategy: 'bfs' }).verdict).toBe('pass');
  });

  it('catches a restart that forgets state through invariant priming (the state before the crash)', () => {
    const r = explore(reg(EXPOSE['volatile-state']!, 'volatile-state'), { strategy: 'bfs' });
    expect(r.violations[0]!.property).toBe('replica-timestamp-monotonic');
    const kinds = r.violations[0]!.path.steps.map((s) => (s.action as { k: number }).k);
    expect(kinds).toContain(2); // a crash
    expect(kinds).toContain(3); // and the restart
  });

  const reductions: [string, Partial<ExploreOptions>][] = [
    ['bfs', { strategy: 'bfs' }],
    ['bfs + symmetry', { strategy: 'bfs', symmetry: true }],
    ['dfs + por', { strategy: 'dfs', por: true }],
    ['dfs + por + symmetry', { strategy: 'dfs', por: true, symmetry: true }],
  ];
  for (const [variant, sets] of Object.entries(EXPOSE)) {
    it(`refutes ${variant} under every reduction, with the same property`, () => {
      const props = new Set<string>();
      for (const [name, o] of reductions) {
        const r = explore(reg(sets, variant), o);
        expect(r.verdict, name).toBe('fail');
        props.add(r.violations[0]!.property.replace(' (every state)', ''));
      }
      expect(props.size).toBe(1);
    });
  }

  it('keeps the canonical verdict and every state under partial-order reduction, with fewer transitions', () => {
    const sets: Sets = [['clients', 1], ['crashes', 1], ['restarts', 1]];
    const plain = explore(reg(sets), { strategy: 'dfs' });
    const por = explore(reg(sets), { strategy: 'dfs', por: true });
    expect(plain.verdict).toBe('pass');
    expect(por.verdict).toBe('pass');
    expect(por.uniqueStates).toBe(plain.uniqueStates);
    expect(por.statesGenerated).toBeLessThan(plain.statesGenerated);
  });

  it('keeps the canonical verdict under symmetry with fewer states', () => {
    const sets: Sets = [['clients', 1], ['crashes', 1], ['restarts', 1]];
    const plain = explore(reg(sets), { strategy: 'bfs' });
    const sym = explore(reg(sets), { strategy: 'bfs', symmetry: true });
    expect(plain.verdict).toBe('pass');
    expect(sym.verdict).toBe('pass');
    expect(sym.uniqueStates).toBe(1_605);
    expect(plain.uniqueStates).toBeGreaterThan(4 * sym.uniqueStates);
  });

  it('bounds a multiset network by inFlightMax', () => {
    const r = explore(reg([['clients', 1], ['inFlight', 'multiset'], ['inFlightMax', 3]]), { strategy: 'bfs' });
    // Three gets go out at once and nothing else fits while they are in flight: the operation
    // cannot complete, and the model says so through its sometimes property.
    expect(r.witnesses['workload completes']).toBeNull();
    const roomy = explore(reg([['clients', 1], ['inFlight', 'multiset'], ['inFlightMax', 8]]), { strategy: 'bfs' });
    expect(roomy.verdict).toBe('pass');
  });

  it('rejects bad settings with one clear message', () => {
    expect(() => reg([['timers', 'sometimes']])).toThrow(/timers: expected one of unordered, duration, quiescent/);
    expect(() => reg([['crashes', -1]])).toThrow(/crashes: expected a non-negative integer/);
    expect(() => reg([['replicas', 0]])).toThrow(/params.replicas/);
    expect(() => reg([], 'no-such-variant')).toThrow(/unknown variant/);
    expect(() => buildModel('no-such-model', [], null)).toThrow(/unknown model/);
  });
});

// ---------------------------------------------------------------------------------------------
// Links, sharing inside a state, and runs that end at done

interface SeqState {
  readonly cfg: null;
  got: string;
  shared: { n: number };
  alias: { n: number };
  phase: number;
}
const seqInit = (cfg: null): SeqState => {
  const shared = { n: 0 };
  return { cfg, got: '', shared, alias: shared, phase: 0 };
};
/** Sends 'a' then 'b' to the receiver at start. */
const sender: Machine<null, SeqState> = {
  role: 'sender',
  init: seqInit,
  recover: seqInit,
  step(s, input) {
    if (input.type !== 'start') return { state: s, effects: [] };
    return { state: s, effects: [send('receiver', { type: 'a' }), send('receiver', { type: 'b' })] };
  },
};
/** Appends what it receives, and counts it through one of two paths to a shared object. */
const receiver: Machine<null, SeqState> = {
  role: 'receiver',
  init: seqInit,
  recover: seqInit,
  step(s, input) {
    if (input.type === 'message') {
      s.got += (input.msg as { type: string }).type;
      s.shared.n++;
    }
    return { state: s, effects: [] };
  },
};
/** A heartbeat that never falls silent: its state flips on every tick. */
const ticker: Machine<null, SeqState> = {
  role: 'ticker',
  init: seqInit,
  recover: seqInit,
  step(s, input) {
    if (input.type === 'start' || input.type === 'timer') {
      s.phase ^= 1;
      return { state: s, effects: [setTimer('hb', 1000)] };
    }
    return { state: s, effects: [] };
  },
};

function seqSystem(): SystemDef<Record<string, never>> {
  return {
    name: 'seq',
    description: 'two messages on one link, a shared counter and a heartbeat',
    defaults: {},
    variants: [],
    build: () => ({
      nodes: [
        { id: 'sender', role: 'sender', machine: sender, config: null },
        { id: 'receiver', role: 'receiver', machine: receiver, config: null },
        { id: 'ticker', role: 'ticker', machine: ticker, config: null },
      ],
      invariants: [
        { name: 'in order', afterStep: (view, node) => (node === 'receiver' && (view.state(node) as SeqState).got.startsWith('b') ? "'b' overtook 'a'" : null) },
        { name: 'one counter', afterStep: (view, node) => (node === 'receiver' && (view.state(node) as SeqState).alias.n !== (view.state(node) as SeqState).shared.n ? 'the two paths to the counter disagree' : null) },
      ],
      // Judges every run it is shown, and says how it was handed over.
      checkers: [{ name: 'judged', check: (run) => [{ invariant: 'judged', message: `judged, quiescent ${run.quiescent}` }] }],
      done: (view) => (view.state('receiver') as SeqState).got.length === 2,
    }),
  };
}

function seq(options: Partial<WorldOptions> = {}): SystemModel {
  return new SystemModel({ name: 'seq', def: seqSystem(), params: {}, variant: null, options: { ...DEFAULT_WORLD_OPTIONS, ...options }, rebuild: {} });
}

describe('links, sharing inside a state, and runs that end at done', () => {
  it('delivers in send order on FIFO links only', () => {
    const unordered = explore(seq(), { strategy: 'bfs', violationsMax: 5 });
    expect(unordered.violations.map((v) => v.property)).toContain('in order');
    const fifo = explore(seq({ fifo: ['sender'] }), { strategy: 'bfs', violationsMax: 5 });
    expect(fifo.violations.map((v) => v.property)).not.toContain('in order');
    expect(fifo.uniqueStates).toBeLessThan(unordered.uniqueStates);
    expect(() => seq({ fifo: ['nobody'] })).toThrow(/fifo: unknown node 'nobody'/);
  });

  it('keeps an object shared by two paths of a state shared across steps', () => {
    const r = explore(seq({ fifo: ['sender'] }), { strategy: 'bfs', violationsMax: 5 });
    expect(r.violations.map((v) => v.property)).not.toContain('one counter');
  });

  it('ends a run at done with stopAtDone: the state is terminal and judged as stopped, not quiescent', () => {
    // The heartbeat never stops, so without stopAtDone no state is terminal and no checker runs.
    const endless = explore(seq({ fifo: ['sender'] }), { strategy: 'bfs' });
    expect(endless.verdict).toBe('pass');
    expect(endless.witnesses['workload completes']).not.toBeNull();
    const stopped = explore(seq({ fifo: ['sender'], stopAtDone: true }), { strategy: 'bfs' });
    expect(stopped.violations[0]?.property).toBe('judged');
    expect(stopped.violations[0]?.message).toContain('quiescent false');
  });
});
