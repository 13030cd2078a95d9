/**
 * The controller (spec §6.1, §9.3): creates view 0, detects failures through the coordination
 * service's ephemeral registrations, and seals and reconfigures: freeze -> collect tail reports
 * from a quorum of every physical log's metalog group -> finalize -> new view.
 *
 * Everything it decides is written to the coordination service first and acted on only when it
 * reads it back from the view log, so a restarted controller resumes from the log alone: the
 * freeze record carries the next configuration, the new-view record the boot nonces its members
 * had (a changed nonce means the node restarted since and lost its volatile state).
 *
 * The view log is totally ordered, so the first record for a view wins everywhere: if a lost
 * reply made the controller write a record twice, every node (the controller included) ignores
 * the duplicate.
 */
import { assertNever } from '../core/assert.ts';
import type { Ctx, Effect, Machine } from '../core/contract.ts';
import { record, setTimer } from '../core/contract.ts';
import { sequenceOf, ZK_FREEZE, ZK_NODES, ZK_VIEWS } from './coord-api.ts';
import type { ZkResponse } from './coord-api.ts';
import { bookRecord, type BokiConfig, newViewBook, type ViewBook, armRepair as armRepairTimer } from './common.ts';
import type { FinalLog, FreezeReport, MetaEntry, NodeMessage } from './messages.ts';
import { buildView, type View } from './view.ts';
import { newZkClient, type ViewRecord, zkCreate, zkGetChildren, zkGetData, type ZkClient, type ZkEvent, zkOnMessage, zkOnTimer, zkRetryOwn, zkStart, ZK_HEARTBEAT_TIMER } from './zk-client.ts';

interface Member {
  readonly id: string;
  readonly role: string;
  readonly boot: number;
  readonly seq: number;
}

export interface NextConfig {
  readonly sequencers: readonly string[];
  readonly engines: readonly string[];
  readonly storages: readonly string[];
  readonly boots: Readonly<Record<string, number>>;
}

interface Expect {
  readonly kind: 'freeze' | 'finalize' | 'new';
  readonly viewId: number;
  sentUs: number;
}

export interface ControllerState {
  readonly cfg: BokiConfig;
  readonly self: string;
  readonly zk: ZkClient;
  views: ViewBook;
  /** Boot nonces recorded in each view's record, by view id. */
  viewBoots: Map<number, Readonly<Record<string, number>>>;
  /** Live registrations: znode name -> member. */
  members: Map<string, Member>;
  membersListed: boolean;
  reports: Map<string, FreezeReport>;
  reportsListed: boolean;
  /** The seal under way: the view being sealed and the configuration that follows. */
  sealing: { readonly viewId: number; readonly next: NextConfig } | null;
  finalizeSent: boolean;
  expect: Expect | null;
  debounceArmed: boolean;
  repairArmed: boolean;
  bootWaitOver: boolean;
  underProvisioned: boolean;
  /** Variant reconfig-keeps-dead-nodes: dead nodes a view already kept. */
  keptDead: Set<string>;
  /** For reports: completed reconfigurations. */
  reconfigurations: number;
}

type Eff = Effect<NodeMessage>;

const QUORUM_PURPOSE = 'ctl';

function newState(cfg: BokiConfig, self: string): ControllerState {
  return {
    cfg,
    self,
    zk: newZkClient(self, 'controller', cfg.p.heartbeatIntervalMs, cfg.p.failureTimeoutMs, 0, [ZK_NODES, ZK_FREEZE]),
    views: newViewBook(),
    viewBoots: new Map(),
    members: new Map(),
    membersListed: false,
    reports: new Map(),
    reportsListed: false,
    sealing: null,
    finalizeSent: false,
    expect: null,
    debounceArmed: false,
    repairArmed: false,
    bootWaitOver: false,
    underProvisioned: false,
    keptDead: new Set(),
    reconfigurations: 0,
  };
}

