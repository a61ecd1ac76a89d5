/**
 * The scans that run before any decoder allocates: properties over generated values and bytes
 * (fast-check), and the nesting bombs of every container type and width.
 */
import { decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundsError, checkMsgpack, depthWithin, jsonTextDepthWithin, MESSAGE_LIMITS } from './bounds.ts';

const roomy = { maxDepth: 64, maxElements: 1_000_000 };

/** Depth as the scan counts it: the top-level container is 1. */
function depthOf(v: unknown): number {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/** Values with every MessagePack type the protocol or an attacker could send. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map(Number), fc.string(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 300 })),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), fc.array(tie('node'), { maxLength: 20 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 20 })),
})).node;

describe('checkMsgpack', () => {
  it('accepts every encoded value within its limits, and counts depth as the decoder would build it', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encode(v);
        checkMsgpack(bytes, roomy);
        const depth = depthOf(decode(bytes));
        if (depth > 0) expect(() => checkMsgpack(bytes, { ...roomy, maxDepth: depth - 1 })).toThrow(BoundsError);
        checkMsgpack(bytes, { ...roomy, maxDepth: depth });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every strict prefix and every body with trailing bytes', () => {
    fc.assert(
      fc.property(value, fc.nat(), (v, cut) => {
        const bytes = encode(v);
        expect(() => checkMsgpack(bytes.subarray(0, cut % bytes.length), roomy)).toThrow(BoundsError);
        expect(() => checkMsgpack(Uint8Array.of(...bytes, 0), roomy)).toThrow(BoundsError);
      }),
      { numRuns: 500 },
    );
  });

  it('on arbitrary bytes, refuses with BoundsError or passes bytes the decoder reads within the limits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          checkMsgpack(bytes, MESSAGE_LIMITS);
        } catch (e) {
          expect(e).toBeInstanceOf(BoundsError);
          return;
        }
        let decoded: unknown;
        try {
          decoded = decode(bytes);
        } catch (e) {
          // Well-framed but not decodable (an ext type, a bad UTF-8 string): the decoder's own
          // refusal, which allocates nothing beyond the scanned lengths.
          expect((e as Error).message).not.toMatch(/Insufficient data|Extra \d+ of/);
          return;
        }
        expect(depthOf(decoded)).toBeLessThanOrEqual(MESSAGE_LIMITS.maxDepth);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses nesting bombs of every container type and width', () => {
    const levels = 150_000;
    const headers: Record<string, number[]> = {
      fixarray: [0x9f],
      array16: [0xdc, 0x10, 0x00],
      array32: [0xdd, 0x00, 0x00, 0x10, 0x00],
      fixmap: [0x8f, 0xa0],
      map16: [0xde, 0x10, 0x00, 0xa0],
      map32: [0xdf, 0x00, 0x00, 0x10, 0x00, 0xa0],
    };
    for (const [name, header] of Object.entries(headers)) {
      const bomb = new Uint8Array(levels * header.length + 1);
      for (let i = 0; i < levels; i++) bomb.set(header, i * header.length);
      expect(() => checkMsgpack(bomb), name).toThrow(/nest deeper than 4|more than 16384 elements/);
      // One level alone: a header claiming more elements than bytes follow it.
      expect(() => checkMsgpack(Uint8Array.from(header)), name).toThrow(/declares \d+ elements/);
    }
    expect(() => checkMsgpack(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0), { maxDepth: 4, maxElements: 2 ** 33 })).toThrow(/declares 4294967295 elements/);
    expect(() => checkMsgpack(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0))).toThrow(/more than 16384 elements/);
    expect(() => checkMsgpack(Uint8Array.of(0xc6, 0x7f, 0xff, 0xff, 0xff, 1, 2))).toThrow(/declares 2147483647 bytes/);
    expect(() => checkMsgpack(Uint8Array.of(0xc1))).toThrow(/starts no MessagePack value/);
  });

  it('counts the elements declared by all containers together', () => {
    // 100 arrays of 200 nils each: 20,100 elements, each real.
    const inner = [0xdc, 0x00, 200, ...new Array(200).fill(0xc0)];
    const body = Uint8Array.of(0xdc, 0x00, 100, ...Array.from({ length: 100 }, () => inner).flat());
    checkMsgpack(body, { maxDepth: 4, maxElements: 20_100 });
    expect(() => checkMsgpack(body, { maxDepth: 4, maxElements: 20_099 })).toThrow(/more than 20099 elements/);
  });
});

describe('JSON depth', () => {
  it('the text scan agrees with the depth of the parsed value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 8 }), (v, max) => {
        const text = JSON.stringify(v);
        expect(jsonTextDepthWithin(text, max)).toBe(depthWithin(JSON.parse(text), max));
      }),
      { numRuns: 1000 },
    );
  });

  it('checks 200,000 levels without recursion', () => {
    const text = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(jsonTextDepthWithin(text, 16)).toBe(false);
    expect(jsonTextDepthWithin('"[[[[\\"[[[["', 1)).toBe(true);
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(depthWithin(deep, 16)).toBe(false);
  });
});
