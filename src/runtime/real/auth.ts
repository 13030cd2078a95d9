/**
 * No strangers in the cluster: a shared cluster secret authenticates every connection's hello.
 * The dialling side adds a fresh random nonce, its wall-clock time and an HMAC-SHA256 under the
 * secret over the hello's fields, the nonce and the time; the accepting node recomputes it and
 * refuses the connection, with a log line saying why, when the MAC is missing (and the secret is
 * required), wrong, too old or too far in the future, or its nonce was seen before (a replayed
 * hello). A node that listens on an address other than loopback requires the secret and refuses
 * to start without one; on loopback it is optional unless `require` is set (tests force it).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from '../../core/assert.ts';
import type { Hello } from './wire.ts';

export interface ClusterAuth {
  /** The shared secret; null when none is configured. */
  readonly secret: Buffer | null;
  /** Refuse hellos without a valid MAC even on loopback (default: only off loopback). */
  readonly require?: boolean;
}

/** How far a hello's time may be from this node's clock. */
export const HELLO_SKEW_MS = 5 * 60_000;
/** Nonces remembered against replays (oldest forgotten first; older hellos fail the time check). */
const NONCES_MAX = 100_000;
export const SECRET_BYTES_MIN = 16;
export const SECRET_ENV = 'HALFMOON_CLUSTER_SECRET';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::ffff:127.0.0.1';
}

function macOf(secret: Buffer, h: Hello, nonce: string, ts: number): string {
  return createHmac('sha256', secret).update(`halfmoon-hello|${h.v}|${h.cluster}|${h.kind}|${h.from}|${h.to}|${nonce}|${ts}`).digest('hex');
}

/** The hello to send on a new connection: with nonce, time and MAC when a secret is set. */
export function signHello(h: Hello, auth: ClusterAuth | null | undefined): Hello {
  if (!auth?.secret) return h;
  const nonce = randomBytes(16).toString('hex');
  const ts = Date.now();
  return { ...h, nonce, ts, mac: macOf(auth.secret, h, nonce, ts) };
}

/** Checks hellos on one node's listener; remembers nonces. */
export class HelloVerifier {
  private readonly seen = new Set<string>();
  constructor(
    private readonly auth: ClusterAuth | null,
    /** Whether a hello without a MAC is refused. */
    readonly required: boolean,
    private readonly why: string,
  ) {}

  /** Null when the hello may pass, else the reason to refuse it. */
  check(h: Hello): string | null {
    if (h.mac === undefined) return this.required ? `no cluster secret presented (${this.why})` : null;
    const secret = this.auth?.secret;
    if (!secret) return 'a cluster secret was presented, but this node has none configured';
    if (typeof h.nonce !== 'string' || typeof h.ts !== 'number') return 'hello MAC without its nonce and time';
    const want = Buffer.from(macOf(secret, h, h.nonce, h.ts), 'hex');
    const got = Buffer.from(/^[0-9a-f]{64}$/.test(h.mac) ? h.mac : '', 'hex');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'wrong cluster secret (the hello MAC does not verify)';
    if (Math.abs(Date.now() - h.ts) > HELLO_SKEW_MS) return `hello time ${new Date(h.ts).toISOString()} is more than ${HELLO_SKEW_MS / 60_000} minutes from this node's clock`;
    if (this.seen.has(h.nonce)) return 'replayed hello (its nonce was used before)';
    this.seen.add(h.nonce);
    if (this.seen.size > NONCES_MAX) this.seen.delete(this.seen.values().next().value!);
    return null;
  }
}

/** The verifier for a node listening on `host`: off loopback, the secret is required. */
export function helloVerifier(auth: ClusterAuth | null | undefined, host: string | null, node: string): HelloVerifier {
  const offLoopback = host !== null && !isLoopback(host);
  const required = auth?.require === true || offLoopback;
  if (offLoopback && !auth?.secret) {
    throw new InputError(`${node}: listens on ${host}, not loopback: a cluster secret is required (secretFile in the cluster config, or ${SECRET_ENV})`);
  }
  return new HelloVerifier(auth ?? null, required, offLoopback ? `this node listens on ${host}, not loopback` : 'this cluster requires its secret');
}

/** Reads a secret file (or the environment variable when `file` is null); null when neither is set. */
export function loadSecret(file: string | null): Buffer | null {
  let text: string | undefined;
  if (file !== null) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError(`secretFile: ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else text = process.env[SECRET_ENV];
  if (text === undefined) return null;
  const s = Buffer.from(text.trim(), 'utf8');
  if (s.length < SECRET_BYTES_MIN) throw new InputError(`${file ?? SECRET_ENV}: the cluster secret must be at least ${SECRET_BYTES_MIN} bytes`);
  return s;
}
