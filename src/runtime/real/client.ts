/**
 * The client side of the real runtime: issues requests to nodes over `client` connections and
 * delivers their replies. Workload drivers run inside a host whose `request` effects go through
 * one of these; tools and tests use `call` and `status` directly. Every request is recorded as a
 * `call` and its first reply as a `ret` in the history, exactly as the simulator records them,
 * so the same checkers judge real runs.
 */
import type { NodeId } from '../../core/contract.ts';
import type { ClusterAuth } from './auth.ts';
import type { NodeSpec } from '../../core/system.ts';
import { wallUs } from './clock.ts';
import { type Addr, type ConnLimits, DEFAULT_LIMITS, OutLink, STATE_MAX_BYTES_DEFAULT } from './conn.ts';
import { FrameError } from './frame.ts';
import type { HistorySink } from './history.ts';
import { decodePayload, encodeEnvelope, type NodeStatus, parseServerFrame, WIRE_VERSION } from './wire.ts';

export interface ClientOptions {
  readonly cluster: string;
  /** This client's id (the `client` field of its history events). */
  readonly id: string;
  readonly addressOf: (node: NodeId) => Addr | null;
  /** The system's nodes, for reply shape checks (`NodeSpec.wire.reply`); optional. */
  readonly nodes?: readonly NodeSpec[];
  readonly history?: HistorySink | null;
  readonly limits?: ConnLimits;
  /** Every first reply to a request this client issued. */
  readonly onReply?: (from: NodeId, reqId: string, body: unknown) => void;
  /** Requests awaiting a reply, at most (default 100,000). */
  readonly outstandingMax?: number;
  /** Accept `stateRep` frames up to `limits.stateMaxBytes` (for `state`). */
  readonly acceptStates?: boolean;
  /** The cluster secret, for the hellos (auth.ts). */
  readonly auth?: ClusterAuth | null;
}

interface Waiting {
  readonly to: NodeId;
  resolve?: (body: unknown) => void;
  reject?: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export class ClientTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientTimeout';
  }
}

export class ConnectionLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionLost';
  }
}

