import pc from 'picocolors';
import { runOnce } from '../../../sim/run.ts';
import { parseSeed, parseSets } from './args.ts';
import type { Command } from './types.ts';

const PROTOCOLS: { name: string; expect: 'holds' | 'caught' }[] = [
  { name: 'boki', expect: 'holds' },
  { name: 'hm-read', expect: 'holds' },
  { name: 'hm-write', expect: 'holds' },
  { name: 'unsafe', expect: 'caught' },
];

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the mission in one table: a Halfmoon workload under crashes, once per protocol',
  usage: `usage: halfmoon demo [--scenario <name|file>] [--seed <n>] [--set <key=value>]... [--json]

Runs a Halfmoon workload under function and node crashes (default scenario wf-demo) with each
protocol: boki (logs every read and write), hm-read (log-free reads), hm-write (log-free writes),
and the unsafe negative control (logs neither), and prints per protocol the requests completed,
records appended per request, log reads, store operations, latency p50/p99 and the exactly-once
verdict, with the command that replays each run. Exit 0 when the three protocols are exactly-once
and the control is caught.`,
  options: { scenario: { type: 'string' }, seed: { type: 'string' }, set: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  run(values, _pos, io) {
    const scenario = (values.scenario as string | undefined) ?? 'wf-demo';
    const seed = values.seed === undefined ? 1 : parseSeed(values.seed);
    const sets = parseSets(values);
    const rows = PROTOCOLS.map((p) => {
      const r = runOnce({ scenario, seed, sets: [...sets, ['protocol', p.name]] });
      const rep = r.report as {
        requests: number;
        log: { appendsPerRequest: number; readsPerRequest: number };
        store: { reads: number; writes: number };
        latencyUs: { p50: number; p99: number };
        exactlyOnce: boolean;
      };
      const eo = r.violations.length === 0;
      return {
        protocol: p.name,
        requests: rep.requests,
        appendsPerRequest: rep.log.appendsPerRequest,
        logReadsPerRequest: rep.log.readsPerRequest,
        storeOpsPerRequest: Math.round(((rep.store.reads + rep.store.writes) / Math.max(1, rep.requests)) * 100) / 100,
        latencyMsP50: rep.latencyUs.p50 / 1000,
        latencyMsP99: rep.latencyUs.p99 / 1000,
        exactlyOnce: eo,
        expected: p.expect,
        asExpected: (p.expect === 'holds') === eo,
        firstViolation: r.violations[0] ? `${r.violations[0].invariant}: ${r.violations[0].message}` : null,
        faults: r.faults,
        replay: `${r.replay} --set protocol=${p.name}`.replace(` --set protocol=${p.name} --set protocol=${p.name}`, ` --set protocol=${p.name}`),
      };
    });
    const ok = rows.every((r) => r.asExpected);
    if (values.json) {
      io.out(JSON.stringify({ scenario, seed, ok, rows }));
      return ok ? 0 : 1;
    }
    const crashes = rows[0]!.faults;
    io.out(`scenario ${scenario}, seed ${seed}: ${Object.entries(crashes).map(([k, v]) => `${k} ${v}`).join(', ')} (plus function crashes at every kind of point)`);
    io.out('');
    const head = ['protocol', 'requests', 'appends/req', 'log reads/req', 'store ops/req', 'p50 ms', 'p99 ms', 'exactly-once'];
    const table = rows.map((r) => [
      r.protocol,
      String(r.requests),
      r.appendsPerRequest.toFixed(2),
      r.logReadsPerRequest.toFixed(2),
      r.storeOpsPerRequest.toFixed(2),
      r.latencyMsP50.toFixed(1),
      r.latencyMsP99.toFixed(1),
      r.exactlyOnce ? pc.green('holds') : pc.red(r.expected === 'caught' ? 'VIOLATED (control, expected)' : 'VIOLATED'),
    ]);
    const w = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.replace(/\x1b\[[0-9;]*m/g, '').length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
    io.out(line(head));
    for (const t of table) io.out(line(t));
    io.out('');
    for (const r of rows) if (r.firstViolation) io.out(`${r.protocol}: ${r.firstViolation.slice(0, 200)}`);
    io.out('replay any row:');
    for (const r of rows) io.out(`  ${r.replay}`);
    io.out(ok ? `verdict: ${pc.green('PASS')}: boki, hm-read and hm-write are exactly-once under crashes; the unsafe control is caught` : `verdict: ${pc.red('FAIL')}`);
    return ok ? 0 : 1;
  },
};
