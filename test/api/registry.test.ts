/**
 * Methodology: the built-ins are registered through the public API, with no private back door.
 * The `halfmoon` entry point's defineSystem / defineProtocol / defineWorkload are the registries'
 * own functions; every built-in system, protocol and workload is in them; every system module of
 * src/systems registers through defineSystem (a source check), the protocol table of the
 * Halfmoon system is the protocol registry itself; and a protocol registered at run time is
 * accepted by name by the Halfmoon system and the explorer like a built-in.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../app/api/index.ts';
import { SYSTEMS, defineSystem } from '../../src/systems/index.ts';
import { PROTOCOLS } from '../../src/systems/halfmoon.ts';
import { defineProtocol, PROTOCOL_MODES } from '../../src/halfmoon/protocols.ts';
import { defineWorkload, workloadNames } from '../../src/halfmoon/workloads/index.ts';
import { buildModel } from '../../sim/explore/registry.ts';
import { runOnce } from '../../sim/run.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { main } from '../../app/cli/cli.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('the built-ins register through the public API', () => {
  it('exports the registries\' own define functions', () => {
    expect(api.defineSystem).toBe(defineSystem);
    expect(api.defineProtocol).toBe(defineProtocol);
    expect(api.defineWorkload).toBe(defineWorkload);
  });

  it('holds every built-in', () => {
    expect(Object.keys(SYSTEMS)).toEqual(['register', 'boki', 'halfmoon']);
    expect(api.protocolNames()).toEqual(['boki', 'hm-read', 'hm-write', 'transitional', 'unsafe', 'adaptive']);
    expect(workloadNames()).toEqual(['rw', 'singleop', 'program', 'hotel', 'movie', 'retwis']);
    expect(PROTOCOLS).toBe(PROTOCOL_MODES);
  });

  it('every system module in src/systems registers through defineSystem', () => {
    const dir = join(ROOT, 'src/systems');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts') && x !== 'index.ts' && x !== 'registry.ts')) {
      const text = readFileSync(join(dir, f), 'utf8');
      const defs = text.match(/export const \w+: SystemDef</g) ?? [];
      const viaApi = text.match(/export const \w+: SystemDef<\w+> = defineSystem</g) ?? [];
      expect(viaApi.length, f).toBe(defs.length);
    }
  });

  it('refuses a second definition of a built-in name', () => {
    expect(() => defineSystem({ ...SYSTEMS.register! })).toThrow(/a system named 'register' is already defined/);
    expect(() => defineProtocol({ ...api.protocolByName('hm-read')! })).toThrow(/a protocol named 'hm-read' is already defined/);
  });

  it('a protocol defined at run time runs by name in the simulator and the explorer', () => {
    const { begin, finish, invoke, loggedRead, unloggedWrite } = api.RULE_PARTS;
    defineProtocol({
      name: 'hm-write-again',
      mode: 'HMW2',
      description: 'HM-W built from the rule parts',
      rules: { begin, finish, invoke, read: loggedRead, write: unloggedWrite },
      records: ({ top, r, v }) => (top ? 2 : 0) + r + 2 * v,
      logs: { reads: true, writes: false },
      finalRead: 'base',
      style: 'halfmoon',
    });
    const scenario = parseScenario({ name: 'again', description: 'failure-free', system: 'halfmoon', params: { protocol: 'hm-write-again', workload: 'program', log: 'reference', keys: 4, opsPerRequest: 4, requests: 20, concurrency: 4, engines: 2, exactCounts: true } }, 'test');
    const r = runOnce({ scenario, seed: 1 });
    expect(r.outcome).toBe('done');
    expect(r.violations).toEqual([]);
    expect(buildModel('wf-tiny', [['protocol', 'hm-write-again']], null).name).toBe('wf-tiny');
  });

  it('run, sweep and check from code return what the CLI prints with --json', async () => {
    const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'wallMs' && k !== 'exitCode' && k !== 'statesPerSecond'));
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: () => {}, progress: null };
    const r = await api.run({ scenario: 'register-smoke', seed: 3, set: { opsPerClient: 5 } });
    expect(r.exitCode).toBe(0);
    expect(await main(['run', '--scenario', 'register-smoke', '--seed', '3', '--set', 'opsPerClient=5', '--json'], io)).toBe(0);
    expect(strip(r)).toEqual(strip(JSON.parse(out.pop()!)));
    const s = await api.sweep({ scenario: 'register-smoke', seeds: [1, 3], variant: 'read-one' });
    expect(await main(['sweep', '--scenario', 'register-smoke', '--seeds', '1..3', '--variant', 'read-one', '--json'], io)).toBe(s.exitCode);
    expect(strip(s)).toEqual(strip(JSON.parse(out.pop()!)));
    const c = await api.check({ model: '2pc', set: { rms: 3 } });
    expect(c).toMatchObject({ model: '2pc', verdict: 'pass', exitCode: 0 });
    await expect(api.run({ scenario: 'no-such-scenario' })).rejects.toThrow(/unknown scenario 'no-such-scenario'/);
  });
});
