/**
 * The network model: per directed link a latency distribution, drop, duplicate and reorder
 * probabilities, extra delay and FIFO order; partitions (symmetric, asymmetric, one-way) and
 * timed link faults on top. Links behave like TCP connections when `fifo` is set: deliveries never
 * overtake each other, and a partition or a crash of either end breaks the connection, dropping
 * what was in flight (each link has an epoch; a message from an older epoch is dropped).
 *
 * State lives in flat n*n typed arrays indexed by `from * n + to`, so a send does no allocation
 * besides the queue entry.
 */
import { assert, InputError } from '../src/core/assert.ts';
import type { Decisions } from './decisions.ts';
import { isRandom, sampleDist } from './dist.ts';
import type { LinkModel, Scenario } from '../src/scenario/scenario.ts';
import { DEFAULT_CLIENT_LINK, DEFAULT_LINK } from '../src/scenario/scenario.ts';

export interface NetNode {
  readonly id: string;
  readonly role: string;
  readonly driver: boolean;
}

/** Matches a link or fault selector: "*", a node id, "role:<role>" or "drivers". */
export function selectorMatches(sel: string, n: NetNode): boolean {
  if (sel === '*') return true;
  if (sel.startsWith('role:')) return n.role === sel.slice(5);
  return n.id === sel;
}

export function checkSelector(sel: string, nodes: readonly NetNode[], where: string): void {
  if (sel === '*' || sel.startsWith('role:')) {
    if (sel.startsWith('role:') && !nodes.some((n) => n.role === sel.slice(5))) {
      throw new InputError(`${where}: no node has role '${sel.slice(5)}'`);
    }
    return;
  }
  if (!nodes.some((n) => n.id === sel)) {
    throw new InputError(`${where}: unknown node '${sel}' (nodes: ${nodes.map((n) => n.id).join(', ')})`);
  }
}

export interface LinkFault {
  drop: number;
  duplicate: number;
  reorder: number;
  delayUs: number;
}

interface LinkLabels {
  readonly drop: string;
  readonly lat: string;
  readonly reorder: string;
  readonly reorderDelay: string;
  readonly dup: string;
  readonly dupLat: string;
}

/**
 * What `plan` decided. The network hands out one reused object (a send allocates nothing): read
 * it before the next `plan` call.
 */
export interface Delivery {
  /** How many copies will arrive (0, 1 or 2): the first at t0, a duplicate at t1. */
  readonly count: number;
  readonly t0: number;
  readonly t1: number;
  readonly epoch: number;
}

export type NetFate = 'drop' | 'duplicate' | 'reorder' | 'delay' | 'partitioned';

export class Network {
  readonly n: number;
  private readonly models: LinkModel[];
  private readonly blocked: Uint16Array;
  private readonly epochs: Uint32Array;
  private readonly lastDelivery: Float64Array;
  private readonly delivery: { count: number; t0: number; t1: number; epoch: number } = { count: 0, t0: 0, t1: 0, epoch: 0 };
  private readonly faults: (LinkFault | null)[];
  private readonly labels: LinkLabels[];
  /** Called for every message the network drops, duplicates, reorders or delays. */
  onFate: (fate: NetFate, from: number, to: number) => void = () => {};

  constructor(
    readonly nodes: readonly NetNode[],
    net: Scenario['network'],
    private readonly decisions: Decisions,
  ) {
    const n = nodes.length;
    this.n = n;
    this.blocked = new Uint16Array(n * n);
    this.epochs = new Uint32Array(n * n);
    this.lastDelivery = new Float64Array(n * n);
    this.faults = new Array(n * n).fill(null);
    this.models = new Array(n * n);
    this.labels = new Array(n * n);
    net.links.forEach((l, i) => {
      checkSelector(l.from, nodes, `network.links[${i}].from`);
      checkSelector(l.to, nodes, `network.links[${i}].to`);
    });
    const base: LinkModel = { ...DEFAULT_LINK, ...net.default };
    const client: LinkModel = { ...DEFAULT_CLIENT_LINK, ...net.client };
    for (let f = 0; f < n; f++) {
      for (let t = 0; t < n; t++) {
        const a = nodes[f]!;
        const b = nodes[t]!;
        let m: LinkModel = a.driver || b.driver ? client : base;
        for (const l of net.links) {
          if (selectorMatches(l.from, a) && selectorMatches(l.to, b)) {
            const { from: _f, to: _t, ...over } = l;
            m = { ...m, ...over };
          }
        }
        this.models[f * n + t] = m;
        const name = `net:${a.id}>${b.id}`;
        this.labels[f * n + t] = {
          drop: name + ':drop',
          lat: name + ':lat',
          reorder: name + ':reorder',
          reorderDelay: name + ':reorderDelay',
          dup: name + ':dup',
          dupLat: name + ':dupLat',
        };
      }
    }
  }

