/**
 * Two machines on one node: a *host* (for example a Boki engine, serving the shared-log API) and
 * a *guest* (for example the Halfmoon function runtime, calling that API). The composed machine
 * is itself a Machine, so runtimes see one node.
 *
 * Routing:
 * - The guest calls the host with `request` effects addressed to the node itself; they reach the
 *   host as `client` inputs within the same step, under a reqId prefixed "g#". The host's `reply`
 *   effects for such reqIds go back to the guest as `response` inputs, also within the step.
 * - `client` inputs from outside go to the guest (function invocations), or to the host when the
 *   composition is told so (`clientTo`).
 * - Messages go to the guest when `isGuestMessage(msg)` holds, otherwise to the host.
 * - Timers and persisted keys are namespaced ("h:", "g:"; "h/", "g/") so the two never collide.
 *
 * A crash takes both down together, as a process crash would.
 */
import { assert, assertNever } from './assert.ts';
import type { DiskImage, Effect, Input, Machine, NodeId } from './contract.ts';

export interface Composed<HS, GS> {
  host: HS;
  guest: GS;
}

export interface ComposeOptions {
  readonly role: string;
  readonly isGuestMessage: (msg: unknown) => boolean;
  readonly clientTo?: 'guest' | 'host';
}

/** Internal calls resolved within one step, at most (a runaway ping-pong is a bug). */
const INTERNAL_CALLS_MAX = 10_000;

const GREQ = 'g#';

export function compose<HC, HS, GC, GS>(
  host: Machine<HC, HS>,
  guest: Machine<GC, GS>,
  opts: ComposeOptions,
): Machine<{ host: HC; guest: GC }, Composed<HS, GS>> {
  const clientTo = opts.clientTo ?? 'guest';

  function subDisk(disk: DiskImage, prefix: string): DiskImage {
    const m = new Map<string, unknown>();
    for (const [k, v] of disk) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), v);
    return m;
  }

  return {
    role: opts.role,
    traceView: (s) => ({ host: host.traceView ? host.traceView(s.host) : s.host, guest: guest.traceView ? guest.traceView(s.guest) : s.guest }),
    init: (cfg, self) => ({ host: host.init(cfg.host, self), guest: guest.init(cfg.guest, self) }),
    recover: (cfg, self, disk) => ({
      host: host.recover(cfg.host, self, subDisk(disk, 'h/')),
      guest: guest.recover(cfg.guest, self, subDisk(disk, 'g/')),
    }),
    step(s, input, ctx) {
      const out: Effect[] = [];
      // A FIFO of pending internal inputs keeps the order in which calls and answers were made.
      const work: { to: 'host' | 'guest'; input: Input }[] = [];
      let calls = 0;
      const self: NodeId = ctx.self;

      const runHost = (inp: Input) => {
        const r = host.step(s.host, inp, ctx);
        s.host = r.state;
        for (const e of r.effects) translate(e, 'host');
      };
      const runGuest = (inp: Input) => {
        const r = guest.step(s.guest, inp, ctx);
        s.guest = r.state;
        for (const e of r.effects) translate(e, 'guest');
      };

      function translate(e: Effect, from: 'host' | 'guest'): void {
        const tp = from === 'host' ? 'h:' : 'g:';
        switch (e.type) {
          case 'setTimer':
            out.push({ type: 'setTimer', timer: tp + e.timer, delayUs: e.delayUs });
            return;
          case 'cancelTimer':
            out.push({ type: 'cancelTimer', timer: tp + e.timer });
            return;
          case 'persist':
            out.push({ type: 'persist', key: (from === 'host' ? 'h/' : 'g/') + e.key, value: e.value, sync: e.sync });
            return;
          case 'request':
            if (from === 'guest' && e.to === self) {
              work.push({ to: 'host', input: { type: 'client', reqId: GREQ + e.reqId, body: e.body } });
              return;
            }
            out.push(e);
            return;
          case 'reply':
            if (from === 'host' && e.reqId.startsWith(GREQ)) {
              work.push({ to: 'guest', input: { type: 'response', reqId: e.reqId.slice(GREQ.length), from: self, body: e.body } });
              return;
            }
            out.push(e);
            return;
          case 'send':
          case 'record':
          case 'fatal':
            out.push(e);
            return;
          default:
            assertNever(e, 'effect');
        }
      }

      switch (input.type) {
        case 'start':
        case 'restart':
          runHost(input);
          runGuest(input);
          break;
        case 'message':
          if (opts.isGuestMessage(input.msg)) runGuest(input);
          else runHost(input);
          break;
        case 'timer':
          if (input.timer.startsWith('h:')) runHost({ type: 'timer', timer: input.timer.slice(2) });
          else if (input.timer.startsWith('g:')) runGuest({ type: 'timer', timer: input.timer.slice(2) });
          break;
        case 'client':
          if (clientTo === 'guest') runGuest(input);
          else runHost(input);
          break;
        case 'response':
          runGuest(input);
          break;
        default:
          assertNever(input, 'input');
      }
      while (work.length > 0) {
        calls++;
        assert(calls <= INTERNAL_CALLS_MAX, `${ctx.self}: more than ${INTERNAL_CALLS_MAX} internal calls in one step`);
        const w = work.shift()!;
        if (w.to === 'host') runHost(w.input);
        else runGuest(w.input);
      }
      return { state: s, effects: out };
    },
  };
}

