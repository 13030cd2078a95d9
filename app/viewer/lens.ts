/**
 * System lenses: what the viewer knows about one system beyond the generic node contract. A lens
 * is chosen by the trace header's `system` name (see `sim/viewer/systems/index.ts`); a system
 * without one still gets the generic view (message types as labels, request ids from client
 * inputs, a plain state diff).
 *
 * A lens has two halves that run in different places:
 * - index time (in Node, once per trace, in record order): `label` names messages and requests
 *   for the diagram, and `tagger` says which client request each step and message serves, so the
 *   viewer can filter a whole operation across nodes;
 * - selection time (in the browser, for the one selected step): `summarize` turns the step's
 *   input, effects and the node's state before and after into readable sections. A workflow lens
 *   will show its instance, step, cursor and the log records it read or wrote here.
 *
 * Lenses are pure functions of plain display-encoded JSON (what the trace holds): no Node APIs,
 * no DOM, because both halves are bundled into the browser client as well.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A step record as the trace holds it (fields other sources may omit are optional). */
export interface StepView {
  readonly node: string;
  readonly role: string;
  readonly input: Record<string, unknown> | null;
  readonly effects: readonly Record<string, unknown>[];
  /** The node's state after the step, when recorded. */
  readonly state: unknown;
}

/** Index-time request attribution. Created once per trace; called in record order. */
export interface RequestTagger {
  /** The client request a step serves, or null. Called after `message` for the delivered message. */
  step(step: StepView, before: unknown): string | null;
  /** The client request a message belongs to, or null (the sending step's request is the fallback). */
  message(msg: unknown, from: string, to: string): string | null;
}

export interface SummaryRow {
  readonly text: string;
  /** How to colour it: a change, a warning (suspicious), or plain information. */
  readonly tone?: 'change' | 'warn' | 'info' | 'good';
  /** A request id the row is about; the viewer makes it a link that filters by it. */
  readonly req?: string;
}

export interface SummarySection {
  readonly title: string;
  readonly rows: readonly SummaryRow[];
}

/** A client operation of the run's history (a call and, when it returned, its return). */
export interface OpView {
  readonly reqId: string;
  readonly node: string;
  readonly input: unknown;
  readonly output: unknown;
  readonly callT: number;
  /** -1 when it never returned. */
  readonly retT: number;
}

export interface SummaryInput {
  readonly step: StepView;
  /** The node's state before the step, when known. */
  readonly before: unknown;
  readonly hasBefore: boolean;
  readonly hasAfter: boolean;
  /** For a restart: the node's last state before it crashed (what the crash may have lost). */
  readonly crashed?: unknown;
  /** The request this step serves, when the tagger found one, and its operation. */
  readonly req: string | null;
  readonly op: OpView | null;
}

export interface SystemLens {
  readonly system: string;
  /** A short label for a message on an arrow, e.g. "put c0:3 (2,c1)"; null for the default. */
  label?(msg: unknown): string | null;
  /** A short label for a client request or response body, e.g. "write c0.3". */
  requestLabel?(body: unknown): string | null;
  tagger?(): RequestTagger;
  /**
   * A concrete witness for a violation judged on the whole history, when the lens can find one
   * the checker's message does not spell out (for the register: a read that returned a value
   * already overwritten before it began). `reqs` lists the operations involved, the first one
   * the viewer opens on.
   */
  explain?(v: { readonly invariant: string; readonly message: string }, ops: readonly OpView[]): { text: string; reqs: string[] } | null;
  /** Readable sections for the details panel; empty for none. */
  summarize?(s: SummaryInput): readonly SummarySection[];
}

// -----------------------------------------------------------------------------------------------
// Helpers shared by lenses and the generic view.

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Compact one-line JSON, cut to `max` characters. */
export function brief(v: unknown, max = 80): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  if (s === undefined) s = String(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** The generic message label: its `type` plus a request or operation id when it carries one. */
export function defaultMessageLabel(msg: unknown): string {
  if (!isObj(msg)) return brief(msg, 24);
  const ty = str(msg.type) ?? 'message';
  const id = str(msg.reqId) ?? str(msg.opId) ?? str(msg.id);
  return id ? `${ty} ${id}` : ty;
}

/** The kind used by the message-kind filter: the message's `type`, or "message". */
export function messageKind(msg: unknown): string {
  return isObj(msg) && typeof msg.type === 'string' ? msg.type : 'message';
}

/** The generic tagger: request ids carried by inputs, messages and effects. */
export function genericTagger(): RequestTagger {
  return {
    step(step) {
      const inp = step.input;
      if (inp && (inp.type === 'client' || inp.type === 'response') && typeof inp.reqId === 'string') return inp.reqId;
      if (inp && inp.type === 'message' && isObj(inp.msg) && typeof inp.msg.reqId === 'string') return inp.msg.reqId;
      for (const e of step.effects) {
        if ((e.type === 'request' || e.type === 'reply') && typeof e.reqId === 'string') return e.reqId;
      }
      return null;
    },
    message(msg) {
      return isObj(msg) && typeof msg.reqId === 'string' ? msg.reqId : null;
    },
  };
}
