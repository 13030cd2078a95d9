/**
 * Methodology: the log liveness checker on synthetic histories: a pending operation past its
 * deadline fails, an operation whose engine crashed while it was pending is exempt, an
 * under-provisioned period suspends judgement (and moves the clock when it ends), a reconfiguration
 * that never completes fails, and the end-of-run probe must succeed for every book.
 */
import { describe, expect, it } from 'vitest';
import type { FinishedRun, HistoryEvent, WorldView } from '../../../src/core/system.ts';
import { logLivenessChecker } from '../../../proofs/log/liveness.ts';

function run(history: HistoryEvent[], endUs: number, driverPhase = 'done'): FinishedRun {
  let lastFault = -1;
  for (const e of history) if (e.kind === 'fault') lastFault = e.t;
  const view: WorldView = {
    nowUs: endUs,
    eventIndex: 0,
    nodeIds: () => ['driver', 'eng0'],
    role: (id) => (id === 'driver' ? 'driver' : 'engine'),
    isUp: () => true,
    state: () => ({ phase: driverPhase }),
    history,
    lastFaultUs: lastFault,
  };
  return { history, view, endUs, lastFaultUs: lastFault, truncated: false, quiescent: false };
}

const call = (t: number, reqId: string, node = 'eng0'): HistoryEvent => ({ kind: 'call', t, reqId, client: 'driver', node, body: { op: 'append', inv: 'i', tags: [1n], data: 'x' } });
const ret = (t: number, reqId: string): HistoryEvent => ({ kind: 'ret', t, reqId, client: 'driver', node: 'eng0', body: { code: 'APPEND_OK', seqnum: 1n } });
const check = logLivenessChecker(1000, 0, false);

describe('log liveness', () => {
  it('fails an operation pending past max(call, last fault) + bound', () => {
    expect(check.check(run([call(10, 'a'), ret(500, 'a'), call(20, 'b')], 5000))).toHaveLength(1);
    expect(check.check(run([call(10, 'a'), ret(1500, 'a')], 5000))).toHaveLength(1);
    expect(check.check(run([call(10, 'a')], 900))).toHaveLength(0);
  });

  it('exempts operations pending on an engine that crashed', () => {
    const h: HistoryEvent[] = [call(10, 'a'), { kind: 'fault', t: 50, fault: { kind: 'crash', nodes: ['eng0'] } }];
    expect(check.check(run(h, 9000))).toHaveLength(0);
    const h2: HistoryEvent[] = [call(10, 'a', 'eng1'), { kind: 'fault', t: 50, fault: { kind: 'crash', nodes: ['eng0'] } }];
    expect(check.check(run(h2, 9000))).toHaveLength(1);
  });

  it('suspends judgement while under-provisioned and restarts the clock when provisioned again', () => {
    const under: HistoryEvent = { kind: 'record', t: 30, node: 'ctrl', event: { ev: 'underProvisioned', view: 0 } };
    expect(check.check(run([call(10, 'a'), under], 9000))).toHaveLength(0);
    const back: HistoryEvent = { kind: 'record', t: 4000, node: 'ctrl', event: { ev: 'provisioned', view: 0 } };
    expect(check.check(run([call(10, 'a'), under, back, ret(4900, 'a')], 9000))).toHaveLength(0);
    expect(check.check(run([call(10, 'a'), under, back], 9000))).toHaveLength(1);
  });

  it('fails a reconfiguration that never completes', () => {
    const start: HistoryEvent = { kind: 'record', t: 30, node: 'ctrl', event: { ev: 'reconfigStart', view: 0 } };
    const done: HistoryEvent = { kind: 'record', t: 90, node: 'ctrl', event: { ev: 'reconfigDone', view: 1 } };
    expect(check.check(run([start], 9000))).toHaveLength(1);
    expect(check.check(run([start, done], 9000))).toHaveLength(0);
  });

  it('requires every book\'s probe append and read to succeed, and the workload to finish', () => {
    const probes = logLivenessChecker(1000, 1, true);
    const pa: HistoryEvent = { kind: 'call', t: 10, reqId: 'probe.1', client: 'driver', node: 'eng0', body: { op: 'append', inv: 'p', tags: [1n], data: 'x' } };
    const pr: HistoryEvent = { kind: 'ret', t: 20, reqId: 'probe.1', client: 'driver', node: 'eng0', body: { code: 'APPEND_OK', seqnum: 42n } };
    const qa: HistoryEvent = { kind: 'call', t: 30, reqId: 'probe.2', client: 'driver', node: 'eng0', body: { op: 'readPrev', inv: 'p', tag: 1n, maxSeq: 42n } };
    const qr: HistoryEvent = { kind: 'ret', t: 40, reqId: 'probe.2', client: 'driver', node: 'eng0', body: { code: 'READ_OK', record: { book: 0, seqnum: 42n, localid: 0n, tags: [1n], data: 'x', auxData: null } } };
    expect(probes.check(run([pa, pr, qa, qr], 100))).toHaveLength(0);
    expect(probes.check(run([pa, pr], 100))).toHaveLength(1);
    expect(probes.check(run([pa, pr, qa, qr], 100, 'probe'))).toHaveLength(1);
  });
});
