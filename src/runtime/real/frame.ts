/**
 * Length-prefixed frames for the real runtime's TCP links: a 4-byte big-endian payload length,
 * then the payload (UTF-8 JSON in the wire encoding of `src/core/json.ts`). The decoder checks the
 * length against a hard maximum *before* buffering the payload, so a peer announcing a 3 GiB frame
 * costs us four bytes, not three gigabytes. An empty frame is malformed (no JSON document is empty).
 *
 * The decoder keeps received chunks in a list and copies each frame out once, so a frame split
 * over many small TCP segments costs O(frame) and not O(frame x segments).
 */

export const FRAME_HEADER_BYTES = 4;
/** The default hard limit on one frame's payload: 4 MiB. */
export const FRAME_MAX_BYTES_DEFAULT = 4 * 1024 * 1024;
/** The largest limit a caller may configure (the length field is 32 bits; keep well below it). */
export const FRAME_MAX_BYTES_LIMIT = 1024 * 1024 * 1024;

/** Encodes one payload as a frame. Throws when the payload exceeds `maxBytes`. */
export function encodeFrame(payload: string | Buffer, maxBytes: number = FRAME_MAX_BYTES_DEFAULT): Buffer {
  // A string is encoded straight after the header: one allocation, no second copy.
  const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  if (length === 0) throw new FrameError('empty', 'refusing to send an empty frame');
  if (length > maxBytes) throw new FrameError('oversized', `frame of ${length} bytes exceeds the limit of ${maxBytes} bytes`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  out.writeUInt32BE(length, 0);
  if (typeof payload === 'string') out.write(payload, FRAME_HEADER_BYTES, length, 'utf8');
  else payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

export type FrameErrorKind = 'oversized' | 'empty' | 'malformed';

/** A framing or frame-content error: the connection it came from is closed, nothing else. */
export class FrameError extends Error {
  readonly tag = 'FrameError' as const;
  constructor(
    readonly kind: FrameErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

/**
 * Incremental decoder for one connection. `push` returns the complete payloads the chunk
 * finished, in order, or throws `FrameError` on an oversized or empty frame; after an error the
 * decoder is poisoned and every later `push` throws too (the caller closes the connection).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being assembled, or -1 while its header is incomplete. */
  private need = -1;
  private failed: FrameError | null = null;

  constructor(readonly maxBytes: number = FRAME_MAX_BYTES_DEFAULT) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > FRAME_MAX_BYTES_LIMIT) {
      throw new RangeError(`frame limit must be an integer in [1, ${FRAME_MAX_BYTES_LIMIT}], got ${maxBytes}`);
    }
  }

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const len = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (len === 0) return this.fail(new FrameError('empty', 'received an empty frame'));
        if (len > this.maxBytes) return this.fail(new FrameError('oversized', `frame of ${len} bytes exceeds the limit of ${this.maxBytes} bytes`));
        this.need = len;
      }
      if (this.buffered < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  private fail(e: FrameError): never {
    this.failed = e;
    this.chunks = [];
    this.buffered = 0;
    throw e;
  }

  /** Removes and returns exactly `n` buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      // The common case: the bytes sit in one chunk; a subarray costs no copy.
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
