/**
 * Two variants of Halfmoon's HM-R protocol, as a researcher might write them, registered with
 * `defineProtocol` over the shared workflow runtime (the same runtime, log and store the built-in
 * protocols run on), each declaring how many log records a request appends.
 *
 * - `hm-read-mirrored` (correct): HM-R whose writes also keep the base row up to date (the
 *   transitional protocol's mirror), so a later switch to HM-W needs no reconciliation. Reads stay
 *   log-free at the cursor; records per instance as HM-R: 2 (Intent, Done) + 2W + 2V.
 *
 * - `hm-read-base` (broken): "the base row holds the latest write anyway, so read it directly
 *   instead of walking the key stream". The read is neither logged nor tied to the cursor, so a
 *   re-execution after a crash can read a newer value than the first execution did.
 */
import { defineProtocol, RULE_PARTS } from 'halfmoon';

const { begin, finish, invoke, versionedRead, baseRead, loggedWrite } = RULE_PARTS;

defineProtocol({
  name: 'hm-read-mirrored',
  mode: 'HMRM',
  description: 'HM-R whose writes also mirror into the base row (correct)',
  rules: { begin, finish, invoke, read: versionedRead, write: (io, x, t, k, v) => loggedWrite(io, x, t, k, v, true) },
  records: ({ top, w, v }) => (top ? 2 : 0) + 2 * w + 2 * v,
  logs: { reads: false, writes: true },
  finalRead: 'versioned',
  style: 'halfmoon',
});

defineProtocol({
  name: 'hm-read-base',
  mode: 'HMRB',
  description: 'HM-R reading the mirrored base row directly (broken under re-execution)',
  rules: { begin, finish, invoke, read: baseRead, write: (io, x, t, k, v) => loggedWrite(io, x, t, k, v, true) },
  records: ({ top, w, v }) => (top ? 2 : 0) + 2 * w + 2 * v,
  logs: { reads: false, writes: true },
  finalRead: 'base',
  style: 'halfmoon',
});

/**
 * `hm-read-miscounted` runs hm-read-mirrored's rules but declares a formula that forgets the
 * PostWrite (one record per write instead of two): log accounting must reject the declaration.
 */
defineProtocol({
  name: 'hm-read-miscounted',
  mode: 'HMRX',
  description: 'hm-read-mirrored with a record formula missing the PostWrite (a wrong declaration)',
  rules: { begin, finish, invoke, read: versionedRead, write: (io, x, t, k, v) => loggedWrite(io, x, t, k, v, true) },
  records: ({ top, w, v }) => (top ? 2 : 0) + w + 2 * v,
  logs: { reads: false, writes: true },
  finalRead: 'versioned',
  style: 'halfmoon',
});