export class RealClient {
  private readonly links = new Map<NodeId, OutLink>();
  private readonly outstanding = new Map<string, Waiting>();
  private readonly statusWaits = new Map<number, { resolve: (s: NodeStatus) => void; timer: NodeJS.Timeout }>();
  private readonly stateWaits = new Map<number, { resolve: (s: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly specs = new Map<NodeId, NodeSpec>();
  private readonly limits: ConnLimits;
  private seq = 0;
  private closed = false;
  readonly counters = { requests: 0, replies: 0, strayReplies: 0, dropped: 0 };

  constructor(private readonly o: ClientOptions) {
    this.limits = o.limits ?? DEFAULT_LIMITS;
    for (const n of o.nodes ?? []) this.specs.set(n.id, n);
  }

  private link(to: NodeId): OutLink {
    let l = this.links.get(to);
    if (!l) {
      l = new OutLink({
        hello: { t: 'hello', v: WIRE_VERSION, cluster: this.o.cluster, kind: 'client', from: this.o.id, to },
        auth: this.o.auth ?? null,
        address: () => this.o.addressOf(to),
        limits: this.o.acceptStates ? { ...this.limits, maxFrameBytes: this.limits.stateMaxBytes ?? STATE_MAX_BYTES_DEFAULT } : this.limits,
        onFrame: (p) => this.onFrame(to, p),
        onClose: (why) => this.failCalls(to, why),
      });
      this.links.set(to, l);
    }
    return l;
  }

  /**
   * A broken connection fails the `call`s waiting on it: their requests may or may not have
   * taken effect, and their calls stay in the history without a return (indeterminate), as the
   * checkers expect of a client that lost its server. Plain `request`s stay outstanding.
   */
  private failCalls(to: NodeId, why: string): void {
    for (const [reqId, w] of this.outstanding) {
      if (w.to !== to || !w.reject) continue;
      this.outstanding.delete(reqId);
      if (w.timer) clearTimeout(w.timer);
      w.reject(new ConnectionLost(`request ${reqId} to ${to}: connection lost (${why}); it may or may not have taken effect`));
    }
  }

  private onFrame(from: NodeId, payload: Buffer): void {
    const f = parseServerFrame(decodePayload(payload));
    if (f.t === 'stateRep') {
      const w = this.stateWaits.get(f.id);
      if (w) {
        this.stateWaits.delete(f.id);
        clearTimeout(w.timer);
        if (f.error !== null) w.reject(new Error(f.error));
        else w.resolve(f.state);
      }
      return;
    }
    if (f.t === 'statusRep') {
      const w = this.statusWaits.get(f.id);
      if (w) {
        this.statusWaits.delete(f.id);
        clearTimeout(w.timer);
        w.resolve(f.status);
      }
      return;
    }
    const w = this.outstanding.get(f.reqId);
    if (!w || w.to !== from) {
      this.counters.strayReplies++; // a duplicate, or a reply to someone else's request id
      return;
    }
    const why = this.specs.get(from)?.wire?.reply?.(f.body) ?? null;
    if (why !== null) throw new FrameError('malformed', `reply from ${from}: ${why}`);
    this.outstanding.delete(f.reqId);
    if (w.timer) clearTimeout(w.timer);
    this.counters.replies++;
    this.o.history?.append({ kind: 'ret', t: wallUs(), reqId: f.reqId, client: this.o.id, node: from, body: f.body });
    this.o.onReply?.(from, f.reqId, f.body);
    w.resolve?.(f.body);
  }

  /**
   * Sends one request and records its call. The reply, if any, goes to `onReply`. Returns false
   * when the request could not even be queued (the node is unreachable): it stays outstanding, as
   * a request lost in the network does, and its call stays in the history without a return.
   */
  request(to: NodeId, reqId: string, body: unknown): boolean {
    if (this.closed) throw new Error('client closed');
    const max = this.o.outstandingMax ?? 100_000;
    if (!this.outstanding.has(reqId) && this.outstanding.size >= max) throw new Error(`client ${this.o.id}: over ${max} outstanding requests`);
    if (!this.outstanding.has(reqId)) this.outstanding.set(reqId, { to });
    this.counters.requests++;
    this.o.history?.append({ kind: 'call', t: wallUs(), reqId, client: this.o.id, node: to, body });
    const ok = this.link(to).send(encodeEnvelope({ t: 'req', reqId, body }, this.limits.maxFrameBytes));
    if (!ok) this.counters.dropped++;
    return ok;
  }

  /** Issues a request with a fresh id and resolves with its reply, or rejects after `timeoutMs`. */
  call(to: NodeId, body: unknown, timeoutMs = 10_000, reqId = `${this.o.id}#${++this.seq}`): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const w: Waiting = { to, resolve, reject };
      w.timer = setTimeout(() => {
        if (this.outstanding.get(reqId) !== w) return;
        this.outstanding.delete(reqId);
        reject(new ClientTimeout(`request ${reqId} to ${to}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.outstanding.set(reqId, w);
      this.request(to, reqId, body);
    });
  }

  /** Asks a node for its status over the client protocol. */
  status(to: NodeId, timeoutMs = 2000): Promise<NodeStatus> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.statusWaits.delete(id);
        reject(new ClientTimeout(`status of ${to}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.statusWaits.set(id, { resolve, timer });
      if (!this.link(to).send(encodeEnvelope({ t: 'status', id }, this.limits.maxFrameBytes))) {
        clearTimeout(timer);
        this.statusWaits.delete(id);
        reject(new ClientTimeout(`status of ${to}: unreachable`));
      }
    });
  }

  /**
   * Asks a node for its machine's whole state. The answer may be far larger than an ordinary
   * frame: only clients built with `acceptStates` (whose links accept frames up to
   * `limits.stateMaxBytes`) may ask.
   */
  state(to: NodeId, timeoutMs = 10_000): Promise<unknown> {
    if (!this.o.acceptStates) return Promise.reject(new Error('this client does not accept states (acceptStates)'));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stateWaits.delete(id);
        reject(new ClientTimeout(`state of ${to}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.stateWaits.set(id, { resolve, reject, timer });
      if (!this.link(to).send(encodeEnvelope({ t: 'state', id }, this.limits.maxFrameBytes))) {
        clearTimeout(timer);
        this.stateWaits.delete(id);
        reject(new ClientTimeout(`state of ${to}: unreachable`));
      }
    });
  }

  get pending(): number {
    return this.outstanding.size;
  }

  close(): void {
    this.closed = true;
    for (const l of this.links.values()) l.close();
    this.links.clear();
    for (const [, w] of this.outstanding) {
      if (w.timer) clearTimeout(w.timer);
      w.reject?.(new Error('client closed'));
    }
    this.outstanding.clear();
    for (const [, w] of this.statusWaits) clearTimeout(w.timer);
    this.statusWaits.clear();
    for (const [, w] of this.stateWaits) {
      clearTimeout(w.timer);
      w.reject(new Error('client closed'));
    }
    this.stateWaits.clear();
  }
}
