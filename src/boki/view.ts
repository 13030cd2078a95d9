/**
 * Views (spec §1.2): immutable configurations written by the controller to the coordination
 * service, and the plans every role derives from one. A `View` is what travels (plain data); a
 * `ViewInfo` is the derived lookup tables a node builds once when it learns the view.
 *
 * Derived rules:
 * - The first `numPhylogs` sequencers lead one physical log each; logspace = view<<16 | sequencer.
 * - The backups of sequencer k are sequencers[(k+j) mod n] for j = 1 .. metalogReplicas-1.
 * - Engine k's shard lives on storages[(k*R + j) mod S] for j < R (the same for every log).
 * - The log of sequencer k is indexed by engines[(k*IR + j) mod E] for j < IR.
 * - Book -> log: hashTokens[bookHash(book, hashSeed) mod tokens] names the leading sequencer.
 */
import { assert } from '../core/assert.ts';
import { bookHash, logspaceId, mulberry32, nodeNumber } from './ids.ts';

export interface View {
  readonly viewId: number;
  readonly metalogReplicas: number;
  readonly userlogReplicas: number;
  readonly indexReplicas: number;
  readonly numPhylogs: number;
  readonly sequencers: readonly string[];
  readonly engines: readonly string[];
  readonly storages: readonly string[];
  readonly hashSeed: number;
  /** Each token is the numeric id of an active sequencer. */
  readonly hashTokens: readonly number[];
}

export interface LogInfo {
  readonly ls: number;
  readonly viewId: number;
  readonly seqIdx: number;
  readonly seqNum: number;
  readonly primary: string;
  readonly backups: readonly string[];
  /** Primary first, then backups. */
  readonly group: readonly string[];
  readonly indexEngines: readonly string[];
}

export interface ViewInfo {
  readonly view: View;
  readonly logs: readonly LogInfo[];
  readonly engineNums: readonly number[];
  /** Engine node id -> position in view order. */
  readonly enginePos: ReadonlyMap<string, number>;
  /** Engine numeric id -> position in view order. */
  readonly enginePosByNum: ReadonlyMap<number, number>;
  /** By engine position: the storage nodes of its shard. */
  readonly storagesOfEngine: readonly (readonly string[])[];
  /** Storage node id -> the engine positions whose shards it holds, ascending. */
  readonly enginesOfStorage: ReadonlyMap<string, readonly number[]>;
  /** Sequencer numeric id -> its log, for active sequencers. */
  readonly logBySeqNum: ReadonlyMap<number, LogInfo>;
}

export function deriveView(view: View): ViewInfo {
  const n = view.sequencers.length;
  assert(view.numPhylogs >= 1 && view.numPhylogs <= n, 'a view has between 1 and n physical logs');
  assert(view.metalogReplicas >= 1 && view.metalogReplicas <= n, 'metalogReplicas must not exceed the sequencers');
  assert(view.engines.length >= 1, 'a view has at least one engine');
  assert(view.storages.length >= view.userlogReplicas, 'a view has at least R storage nodes');
  const E = view.engines.length;
  const S = view.storages.length;
  const R = view.userlogReplicas;
  const IR = Math.min(view.indexReplicas, E);
  const logs: LogInfo[] = [];
  const logBySeqNum = new Map<number, LogInfo>();
  for (let k = 0; k < view.numPhylogs; k++) {
    const primary = view.sequencers[k]!;
    const backups: string[] = [];
    for (let j = 1; j < view.metalogReplicas; j++) backups.push(view.sequencers[(k + j) % n]!);
    const indexEngines: string[] = [];
    for (let j = 0; j < IR; j++) indexEngines.push(view.engines[(k * IR + j) % E]!);
    const seqNum = nodeNumber(primary);
    const info: LogInfo = { ls: logspaceId(view.viewId, seqNum), viewId: view.viewId, seqIdx: k, seqNum, primary, backups, group: [primary, ...backups], indexEngines };
    logs.push(info);
    logBySeqNum.set(seqNum, info);
  }
  const enginePos = new Map<string, number>();
  const enginePosByNum = new Map<number, number>();
  const engineNums: number[] = [];
  view.engines.forEach((e, i) => {
    enginePos.set(e, i);
    const num = nodeNumber(e);
    enginePosByNum.set(num, i);
    engineNums.push(num);
  });
  const storagesOfEngine: string[][] = [];
  const enginesOfStorage = new Map<string, number[]>();
  for (const s of view.storages) enginesOfStorage.set(s, []);
  for (let k = 0; k < E; k++) {
    const set: string[] = [];
    for (let j = 0; j < R; j++) set.push(view.storages[(k * R + j) % S]!);
    storagesOfEngine.push(set);
    for (const s of set) enginesOfStorage.get(s)!.push(k);
  }
  for (const t of view.hashTokens) assert(logBySeqNum.has(t), 'every hash token names an active sequencer');
  return { view, logs, engineNums, enginePos, enginePosByNum, storagesOfEngine, enginesOfStorage, logBySeqNum };
}

/** The physical log of `book` in this view. */
export function logOfBook(vi: ViewInfo, book: number): LogInfo {
  const t = vi.view.hashTokens;
  const tok = t[bookHash(book, vi.view.hashSeed) % t.length]!;
  return vi.logBySeqNum.get(tok)!;
}

export function logByLs(vi: ViewInfo, ls: number): LogInfo | undefined {
  return vi.logBySeqNum.get(ls % 0x1_0000);
}

export interface ViewConfig {
  readonly metalogReplicas: number;
  readonly userlogReplicas: number;
  readonly indexReplicas: number;
  readonly numPhylogs: number;
  readonly hashTokens: number;
  readonly randomSeed: number;
}

/**
 * Builds view `viewId` from node lists (already filtered to the nodes that should serve). The
 * lists are shuffled and new hash tokens drawn from a generator seeded by (randomSeed, viewId),
 * as the prototype's controller reshuffles at every reconfiguration; view 0 keeps the given order
 * so the published topology's roles are predictable (seq0 leads the first log).
 */
export function buildView(viewId: number, cfg: ViewConfig, sequencers: readonly string[], engines: readonly string[], storages: readonly string[]): View {
  const rnd = mulberry32((cfg.randomSeed ^ Math.imul(viewId + 1, 0x9e3779b1)) >>> 0);
  const shuffle = (xs: readonly string[]) => {
    const a = [...xs];
    if (viewId === 0) return a;
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  };
  const seqs = shuffle(sequencers);
  const numPhylogs = Math.min(cfg.numPhylogs, seqs.length);
  const active = seqs.slice(0, numPhylogs).map(nodeNumber);
  const tokens: number[] = [];
  for (let i = 0; i < cfg.hashTokens; i++) tokens.push(active[i % active.length]!);
  for (let i = tokens.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = tokens[i]!;
    tokens[i] = tokens[j]!;
    tokens[j] = t;
  }
  return {
    viewId,
    metalogReplicas: Math.min(cfg.metalogReplicas, seqs.length),
    userlogReplicas: cfg.userlogReplicas,
    indexReplicas: Math.min(cfg.indexReplicas, engines.length),
    numPhylogs,
    sequencers: seqs,
    engines: shuffle(engines),
    storages: shuffle(storages),
    hashSeed: (cfg.randomSeed + viewId * 7919) >>> 0,
    hashTokens: tokens,
  };
}
