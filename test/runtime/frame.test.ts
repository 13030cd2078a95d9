/**
 * Methodology: the frame codec is checked as a property. Random payload lists are encoded, the
 * byte stream is cut at random points (down to one-byte chunks), and the decoder must return the
 * same payloads in order whatever the cuts. Oversized and empty frames must be refused from their
 * header alone, before the payload arrives, and poison the decoder so the connection is closed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameError } from '../../src/runtime/real/frame.ts';

function cut(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    out.push(stream.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('frame codec', () => {
  it('decodes any chunking of a frame stream into the original payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 50 }), (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map((p) => encodeFrame(Buffer.from(p), 1024)));
        const d = new FrameDecoder(1024);
        const got: Buffer[] = [];
        for (const chunk of cut(stream, cuts)) got.push(...d.push(chunk));
        expect(got.map((b) => [...b])).toEqual(payloads.map((p) => [...p]));
        expect(d.pendingBytes).toBe(0);
      }),
      { numRuns: 300, seed: 20261123 },
    );
  });

  it('decodes one-byte chunks', () => {
    const stream = Buffer.concat([encodeFrame('{"a":1}'), encodeFrame('[2]')]);
    const d = new FrameDecoder();
    const got: string[] = [];
    for (const b of stream) got.push(...d.push(Buffer.from([b])).map((x) => x.toString()));
    expect(got).toEqual(['{"a":1}', '[2]']);
  });

  it('refuses an oversized frame from its header, before the payload arrives', () => {
    const d = new FrameDecoder(100);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(101);
    expect(() => d.push(header)).toThrow(FrameError);
    // Poisoned: the connection must be closed, so later bytes are refused as well.
    expect(() => d.push(Buffer.from('x'))).toThrow(/exceeds the limit of 100 bytes/);
  });

  it('accepts a frame of exactly the limit', () => {
    const d = new FrameDecoder(100);
    expect(d.push(encodeFrame(Buffer.alloc(100, 1), 100))).toHaveLength(1);
  });

  it('refuses an empty frame and refuses to encode one', () => {
    expect(() => new FrameDecoder().push(Buffer.alloc(4))).toThrow(/empty frame/);
    expect(() => encodeFrame('')).toThrow(FrameError);
    expect(() => encodeFrame(Buffer.alloc(11), 10)).toThrow(/exceeds the limit/);
  });

  it('rejects a nonsensical limit', () => {
    expect(() => new FrameDecoder(0)).toThrow(RangeError);
    expect(() => new FrameDecoder(2 ** 31)).toThrow(RangeError);
  });
});
