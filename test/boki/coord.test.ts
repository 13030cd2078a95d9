/**
 * Methodology: the coordination service machine driven directly, step by step, with a fake
 * context, checking ZooKeeper's semantics as coord-api.ts documents them: create modes and
 * sequential names, error codes, one linearizable order (zxids), ephemeral znodes deleted when a
 * session's lease lapses, persistent-recursive and one-shot watches, and per-session message
 * counters that let clients detect lost messages.
 */
import { describe, expect, it } from 'vitest';
import type { Ctx, Effect } from '../../src/core/contract.ts';
import type { ZkRequest, ZkResponse } from '../../src/boki/coord-api.ts';
import { sequenceOf } from '../../src/boki/coord-api.ts';
import { coordMachine, type CoordState, DEFAULT_COORD_CONFIG } from '../../src/boki/coord.ts';

class Zk {
  s: CoordState = coordMachine.init(DEFAULT_COORD_CONFIG, 'zk');
  now = 0;
  timers = new Map<string, number>();
  private ctx(): Ctx {
    return { self: 'zk', nowUs: this.now, maybe: () => false, randomU32: () => 0 };
  }
  private run(effects: readonly Effect[]): { to: string; msg: ZkResponse }[] {
    const out: { to: string; msg: ZkResponse }[] = [];
    for (const e of effects) {
      if (e.type === 'send') out.push({ to: e.to, msg: e.msg as ZkResponse });
      if (e.type === 'setTimer') this.timers.set(e.timer, this.now + e.delayUs);
    }
    return out;
  }
  req(from: string, msg: ZkRequest) {
    const r = coordMachine.step(this.s, { type: 'message', from, msg }, this.ctx());
    this.s = r.state;
    return this.run(r.effects);
  }
  advance(us: number) {
    this.now += us;
    const out: { to: string; msg: ZkResponse }[] = [];
    for (const [t, at] of [...this.timers]) {
      if (at > this.now) continue;
      this.timers.delete(t);
      const r = coordMachine.step(this.s, { type: 'timer', timer: t }, this.ctx());
      this.s = r.state;
      out.push(...this.run(r.effects));
    }
    return out;
  }
  connect(from: string, timeoutMs = 1000): number {
    const [r] = this.req(from, { type: 'zk.connect', xid: 1, timeoutMs });
    expect(r!.msg.type).toBe('zk.connected');
    return (r!.msg as Extract<ZkResponse, { type: 'zk.connected' }>).session;
  }
}

type Reply = Extract<ZkResponse, { type: 'zk.reply' }>;
const reply = (xs: { msg: ZkResponse }[]): Reply => xs.find((x) => x.msg.type === 'zk.reply')!.msg as Reply;

describe('znodes', () => {
  it('creates persistent and sequential znodes with 10-digit counters per parent', () => {
    const zk = new Zk();
    const a = zk.connect('a');
    expect(reply(zk.req('a', { type: 'zk.create', session: a, xid: 2, path: '/boki/x', data: 1, mode: 'persistent' })).err).toBe('ok');
    expect(reply(zk.req('a', { type: 'zk.create', session: a, xid: 3, path: '/boki/x', data: 1, mode: 'persistent' })).err).toBe('nodeExists');
    expect(reply(zk.req('a', { type: 'zk.create', session: a, xid: 4, path: '/nope/x', data: 1, mode: 'persistent' })).err).toBe('noNode');
    const p1 = reply(zk.req('a', { type: 'zk.create', session: a, xid: 5, path: '/boki/view/new-', data: { v: 0 }, mode: 'persistentSequential' })).path!;
    const p2 = reply(zk.req('a', { type: 'zk.create', session: a, xid: 6, path: '/boki/view/freeze-', data: { v: 0 }, mode: 'persistentSequential' })).path!;
    expect(p1).toBe('/boki/view/new-0000000000');
    expect(p2).toBe('/boki/view/freeze-0000000001');
    expect(sequenceOf('freeze-0000000001')).toBe(1);
    const kids = reply(zk.req('a', { type: 'zk.getChildren', session: a, xid: 7, path: '/boki/view', watch: false })).children;
    expect(kids).toEqual(['freeze-0000000001', 'new-0000000000']);
    const g = reply(zk.req('a', { type: 'zk.getData', session: a, xid: 8, path: p1, watch: false }));
    expect(g.data).toEqual({ v: 0 });
    expect(g.stat!.czxid).toBeLessThan(reply(zk.req('a', { type: 'zk.getData', session: a, xid: 9, path: p2, watch: false })).stat!.czxid);
  });

  it('enforces versions on setData and delete, and refuses to delete a parent', () => {
    const zk = new Zk();
    const a = zk.connect('a');
    zk.req('a', { type: 'zk.create', session: a, xid: 2, path: '/boki/p', data: 1, mode: 'persistent' });
    zk.req('a', { type: 'zk.create', session: a, xid: 3, path: '/boki/p/c', data: 1, mode: 'persistent' });
    expect(reply(zk.req('a', { type: 'zk.setData', session: a, xid: 4, path: '/boki/p', data: 2, version: 5 })).err).toBe('badVersion');
    expect(reply(zk.req('a', { type: 'zk.setData', session: a, xid: 5, path: '/boki/p', data: 2, version: 0 })).stat!.version).toBe(1);
    expect(reply(zk.req('a', { type: 'zk.delete', session: a, xid: 6, path: '/boki/p', version: -1 })).err).toBe('notEmpty');
    expect(reply(zk.req('a', { type: 'zk.delete', session: a, xid: 7, path: '/boki/p/c', version: -1 })).err).toBe('ok');
    expect(reply(zk.req('a', { type: 'zk.delete', session: a, xid: 8, path: '/boki/p', version: 0 })).err).toBe('badVersion');
  });
});

