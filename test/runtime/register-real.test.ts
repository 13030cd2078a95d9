/**
 * Methodology: the runtime contract is proved by running the example protocol (the ABD register:
 * 3 replicas, 3 client nodes, one driver) on both runtimes. For a fixed fault-free script of
 * sequential operations, every client-visible result (each request and its reply, in order) must
 * be identical in the simulator and on the real runtime over loopback TCP with real timers and
 * fsync'ed stores, and the register's own checkers (linearizability, liveness) must pass on the
 * real history. A concurrent random workload, and one with an in-process crash and restart of a
 * replica, must also pass the checkers; a deliberately corrupted copy of a real history must
 * fail them, so the checks on real histories are not vacuous.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/core/system.ts';
import { clientResults, LocalCluster } from '../../src/runtime/real/local.ts';
import type { ScriptOp } from '../../src/register/driver.ts';
import { buildInstance } from '../../src/scenario/instance.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { Simulator } from '../../sim/simulator.ts';
import { tempDir, until } from './helpers.ts';

const root = tempDir('hm-reg-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runN = 0;

function scenario(params: Record<string, unknown>) {
  return parseScenario({ name: 'register-real', description: 'register on both runtimes', system: 'register', params }, 'test');
}

/** A fixed script: clients take turns irregularly; reads and writes interleave; values unique. */
function fixedScript(n: number): ScriptOp[] {
  const out: ScriptOp[] = [];
  for (let i = 0; i < n; i++) {
    const client = (i * 7 + Math.floor(i / 3)) % 3;
    out.push(i % 4 === 1 || i % 5 === 3 ? { client, op: 'write', value: `w${i}` } : { client, op: 'read' });
  }
  return out;
}

function simulate(params: Record<string, unknown>) {
  const s = scenario(params);
  const sim = new Simulator({ scenario: s, instance: buildInstance(s), seed: 1 });
  const r = sim.run();
  expect(r.violations).toEqual([]);
  expect(r.outcome).toBe('done');
  return clientResults(sim.history);
}

async function runReal(params: Record<string, unknown>, during?: (c: LocalCluster) => Promise<void>) {
  const c = await LocalCluster.start({ instance: buildInstance(scenario(params)), cluster: 'register', dataRoot: `${root}/run${++runN}` });
  try {
    if (during) await during(c);
    await c.whenDone(30_000);
    return { ...c.judge(), hosts: c.hosts };
  } finally {
    await c.stop();
  }
}

const rets = (h: readonly HistoryEvent[]) => h.filter((e) => e.kind === 'ret').length;

describe('the register on the real runtime', () => {
  it('gives the same client-visible results as the simulator for a fault-free script', async () => {
    const params = { script: fixedScript(60) };
    const sim = simulate(params);
    const real = await runReal(params);
    expect(real.violations).toEqual([]);
    expect(real.replies).toHaveLength(60);
    const view = (rs: typeof sim) => rs.map((r) => ({ reqId: r.reqId, node: r.node, request: r.request, reply: r.reply }));
    expect(view(real.replies)).toEqual(view(sim));
    // The script is not trivial: reads see several different writes, including the initial null.
    expect(new Set(sim.filter((r) => (r.request as { op: string }).op === 'read').map((r) => JSON.stringify(r.reply))).size).toBeGreaterThan(5);
  }, 60_000);

  it('passes linearizability and liveness under a concurrent random workload', async () => {
    const real = await runReal({ opsPerClient: 15, thinkUsMax: 3000 });
    expect(real.violations).toEqual([]);
    expect(real.replies).toHaveLength(45);
    expect(real.replies.every((r) => r.reply !== undefined)).toBe(true);
  }, 60_000);

  it('flags a corrupted copy of a real history (the checkers are not vacuous here)', async () => {
    const params = { script: fixedScript(12) };
    const real = await runReal(params);
    expect(real.violations).toEqual([]);
    const firstRead = real.history.findIndex((e, i) => e.kind === 'ret' && i > 0 && (real.history.find((c) => c.kind === 'call' && c.reqId === e.reqId) as { body: { op: string } }).body.op === 'read' && (e.body as { value: unknown }).value !== null);
    expect(firstRead).toBeGreaterThan(0);
    const bad = real.history.map((e, i) => (i === firstRead ? { ...e, body: { ok: true, value: 'never-written' } } : e)) as HistoryEvent[];
    const inst = buildInstance(scenario(params));
    const lin = inst.checkers.find((c) => c.name === 'linearizability')!;
    const v = lin.check({ history: bad, view: null as never, endUs: Infinity, lastFaultUs: -1, truncated: false, quiescent: false });
    expect(v.map((x) => x.invariant)).toEqual(['linearizability']);
  }, 60_000);

  it('survives a crash and restart of a replica mid-workload, recovering its register from disk', async () => {
    let recovered: unknown = null;
    const real = await runReal({ opsPerClient: 20, thinkUsMax: 3000, retransmitUs: 20_000 }, async (c) => {
      await until(() => rets(c.memory.events) >= 10, '10 completed operations', 20_000);
      await c.crash('r1');
      await until(() => rets(c.memory.events) >= 25, '25 completed operations with r1 down', 20_000);
      await c.restart('r1');
      recovered = structuredClone(c.hosts.get('r1')!.state);
      expect(c.hosts.get('r1')!.status().booted).toBe('restart');
    });
    expect(real.violations).toEqual([]);
    expect(real.replies.every((r) => r.reply !== undefined)).toBe(true);
    // r1 acknowledged puts before the crash, so its recovered timestamp is past the initial one.
    expect((recovered as { ts: { n: number } }).ts.n).toBeGreaterThan(0);
  }, 90_000);
});