export const controllerMachine: Machine<BokiConfig, ControllerState, NodeMessage> = {
  role: 'controller',
  init: (cfg, self) => newState(cfg, self),
  recover: (cfg, self) => newState(cfg, self),
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
        s.zk.boot = ctx.randomU32('boot');
        zkStart(s.zk, ctx.nowUs, out);
        out.push(setTimer('bootWait', Math.max(1, s.cfg.p.bootWaitMs * 1000)));
        break;
      case 'timer':
        if (input.timer === ZK_HEARTBEAT_TIMER) onZk(s, zkOnTimer(s.zk, ctx.nowUs, out), ctx, out);
        else if (input.timer === 'bootWait') {
          s.bootWaitOver = true;
          evaluate(s, ctx, out);
        } else if (input.timer === 'debounce') {
          s.debounceArmed = false;
          evaluate(s, ctx, out);
        } else if (input.timer === 'repair') repair(s, ctx, out);
        break;
      case 'message':
        if (input.msg.type.startsWith('zk.')) onZk(s, zkOnMessage(s.zk, input.msg as ZkResponse, ctx.nowUs, out), ctx, out);
        break;
      case 'client':
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

// ---------------------------------------------------------------------------------------------
// Coordination events

function onZk(s: ControllerState, evs: ZkEvent[], ctx: Ctx, out: Eff[]): void {
  for (const ev of evs) {
    if (zkRetryOwn(s.zk, ev, ctx.nowUs, out)) continue;
    switch (ev.k) {
      case 'session':
      case 'gap':
        zkGetChildren(s.zk, ctx.nowUs, `${QUORUM_PURPOSE}:nodedir`, ZK_NODES, out);
        zkGetChildren(s.zk, ctx.nowUs, `${QUORUM_PURPOSE}:freezedir`, ZK_FREEZE, out);
        break;
      case 'expired':
        s.membersListed = false;
        s.reportsListed = false;
        break;
      case 'watch':
        onWatch(s, ev.event, ev.path, ctx, out);
        break;
      case 'reply':
        onReply(s, ev.purpose, ev.rep, ctx, out);
        break;
      case 'lost':
        // Reads are retried. A write whose reply was lost may or may not have happened: re-issue
        // it now (a duplicate record is ignored by every reader, the first one wins).
        if (ev.purpose === `${QUORUM_PURPOSE}:freeze` || ev.purpose === `${QUORUM_PURPOSE}:finalize` || ev.purpose === `${QUORUM_PURPOSE}:new`) {
          if (s.expect) s.expect.sentUs = -Infinity;
          repair(s, ctx, out);
        } else if (ev.purpose === 'watch') {
          zkGetChildren(s.zk, ctx.nowUs, `${QUORUM_PURPOSE}:nodedir`, ZK_NODES, out);
          zkGetChildren(s.zk, ctx.nowUs, `${QUORUM_PURPOSE}:freezedir`, ZK_FREEZE, out);
        } else if (ev.purpose.endsWith('dir')) zkGetChildren(s.zk, ctx.nowUs, ev.purpose, ev.purpose.endsWith('nodedir') ? ZK_NODES : ZK_FREEZE, out);
        else if (ev.purpose.startsWith('member:')) zkGetData(s.zk, ctx.nowUs, ev.purpose, `${ZK_NODES}/${ev.purpose.slice(7)}`, out);
        else if (ev.purpose.startsWith('report:')) zkGetData(s.zk, ctx.nowUs, ev.purpose, `${ZK_FREEZE}/${ev.purpose.slice(7)}`, out);
        break;
      case 'view':
        onViewRecord(s, ev.rec, ctx, out);
        break;
      default:
        assertNever(ev, 'zk event');
    }
  }
}

function onWatch(s: ControllerState, event: string, path: string, ctx: Ctx, out: Eff[]): void {
  if (path.startsWith(ZK_NODES + '/')) {
    const name = path.slice(ZK_NODES.length + 1);
    if (event === 'NodeCreated') zkGetData(s.zk, ctx.nowUs, `member:${name}`, path, out);
    else if (event === 'NodeDeleted' && s.members.delete(name)) membershipChanged(s, out);
  } else if (path.startsWith(ZK_FREEZE + '/') && event === 'NodeCreated') {
    const name = path.slice(ZK_FREEZE.length + 1);
    if (!s.reports.has(name)) zkGetData(s.zk, ctx.nowUs, `report:${name}`, path, out);
  }
}

function onReply(s: ControllerState, purpose: string, rep: Extract<ZkResponse, { type: 'zk.reply' }>, ctx: Ctx, out: Eff[]): void {
  if (purpose === `${QUORUM_PURPOSE}:nodedir`) {
    if (rep.err !== 'ok') return;
    const names = new Set(rep.children ?? []);
    let changed = false;
    for (const name of [...s.members.keys()]) {
      if (!names.has(name)) {
        s.members.delete(name);
        changed = true;
      }
    }
    for (const name of names) if (!s.members.has(name)) zkGetData(s.zk, ctx.nowUs, `member:${name}`, `${ZK_NODES}/${name}`, out);
    s.membersListed = true;
    if (changed) membershipChanged(s, out);
    evaluate(s, ctx, out);
  } else if (purpose === `${QUORUM_PURPOSE}:freezedir`) {
    if (rep.err !== 'ok') return;
    for (const name of rep.children ?? []) if (!s.reports.has(name)) zkGetData(s.zk, ctx.nowUs, `report:${name}`, `${ZK_FREEZE}/${name}`, out);
    s.reportsListed = true;
  } else if (purpose.startsWith('member:')) {
    if (rep.err !== 'ok') return;
    const name = purpose.slice(7);
    const d = rep.data as { id: string; role: string; boot: number };
    s.members.set(name, { id: d.id, role: d.role, boot: d.boot, seq: sequenceOf(name) });
    membershipChanged(s, out);
    if (!s.views.infos.length) evaluate(s, ctx, out);
  } else if (purpose.startsWith('report:')) {
    if (rep.err !== 'ok') return;
    s.reports.set(purpose.slice(7), rep.data as FreezeReport);
    tryFinishSeal(s, ctx, out);
  }
}

function onViewRecord(s: ControllerState, rec: ViewRecord, ctx: Ctx, out: Eff[]): void {
  switch (rec.kind) {
    case 'new': {
      if (!bookRecord(s.views, rec)) return; // a duplicate: the first record won
      s.viewBoots.set(rec.view.viewId, rec.boots);
      if (s.expect?.kind === 'new' && s.expect.viewId <= rec.view.viewId) s.expect = null;
      if (s.sealing && s.sealing.viewId < rec.view.viewId) {
        s.sealing = null;
        s.finalizeSent = false;
        s.reconfigurations++;
        out.push(record({ ev: 'reconfigDone', view: rec.view.viewId, sequencers: rec.view.sequencers, engines: rec.view.engines, storages: rec.view.storages }));
      }
      evaluate(s, ctx, out);
      return;
    }
    case 'freeze':
      if (s.expect?.kind === 'freeze' && s.expect.viewId === rec.viewId) s.expect = null;
      if (!bookRecord(s.views, rec)) return;
      if (s.sealing === null) {
        s.sealing = { viewId: rec.viewId, next: rec.next as NextConfig };
        s.finalizeSent = false;
        tryFinishSeal(s, ctx, out);
      }
      return;
    case 'finalize':
      if (!bookRecord(s.views, rec)) return;
      if (s.sealing && s.sealing.viewId === rec.viewId) {
        s.finalizeSent = true;
        createNextView(s, ctx, out);
      }
      return;
    default:
      assertNever(rec, 'view record');
  }
}

// ---------------------------------------------------------------------------------------------
// Failure detection and the decision to reconfigure

function membershipChanged(s: ControllerState, out: Eff[]): void {
  if (s.debounceArmed) return;
  s.debounceArmed = true;
  out.push(setTimer('debounce', Math.max(1, s.cfg.p.reconfigDebounceMs * 1000)));
}

/** Newest registration per node id: who is alive, and with which boot nonce. */
function alive(s: ControllerState): Map<string, Member> {
  const m = new Map<string, Member>();
  for (const mem of s.members.values()) {
    const prev = m.get(mem.id);
    if (!prev || prev.seq < mem.seq) m.set(mem.id, mem);
  }
  return m;
}

function synced(s: ControllerState): boolean {
  const z = s.zk;
  return z.session !== 0 && s.membersListed && z.firstListingEnd >= 0 && z.nextViewSeq >= z.firstListingEnd;
}

function evaluate(s: ControllerState, ctx: Ctx, out: Eff[]): void {
  if (!synced(s) || s.expect !== null || s.sealing !== null) return;
  const live = alive(s);
  const seqs = s.cfg.sequencers.filter((id) => live.has(id));
  const engs = s.cfg.engines.filter((id) => live.has(id));
  const stos = s.cfg.storages.filter((id) => live.has(id));
  const boots: Record<string, number> = {};
  for (const [id, m] of live) boots[id] = m.boot;
  if (s.views.current < 0) {
    const everyone = seqs.length === s.cfg.sequencers.length && engs.length === s.cfg.engines.length && stos.length === s.cfg.storages.length;
    if (!everyone && !s.bootWaitOver) return;
    if (!provisioned(s, seqs, engs, stos, out)) return;
    createView(s, buildView(0, viewCfg(s), seqs, engs, stos), boots, ctx, out);
    return;
  }
  const vi = s.views.infos[s.views.current]!;
  const v = vi.view;
  const vb = s.viewBoots.get(v.viewId) ?? {};
  const failed: string[] = [];
  const groupMembers = new Set<string>();
  for (const log of vi.logs) for (const n of log.group) groupMembers.add(n);
  for (const n of groupMembers) if (!live.has(n) || live.get(n)!.boot !== vb[n]) failed.push(n);
  for (const n of v.engines) if (!live.has(n) || live.get(n)!.boot !== vb[n]) failed.push(n);
  for (const n of v.storages) if (!live.has(n)) failed.push(n);
  if (s.cfg.variant === 'reconfig-keeps-dead-nodes') {
    // The published controller keeps dead engines and storage nodes: once a view kept them,
    // their death is no longer a reason to reconfigure.
    for (let i = failed.length - 1; i >= 0; i--) if (s.keptDead.has(failed[i]!)) failed.splice(i, 1);
  }
  const joined = [...engs.filter((n) => !v.engines.includes(n)), ...stos.filter((n) => !v.storages.includes(n))];
  if (failed.length === 0 && joined.length === 0) {
    if (s.underProvisioned) {
      s.underProvisioned = false;
      out.push(record({ ev: 'provisioned', view: v.viewId }));
    }
    return;
  }
  if (s.cfg.variant === 'manual-reconfig-only') {
    // The published controller only logs what it sees; an operator must write cmd/reconfig.
    return;
  }
  let nextEngs = engs;
  let nextStos = stos;
  if (s.cfg.variant === 'reconfig-keeps-dead-nodes') {
    nextEngs = [...v.engines, ...engs.filter((n) => !v.engines.includes(n))];
    nextStos = [...v.storages, ...stos.filter((n) => !v.storages.includes(n))];
    for (const n of [...nextEngs, ...nextStos]) if (!live.has(n)) s.keptDead.add(n);
  }
  if (!provisioned(s, seqs, nextEngs, nextStos, out)) return;
  const next: NextConfig = { sequencers: seqs, engines: nextEngs, storages: nextStos, boots };
  out.push(record({ ev: 'reconfigStart', view: v.viewId, failed, joined }));
  s.expect = { kind: 'freeze', viewId: v.viewId, sentUs: ctx.nowUs };
  zkCreate(s.zk, ctx.nowUs, `${QUORUM_PURPOSE}:freeze`, `${ZK_VIEWS}/freeze-`, { viewId: v.viewId, next }, 'persistentSequential', out);
  armRepair(s, out);
}

/** Spec §9.3: too few nodes to form a view -> record it and keep the current view. */
function provisioned(s: ControllerState, seqs: readonly string[], engs: readonly string[], stos: readonly string[], out: Eff[]): boolean {
  const p = s.cfg.p;
  const ok = seqs.length >= p.metalogReplicas && seqs.length >= p.numPhylogs && stos.length >= p.userlogReplicas && engs.length >= 1;
  if (!ok && !s.underProvisioned) {
    s.underProvisioned = true;
    out.push(record({ ev: 'underProvisioned', view: s.views.current, sequencers: seqs.length, engines: engs.length, storages: stos.length }));
  }
  if (ok && s.underProvisioned && s.views.current < 0) s.underProvisioned = false;
  return ok;
}

function viewCfg(s: ControllerState) {
  const p = s.cfg.p;
  return { metalogReplicas: p.metalogReplicas, userlogReplicas: p.userlogReplicas, indexReplicas: p.indexReplicas, numPhylogs: p.numPhylogs, hashTokens: p.hashTokens, randomSeed: p.randomSeed };
}

function createView(s: ControllerState, view: View, boots: Record<string, number>, ctx: Ctx, out: Eff[]): void {
  s.expect = { kind: 'new', viewId: view.viewId, sentUs: ctx.nowUs };
  zkCreate(s.zk, ctx.nowUs, `${QUORUM_PURPOSE}:new`, `${ZK_VIEWS}/new-`, { view, boots }, 'persistentSequential', out);
  armRepair(s, out);
}

// ---------------------------------------------------------------------------------------------
// Sealing

function tryFinishSeal(s: ControllerState, ctx: Ctx, out: Eff[]): void {
  const sealing = s.sealing;
  if (!sealing || s.finalizeSent) return;
  const vi = s.views.infos[sealing.viewId];
  if (!vi) return;
  const need = Math.floor((vi.view.metalogReplicas + 1) / 2);
  const finals: FinalLog[] = [];
  for (const log of vi.logs) {
    const byK = new Map<number, MetaEntry>();
    let got = 0;
    let finalPos = 0;
    for (const member of log.group) {
      const rep = s.reports.get(`${sealing.viewId}-${member}`);
      if (!rep) continue;
      const part = rep.logs.find((l) => l.ls === log.ls);
      if (!part) continue;
      // The published quorum check compares the report's logspace id with the sequencer id,
      // which are equal only in view 0 (variant seal-only-from-view-0).
      if (s.cfg.variant === 'seal-only-from-view-0' && part.ls !== log.seqNum) continue;
      got++;
      finalPos = Math.max(finalPos, part.position);
      for (const e of part.tail) if (!byK.has(e.k)) byK.set(e.k, e);
    }
    if (got < need) return;
    // Replicas differ only in length, never in content; the final tail is the contiguous run of
    // reported entries that ends at the longest position.
    const tail: MetaEntry[] = [];
    for (let k = finalPos - 1; k >= 0 && byK.has(k) && tail.length < s.cfg.p.sealTailEntries; k--) tail.push(byK.get(k)!);
    tail.reverse();
    finals.push({ ls: log.ls, finalPos, tail });
  }
  s.finalizeSent = true;
  // The new view is written only once the finalize record is in the log (onViewRecord): a view
  // must never appear without its predecessor's final tails, even if a request is lost.
  s.expect = { kind: 'finalize', viewId: sealing.viewId, sentUs: ctx.nowUs };
  zkCreate(s.zk, ctx.nowUs, `${QUORUM_PURPOSE}:finalize`, `${ZK_VIEWS}/finalize-`, { viewId: sealing.viewId, logs: finals }, 'persistentSequential', out);
  armRepair(s, out);
}

function createNextView(s: ControllerState, ctx: Ctx, out: Eff[]): void {
  const sealing = s.sealing!;
  const next = sealing.next;
  createView(s, buildView(sealing.viewId + 1, viewCfg(s), next.sequencers, next.engines, next.storages), next.boots as Record<string, number>, ctx, out);
}

function armRepair(s: ControllerState, out: Eff[]): void {
  armRepairTimer(s, out, 5 * s.cfg.p.heartbeatIntervalMs * 1000);
}

/** Re-issues a write whose record never showed up in the view log (its reply was lost). */
function repair(s: ControllerState, ctx: Ctx, out: Eff[]): void {
  s.repairArmed = false;
  const ex = s.expect;
  if (!ex) return;
  if (ctx.nowUs - ex.sentUs < 5 * s.cfg.p.heartbeatIntervalMs * 1000) return armRepair(s, out);
  ex.sentUs = ctx.nowUs;
  s.expect = null;
  if (ex.kind === 'freeze' || s.views.current < 0) evaluate(s, ctx, out);
  else if (ex.kind === 'finalize' && s.sealing) {
    s.finalizeSent = false;
    tryFinishSeal(s, ctx, out);
  } else if (ex.kind === 'new' && s.sealing) createNextView(s, ctx, out);
  armRepair(s, out);
}
