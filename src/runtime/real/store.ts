/**
 * A node's durable store on a real disk: a write-ahead log of key writes, replayed into the
 * key -> value image that `Machine.recover` reads.
 *
 * File format (`wal.log`): the 8-byte magic `HMWAL001`, then records, each a 4-byte big-endian
 * payload length, a 4-byte CRC-32 of the payload, and the payload: the wire JSON of `[key, value]`
 * (`value` undefined deletes the key). Recovery reads records until the first one that is
 * incomplete or fails its checksum, which is where a crash tore the tail, and truncates the file
 * there so later appends never follow garbage.
 *
 * Durability. `append` applies the write to the in-memory image and queues its bytes; a write-
 * behind flush hands them to the kernel soon after (so they survive a killed process but not a
 * power loss), and `sync()` resolves once everything appended before it has been written and
 * fdatasync'ed. Syncs requested while one is in flight are served together by the next one: group
 * commit, with the order of records in the file equal to the order of `append` calls.
 *
 * The file is created atomically on first open (temporary file, fdatasync, rename, fsync of the
 * directory), so "the log exists" means "this node booted before", which is how the host tells a
 * restart from a first start. When the log outgrows its live data it is compacted the same way:
 * a snapshot of the image into a temporary file, fdatasync, rename, directory fsync.
 *
 * One store per directory: a LOCK file holding the owner's pid refuses a second opener while the
 * owner lives (a lock left by a killed process is taken over).
 */