  model(from: number, to: number): LinkModel {
    return this.models[from * this.n + to]!;
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked[from * this.n + to]! > 0;
  }

  epoch(from: number, to: number): number {
    return this.epochs[from * this.n + to]!;
  }

  /** Breaks every connection to and from a node (it crashed or restarted). */
  breakNode(i: number): void {
    const n = this.n;
    for (let j = 0; j < n; j++) {
      this.epochs[i * n + j]!++;
      this.epochs[j * n + i]!++;
      this.lastDelivery[i * n + j] = 0;
      this.lastDelivery[j * n + i] = 0;
    }
  }

  block(from: number, to: number): void {
    const k = from * this.n + to;
    assert(this.blocked[k]! < 0xffff, 'too many overlapping partitions on one link');
    this.blocked[k]!++;
    this.epochs[k]!++;
  }

  unblock(from: number, to: number): void {
    const k = from * this.n + to;
    if (this.blocked[k]! > 0) this.blocked[k]!--;
  }

  healAll(): void {
    this.blocked.fill(0);
  }

  setLinkFault(from: number, to: number, f: LinkFault | null): void {
    this.faults[from * this.n + to] = f;
  }

  clearLinkFaults(): void {
    this.faults.fill(null);
  }

  /**
   * Decides the fate of one message sent now: which copies arrive, and when. Every random choice
   * goes through the decision log, labelled with the link.
   */
  plan(from: number, to: number, now: number): Delivery {
    const k = from * this.n + to;
    const out = this.delivery;
    out.count = 0;
    out.epoch = this.epochs[k]!;
    if (this.blocked[k]! > 0) {
      this.onFate('partitioned', from, to);
      return out;
    }
    const m = this.models[k]!;
    const lf = this.faults[k];
    const label = this.labels[k]!;
    const d = this.decisions;
    const drop = lf ? Math.max(m.drop, lf.drop) : m.drop;
    if (drop > 0 && d.bool(label.drop, drop)) {
      this.onFate('drop', from, to);
      return out;
    }
    const extra = m.delayUs + (lf ? lf.delayUs : 0);
    if (lf && lf.delayUs > 0) this.onFate('delay', from, to);
    let t = now + extra + (isRandom(m.latency) ? sampleDist(m.latency, d.float(label.lat)) : sampleDist(m.latency, 0));
    const reorder = lf ? Math.max(m.reorder, lf.reorder) : m.reorder;
    if (reorder > 0 && d.bool(label.reorder, reorder)) {
      // A reordered message is held back and does not constrain later ones, so they overtake it.
      this.onFate('reorder', from, to);
      t += sampleDist(m.reorderDelay, d.float(label.reorderDelay)) + 1;
      out.t0 = t;
    } else {
      if (m.fifo && t < this.lastDelivery[k]!) t = this.lastDelivery[k]!;
      if (m.fifo) this.lastDelivery[k] = t;
      out.t0 = t;
    }
    out.count = 1;
    const dup = lf ? Math.max(m.duplicate, lf.duplicate) : m.duplicate;
    if (dup > 0 && d.bool(label.dup, dup)) {
      this.onFate('duplicate', from, to);
      out.t1 = now + extra + (isRandom(m.latency) ? sampleDist(m.latency, d.float(label.dupLat)) : sampleDist(m.latency, 0));
      out.count = 2;
    }
    return out;
  }
}