describe('sessions and ephemerals', () => {
  it('deletes a lapsed session\'s ephemerals, fires watches, and answers it expired', () => {
    const zk = new Zk();
    const a = zk.connect('a', 1000);
    const w = zk.connect('w', 60_000);
    zk.req('w', { type: 'zk.addWatch', session: w, xid: 2, path: '/boki/node', mode: 'persistentRecursive' });
    const created = zk.req('a', { type: 'zk.create', session: a, xid: 2, path: '/boki/node/eng1-', data: {}, mode: 'ephemeralSequential' });
    expect(created.some((x) => x.to === 'w' && x.msg.type === 'zk.watch' && x.msg.event === 'NodeCreated')).toBe(true);
    expect(reply(zk.req('a', { type: 'zk.create', session: a, xid: 3, path: '/boki/node/eng1-0000000000/kid', data: {}, mode: 'persistent' })).err).toBe('noChildrenForEphemerals');
    // Heartbeats keep the lease alive past its timeout...
    zk.advance(800_000);
    zk.req('a', { type: 'zk.ping', session: a });
    expect(zk.advance(800_000).length).toBe(0);
    // ...silence ends it.
    const fired = zk.advance(300_000);
    expect(fired.some((x) => x.to === 'w' && x.msg.type === 'zk.watch' && x.msg.event === 'NodeDeleted')).toBe(true);
    expect(zk.req('a', { type: 'zk.ping', session: a })[0]!.msg.type).toBe('zk.expired');
    expect(reply(zk.req('w', { type: 'zk.getChildren', session: w, xid: 3, path: '/boki/node', watch: false })).children).toEqual([]);
  });
});

describe('watches and ordering', () => {
  it('one-shot data watches fire once; persistent watches keep firing', () => {
    const zk = new Zk();
    const a = zk.connect('a');
    const b = zk.connect('b');
    zk.req('a', { type: 'zk.create', session: a, xid: 2, path: '/boki/d', data: 0, mode: 'persistent' });
    zk.req('b', { type: 'zk.getData', session: b, xid: 2, path: '/boki/d', watch: true });
    const first = zk.req('a', { type: 'zk.setData', session: a, xid: 3, path: '/boki/d', data: 1, version: -1 });
    const second = zk.req('a', { type: 'zk.setData', session: a, xid: 4, path: '/boki/d', data: 2, version: -1 });
    expect(first.filter((x) => x.to === 'b')).toHaveLength(1);
    expect(second.filter((x) => x.to === 'b')).toHaveLength(0);
    zk.req('b', { type: 'zk.addWatch', session: b, xid: 3, path: '/boki', mode: 'persistentRecursive' });
    expect(zk.req('a', { type: 'zk.setData', session: a, xid: 5, path: '/boki/d', data: 3, version: -1 }).filter((x) => x.to === 'b')).toHaveLength(1);
    expect(zk.req('a', { type: 'zk.setData', session: a, xid: 6, path: '/boki/d', data: 4, version: -1 }).filter((x) => x.to === 'b')).toHaveLength(1);
  });

  it('numbers every message to a session so gaps are detectable, events before later replies', () => {
    const zk = new Zk();
    const a = zk.connect('a');
    const b = zk.connect('b');
    zk.req('b', { type: 'zk.addWatch', session: b, xid: 2, path: '/boki/view', mode: 'persistentRecursive' });
    const ns: number[] = [];
    const take = (xs: { to: string; msg: ZkResponse }[]) => xs.filter((x) => x.to === 'b').forEach((x) => ns.push((x.msg as { n: number }).n));
    take(zk.req('a', { type: 'zk.create', session: a, xid: 2, path: '/boki/view/new-', data: 0, mode: 'persistentSequential' }));
    take(zk.req('b', { type: 'zk.getChildren', session: b, xid: 3, path: '/boki/view', watch: false }));
    take(zk.req('b', { type: 'zk.ping', session: b }));
    expect(ns).toEqual([3, 4, 5]);
  });
});