import { constants as fsc, existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { InputError } from '../../core/assert.ts';
import { parseWire, stringifyWire } from '../../core/json.ts';

const MAGIC = Buffer.from('HMWAL001', 'latin1');
const REC_HEADER = 8;
export const WAL_FILE = 'wal.log';
const TMP_FILE = 'wal.tmp';
const LOCK_FILE = 'LOCK';

export interface StoreOptions {
  /** Largest payload of one record (default 16 MiB). */
  readonly recordMaxBytes?: number;
  /** Compact when the log exceeds this size and 4x the live data (default 8 MiB). */
  readonly compactMinBytes?: number;
  /** Largest log this store reads back at recovery (default 1 GiB). */
  readonly logMaxBytes?: number;
  /**
   * Hand unsynced writes to the kernel soon after they are appended (default true). Tests turn
   * it off so that a SIGKILL loses unsynced writes the way a power failure would, which makes a
   * missing sync visible to a kill -9 test.
   */
  readonly writeBehind?: boolean;
  /** The file layer the log's appends and syncs go through (default: the real one). */
  readonly io?: StoreIo;
}

/**
 * Where the log's writes and syncs go. The default calls the file handle; a fault-injecting
 * layer (`FaultyIo`) makes a sync fail or the disk fill up, so a test can show that a node stops
 * instead of acknowledging what is not on disk.
 */
export interface StoreIo {
  write(fh: FileHandle, data: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  datasync(fh: FileHandle): Promise<void>;
}

export const REAL_IO: StoreIo = {
  write: (fh, data, offset, length, position) => fh.write(data, offset, length, position),
  datasync: (fh) => fh.datasync(),
};

function ioError(code: string, what: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${what}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/**
 * A fault-injecting file layer over the real one: `failSyncs` makes every later fdatasync fail
 * with EIO (as a failing disk does), `diskBytesLeft` makes writes fail with ENOSPC once that many
 * more bytes were written (a full disk; the write that crosses the line is partial).
 */
export class FaultyIo implements StoreIo {
  failSyncs = false;
  diskBytesLeft = Infinity;
  readonly counters = { writes: 0, syncs: 0, failedSyncs: 0, failedWrites: 0 };
  /** Called before a sync fails (tests sample the node's state at that instant). */
  onFault: ((kind: 'EIO' | 'ENOSPC') => void) | null = null;

  async write(fh: FileHandle, data: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    this.counters.writes++;
    if (this.diskBytesLeft <= 0) {
      this.counters.failedWrites++;
      this.onFault?.('ENOSPC');
      throw ioError('ENOSPC', 'no space left on device (injected)');
    }
    const n = Math.min(length, this.diskBytesLeft);
    this.diskBytesLeft -= n;
    return fh.write(data, offset, n, position);
  }

  async datasync(fh: FileHandle): Promise<void> {
    this.counters.syncs++;
    if (this.failSyncs) {
      this.counters.failedSyncs++;
      this.onFault?.('EIO');
      throw ioError('EIO', 'fdatasync failed (injected)');
    }
    return fh.datasync();
  }
}

/** Directories opened in this process, so two hosts in one test cannot share a disk. */
const openHere = new Set<string>();

export interface RecoveredLog {
  readonly image: Map<string, unknown>;
  /** Byte length of the valid prefix. */
  readonly validBytes: number;
  readonly records: number;
  /** Bytes after the valid prefix (a torn or corrupt tail). */
  readonly tornBytes: number;
}

/** Parses a log file's bytes (pure; used at recovery and by tests). Null when the magic is absent. */
export function parseLog(buf: Buffer, recordMaxBytes = 16 * 1024 * 1024): RecoveredLog | null {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const image = new Map<string, unknown>();
  let off = MAGIC.length;
  let records = 0;
  while (off + REC_HEADER <= buf.length) {
    const len = buf.readUInt32BE(off);
    const sum = buf.readUInt32BE(off + 4);
    if (len === 0 || len > recordMaxBytes || off + REC_HEADER + len > buf.length) break;
    const payload = buf.subarray(off + REC_HEADER, off + REC_HEADER + len);
    if (crc32(payload) !== sum) break;
    let kv: unknown;
    try {
      kv = parseWire(payload.toString('utf8'));
    } catch {
      break;
    }
    if (!Array.isArray(kv) || kv.length !== 2 || typeof kv[0] !== 'string') break;
    if (kv[1] === undefined) image.delete(kv[0]);
    else image.set(kv[0], kv[1]);
    records++;
    off += REC_HEADER + len;
  }
  return { image, validBytes: off, records, tornBytes: buf.length - off };
}

export function encodeRecord(key: string, value: unknown, recordMaxBytes = 16 * 1024 * 1024): Buffer {
  const payload = Buffer.from(stringifyWire([key, value]), 'utf8');
  if (payload.length > recordMaxBytes) throw new RangeError(`persist of key '${key}': ${payload.length} bytes exceeds the record limit of ${recordMaxBytes}`);
  const out = Buffer.allocUnsafe(REC_HEADER + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  payload.copy(out, REC_HEADER);
  return out;
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, fsc.O_RDONLY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Does `pid` name a live process? A killed process whose parent has not reaped it yet (a zombie:
 * state Z in /proc, common when an init that does not reap adopted it) holds no lock.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return !existsSync('/proc/self/stat'); // no procfs: trust kill(0)
  }
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export class WalStore {
  /** The current image (the page cache's view: every append, synced or not). */
  readonly image: Map<string, unknown>;
  /** True when a log existed at open: the node booted before. */
  readonly existed: boolean;
  /** What recovery found: records replayed and torn bytes cut off. */
  readonly recovery: { readonly records: number; readonly tornBytes: number };
  private fh: FileHandle | null;
  private offset: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private appended = 0;
  private written = 0;
  private synced = 0;
  private waiters: Waiter[] = [];
  private syncWanted = 0;
  private draining = false;
  private flushScheduled = false;
  private failed: Error | null = null;
  private closed = false;
  /** Encoded size of each live key's last record: the size a compacted log would have. */
  private liveBytes = 0;
  private readonly recBytes = new Map<string, number>();
  readonly stats = { appends: 0, syncs: 0, bytesWritten: 0, compactions: 0 };
  private readonly recordMaxBytes: number;
  private readonly compactMinBytes: number;
  private readonly writeBehind: boolean;
  private readonly io: StoreIo;

  private constructor(
    readonly dir: string,
    fh: FileHandle,
    offset: number,
    image: Map<string, unknown>,
    existed: boolean,
    recovery: { records: number; tornBytes: number },
    opts: StoreOptions,
  ) {
    this.fh = fh;
    this.offset = offset;
    this.image = image;
    this.existed = existed;
    this.recovery = recovery;
    this.recordMaxBytes = opts.recordMaxBytes ?? 16 * 1024 * 1024;
    this.compactMinBytes = opts.compactMinBytes ?? 8 * 1024 * 1024;
    this.writeBehind = opts.writeBehind ?? true;
    this.io = opts.io ?? REAL_IO;
    for (const [k, v] of image) {
      const n = encodeRecord(k, v, this.recordMaxBytes).length;
      this.recBytes.set(k, n);
      this.liveBytes += n;
    }
  }

  static async open(dir: string, opts: StoreOptions = {}): Promise<WalStore> {
    await mkdir(dir, { recursive: true });
    const key = join(dir);
    if (openHere.has(key)) throw new InputError(`store ${dir}: already open in this process`);
    await takeLock(dir);
    openHere.add(key);
    try {
      return await WalStore.openLocked(dir, opts);
    } catch (e) {
      openHere.delete(key);
      await rm(join(dir, LOCK_FILE), { force: true });
      throw e;
    }
  }

  private static async openLocked(dir: string, opts: StoreOptions): Promise<WalStore> {
    const path = join(dir, WAL_FILE);
    const logMax = opts.logMaxBytes ?? 1024 * 1024 * 1024;
    let buf: Buffer | null = null;
    try {
      const fh = await open(path, 'r');
      try {
        const size = (await fh.stat()).size;
        if (size > logMax) throw new InputError(`store ${dir}: ${WAL_FILE} is ${size} bytes, over the recovery limit of ${logMax}`);
        buf = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (buf === null) {
      await atomicWrite(dir, MAGIC);
      const fh = await open(path, 'r+');
      return new WalStore(dir, fh, MAGIC.length, new Map(), false, { records: 0, tornBytes: 0 }, opts);
    }
    const parsed = parseLog(buf, opts.recordMaxBytes);
    if (parsed === null) throw new InputError(`store ${dir}: ${WAL_FILE} does not start with the ${MAGIC.toString('latin1')} magic; not a halfmoon store`);
    const fh = await open(path, 'r+');
    if (parsed.tornBytes > 0) {
      // Cut the torn tail before anything is appended after it, and make the cut durable.
      await fh.truncate(parsed.validBytes);
      await fh.datasync();
    }
    return new WalStore(dir, fh, parsed.validBytes, parsed.image, true, { records: parsed.records, tornBytes: parsed.tornBytes }, opts);
  }

  /** Sequence number of the last append. */
  get appendedSeq(): number {
    return this.appended;
  }
  get syncedSeq(): number {
    return this.synced;
  }
  get error(): Error | null {
    return this.failed;
  }

  /** Applies a write to the image and queues it for the log; returns its sequence number. */
  append(key: string, value: unknown): number {
    if (this.closed) throw new Error(`store ${this.dir}: append after close`);
    if (this.failed) throw this.failed;
    const rec = encodeRecord(key, value, this.recordMaxBytes);
    this.liveBytes -= this.recBytes.get(key) ?? 0;
    if (value === undefined) {
      this.image.delete(key);
      this.recBytes.delete(key);
    } else {
      this.image.set(key, value);
      this.recBytes.set(key, rec.length);
      this.liveBytes += rec.length;
    }
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.stats.appends++;
    this.appended++;
    if (this.writeBehind && !this.flushScheduled) {
      // Write-behind: unsynced writes reach the kernel's page cache soon, without a sync.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.kick();
      });
    }
    return this.appended;
  }

  /** Resolves when every append made before this call is on disk (written and fdatasync'ed). */
  sync(): Promise<void> {
    return this.syncUpTo(this.appended);
  }

  syncUpTo(seq: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (seq <= this.synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      if (seq > this.syncWanted) this.syncWanted = seq;
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining || this.closed || this.failed) return;
    this.draining = true;
    this.drain().then(
      () => {
        this.draining = false;
        // Appends or sync requests that raced the loop's last check.
        if (this.pending.length > 0 || this.syncWanted > this.synced) this.kick();
      },
      (e: unknown) => {
        this.draining = false;
        this.fail(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  private async drain(): Promise<void> {
    while (this.fh !== null && !this.closed && (this.pending.length > 0 || this.syncWanted > this.synced)) {
      if (this.pending.length > 0) {
        const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
        const upTo = this.appended;
        this.pending = [];
        this.pendingBytes = 0;
        await writeAll(this.fh, data, this.offset, this.io);
        this.offset += data.length;
        this.stats.bytesWritten += data.length;
        this.written = upTo;
      }
      if (this.syncWanted > this.synced) {
        // Everything appended so far has just been written: one fdatasync covers every waiter.
        const upTo = this.written;
        await this.io.datasync(this.fh);
        this.stats.syncs++;
        this.synced = upTo;
        this.wake();
      }
      if (this.pending.length === 0 && this.offset > this.compactMinBytes && this.offset > 4 * (MAGIC.length + this.liveBytes)) await this.compact();
    }
  }

  private wake(): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.synced) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private fail(e: Error): void {
    this.failed = e;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(e);
  }

  /**
   * Rewrites the log as one record per live key. Everything appended so far is in the snapshot
   * and the snapshot is synced before it replaces the log, so compaction only ever makes writes
   * more durable.
   */
  private async compact(): Promise<void> {
    const parts: Buffer[] = [MAGIC];
    let size = MAGIC.length;
    for (const [k, v] of this.image) {
      const r = encodeRecord(k, v, this.recordMaxBytes);
      parts.push(r);
      size += r.length;
    }
    const snapshot = Buffer.concat(parts, size);
    await this.fh!.close();
    this.fh = null;
    await atomicWrite(this.dir, snapshot);
    this.fh = await open(join(this.dir, WAL_FILE), 'r+');
    this.offset = size;
    this.stats.compactions++;
    this.synced = this.written;
    this.wake();
  }

  /** Flushes, syncs and closes; releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failed) await this.sync().catch(() => undefined);
    this.closed = true;
    await this.release();
  }

  /**
   * Closes without flushing what is still queued, as a crash would lose it (the page cache keeps
   * what was already written, as it would after a killed process). For in-process fault tests.
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.fail(new Error(`store ${this.dir}: abandoned`));
    await this.release();
  }

  private async release(): Promise<void> {
    // Let a write, sync or compaction in flight finish; the loop stops at its next check.
    while (this.draining) await new Promise((r) => setImmediate(r));
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
    openHere.delete(join(this.dir));
    await rm(join(this.dir, LOCK_FILE), { force: true });
  }
}

async function writeAll(fh: FileHandle, data: Buffer, position: number, io: StoreIo = REAL_IO): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await io.write(fh, data, off, data.length - off, position + off);
    if (bytesWritten <= 0) throw new Error('write returned no progress');
    off += bytesWritten;
  }
}

/** Writes `data` as the log: temporary file, fdatasync, rename, fsync of the directory. */
async function atomicWrite(dir: string, data: Buffer): Promise<void> {
  const tmp = join(dir, TMP_FILE);
  const fh = await open(tmp, 'w');
  try {
    await writeAll(fh, data, 0);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, WAL_FILE));
  await fsyncDir(dir);
}

async function takeLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
      throw new InputError(`store ${dir}: in use by process ${owner} (remove ${path} if that process is not a halfmoon node)`);
    }
    await rm(path, { force: true }); // a stale lock: its owner is gone
  }
  throw new InputError(`store ${dir}: could not take ${LOCK_FILE}`);
}
