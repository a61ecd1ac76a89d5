/**
 * Sparse results against the real SEAL: coefficient-encoded BFV ciphertexts (fresh, switched to
 * one prime, or flooded under the public key) packed at the widths sparseResultWidths gives
 * decrypt, after unpacking, to what they decrypted to before at every output position; headers
 * that do not fit the plan and bytes of another length are refused in plain words before
 * anything is allocated; and a degree-4096 result fits the 32 KB a patient's download may take.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseParameters, contextFor, type HeParameters } from './params.ts';
import { rerandomize } from './rerandomize.ts';
import { loadSeal, type Ciphertext, type Plaintext, type Seal, type SEALContext } from './seal.ts';
import {
  levelPrimes,
  packSparseResult,
  roundingBound,
  SPARSE_HEADER_BYTES,
  SparseResultError,
  sparseResultBytes,
  sparseResultWidths,
  unpackSparseResult,
} from './sparse-result.ts';
import { noiseAtPositions, secretKeyCoefficients } from './sparse-result-noise.ts';

let seal: Seal;
let params: HeParameters;
let context: SEALContext;
let kit: ReturnType<typeof makeKit>;
const n = 4096;

function makeKit() {
  const keygen = new seal.KeyGenerator(context);
  const sk = keygen.secretKey();
  const pk = keygen.createPublicKey();
  return {
    sk,
    pk,
    encryptor: new seal.Encryptor(context, pk, sk),
    decryptor: new seal.Decryptor(context, sk),
    evaluator: new seal.Evaluator(context),
    dispose() {
      for (const o of [this.evaluator, this.decryptor, this.encryptor, pk, sk, keygen]) o.delete();
    },
  };
}

beforeAll(async () => {
  seal = await loadSeal();
  // The single-record plans' shape: two data primes and a 16-bit special prime, t of 23 bits.
  params = chooseParameters(seal, 'bfv', n, [47, 46, 16], 23);
  context = contextFor(seal, params);
  kit = makeKit();
});
afterAll(() => kit.dispose());

const t = () => BigInt(params.plainModulus);

/** A plaintext with the given coefficients (mod t), built by patching SEAL's bytes. */
function plainOf(coeffs: readonly bigint[]): Plaintext {
  const empty = new seal.Plaintext(n);
  const raw = empty.saveToArray(seal.ComprModeType.none) as Uint8Array;
  empty.delete();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const at = raw.length - n * 8;
  coeffs.forEach((c, i) => view.setBigUint64(at + i * 8, ((c % t()) + t()) % t(), true));
  const pt = new seal.Plaintext();
  pt.loadFromArray(context, raw);
  return pt;
}

/** Decrypts and reads the coefficients at the positions, as signed values mod t. */
function decryptAt(ct: Ciphertext, positions: readonly number[]): bigint[] {
  const pt = new seal.Plaintext();
  try {
    kit.decryptor.decrypt(ct, pt);
    const raw = pt.saveToArray(seal.ComprModeType.none) as Uint8Array;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const at = raw.length - pt.coeffCount() * 8;
    return positions.map((p) => {
      if (p >= pt.coeffCount()) return 0n;
      const v = view.getBigUint64(at + p * 8, true);
      return v > t() / 2n ? v - t() : v;
    });
  } finally {
    pt.delete();
  }
}

/** A fresh symmetric encryption of `coeffs`, switched down to a level of `primes` primes. */
function encrypt(coeffs: readonly bigint[], primes: number): Ciphertext {
  const pt = plainOf(coeffs);
  const ct = new seal.Ciphertext();
  try {
    kit.encryptor.encryptSymmetric(pt, ct);
  } finally {
    pt.delete();
  }
  while (ct.coeffModulusSize() > primes) kit.evaluator.cipherModSwitchToNextInplace(ct);
  return ct;
}

const templates = new Map<number, Uint8Array>();
function template(primes: number): Uint8Array {
  if (!templates.has(primes)) {
    const ct = encrypt([], primes);
    templates.set(primes, ct.saveToArray(seal.ComprModeType.none) as Uint8Array);
    ct.delete();
  }
  return templates.get(primes)!;
}

function load(bytes: Uint8Array): Ciphertext {
  const ct = new seal.Ciphertext();
  ct.loadFromArray(context, bytes);
  return ct;
}

/** A rounding allowance of an eighth of Δ = Q/t at the level: ample beside a fresh or flooded noise. */
function allowance(primes: number): bigint {
  const Q = levelPrimes(params, primes).reduce((a, b) => a * b, 1n);
  return Q / t() / 8n;
}

const cases = fc.record({
  positions: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: 120 }).map((ps) => ps.sort((a, b) => a - b)),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
  primes: fc.constantFrom(1, 2),
  flood: fc.boolean(),
  extraBits: fc.integer({ min: 0, max: 6 }),
});

describe('sparse results', () => {
  it('decrypt after unpacking to what the ciphertext decrypted to, at every position', () => {
    fc.assert(
      fc.property(cases, ({ positions, seed, primes, flood, extraBits }) => {
        let s = seed;
        const half = Number(t() / 2n);
        const coeffs = Array.from({ length: n }, () => {
          s = (s * 1103515245 + 12345) % 2147483648;
          return BigInt((s % (2 * half)) - half);
        });
        const fresh = encrypt(coeffs, primes);
        // A flood of about an eighth of Δ, as the plan's results carry (rerandomize.ts).
        const ct = flood ? rerandomize(seal, context, params, fresh, kit.pk, allowance(primes).toString(2).length - 1) : fresh;
        try {
          const before = decryptAt(ct, positions);
          expect(before).toEqual(positions.map((p) => coeffs[p]));
          const widths = sparseResultWidths(params, primes, allowance(primes));
          const k0 = widths.k0 + extraBits;
          const k1 = widths.k1 + extraBits;
          expect(roundingBound(params, primes, k0, k1)).toBeLessThanOrEqual(allowance(primes));
          const bytes = packSparseResult(seal, context, params, ct, positions, k0, k1);
          expect(bytes.length).toBe(sparseResultBytes(n, positions.length, k0, k1));
          const back = load(unpackSparseResult(params, bytes, positions, { k0, k1, primes }, template));
          try {
            expect(back.coeffModulusSize()).toBe(primes);
            expect(decryptAt(back, positions)).toEqual(before);
          } finally {
            back.delete();
          }
        } finally {
          if (ct !== fresh) ct.delete();
          fresh.delete();
        }
      }),
      { numRuns: 16 },
    );
  });

  it('lose the value when the widths are far too narrow (the round trip is not vacuous)', () => {
    const positions = Array.from({ length: 40 }, (_, i) => i * 100 + 7);
    const coeffs = Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 1000) - 500n);
    const ct = encrypt(coeffs, 2);
    try {
      const bytes = packSparseResult(seal, context, params, ct, positions, 8, 8);
      const back = load(unpackSparseResult(params, bytes, positions, { k0: 8, k1: 8, primes: 2 }, template));
      try {
        expect(decryptAt(back, positions)).not.toEqual(positions.map((p) => coeffs[p]));
      } finally {
        back.delete();
      }
    } finally {
      ct.delete();
    }
  });

  it('fit a patient download of 32 KB at degree 4096 with 93 output positions and a 66-bit flood', () => {
    // Framingham's plan in the design: f = 66 bits of flood at the 93-bit data level.
    const { k0, k1 } = sparseResultWidths(params, 2, 1n << 66n);
    const size = sparseResultBytes(n, 93, k0, k1);
    expect(size).toBeLessThanOrEqual(32 * 1024);
    // SEAL's own bytes of the same ciphertext: 113 + 2 · 2 primes · n · 8.
    expect(size * 6).toBeLessThan(113 + 2 * 2 * n * 8);
  });
});

describe('noise at the output positions (secret-key diagnostics)', () => {
  it('reads a fresh encryption\'s noise within SEAL\'s bound, and a packed one within the rounding bound more', () => {
    const s = secretKeyCoefficients(seal, context, params, kit.decryptor, template(2));
    expect(s.every((v) => v === -1 || v === 0 || v === 1)).toBe(true);
    expect(s.filter((v) => v !== 0).length).toBeGreaterThan(n / 2);
    const coeffs = Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 5000) - 2500n);
    const ct = encrypt(coeffs, 2);
    try {
      const all = Array.from({ length: n }, (_, i) => i);
      const raw = ct.saveToArray(seal.ComprModeType.none) as Uint8Array;
      const fresh = noiseAtPositions(params, raw, s, all, coeffs);
      const abs = fresh.map((e) => (e < 0n ? -e : e));
      // SEAL samples fresh noise in [−21, 21]; scaling the message rounds by at most 1 more.
      expect(abs.every((e) => e <= 22n)).toBe(true);
      expect(abs.some((e) => e >= 10n)).toBe(true);
      const positions = all.filter((i) => i % 97 === 5);
      const k0 = 60;
      const k1 = 70;
      const bytes = packSparseResult(seal, context, params, ct, positions, k0, k1);
      const packed = noiseAtPositions(params, unpackSparseResult(params, bytes, positions, { k0, k1, primes: 2 }, template), s, positions, positions.map((p) => coeffs[p]!));
      const bound = roundingBound(params, 2, k0, k1) + 22n;
      expect(packed.every((e) => (e < 0n ? -e : e) <= bound)).toBe(true);
      expect(packed).not.toEqual(positions.map((p) => fresh[p]));
    } finally {
      ct.delete();
    }
  });
});

describe('sparse result refusals', () => {
  const positions = [3, 50, 51, 4000];
  const expectation = { k0: 30, k1: 40, primes: 2 };
  let bytes: Uint8Array;
  beforeAll(() => {
    const ct = encrypt([1n, 2n, 3n, 4n], 2);
    bytes = packSparseResult(seal, context, params, ct, positions, 30, 40);
    ct.delete();
  });
  const refusal = (f: () => unknown): Error => {
    try {
      f();
    } catch (e) {
      return e as Error;
    }
    throw new Error('not refused');
  };
  const unpack = (b: Uint8Array, ps = positions, exp = expectation) => unpackSparseResult(params, b, ps, exp, template);

  it('refuses bytes of another length than the header declares, and truncated ones', () => {
    for (const b of [bytes.slice(0, -1), new Uint8Array([...bytes, 0]), bytes.slice(0, SPARSE_HEADER_BYTES), bytes.slice(0, SPARSE_HEADER_BYTES - 1), new Uint8Array(0)]) {
      const error = refusal(() => unpack(b));
      expect(error).toBeInstanceOf(SparseResultError);
      expect(error.message).toMatch(/bytes/);
    }
  });

  it('refuses any change to a header field, in plain words, before allocating', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SPARSE_HEADER_BYTES - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const b = bytes.slice();
        b[at] = b[at]! ^ flip;
        let asked = false;
        const error = refusal(() =>
          unpackSparseResult(params, b, positions, expectation, (p) => {
            asked = true;
            return template(p);
          }),
        );
        expect(error).toBeInstanceOf(SparseResultError);
        expect(error.message).not.toMatch(/\n\s+at /);
        expect(asked).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('names each field that does not fit the plan', () => {
    const at = (offset: number, value: number) => {
      const b = bytes.slice();
      b[offset] = value;
      return b;
    };
    expect(() => unpack(at(0, 0))).toThrow(/not a sparse result/);
    expect(() => unpack(at(4, 2))).toThrow(/format version 2/);
    expect(() => unpack(at(5, 1))).toThrow(/level of 1 primes/);
    expect(() => unpack(at(6, 31))).toThrow(/31 and 40 bits/);
    expect(() => unpack(at(7, 41))).toThrow(/30 and 41 bits/);
    expect(() => unpack(at(9, 0x20))).toThrow(/declares degree/);
    expect(() => unpack(at(12, 5))).toThrow(/5 output positions/);
    // The same bytes, read by a plan of other widths, level or positions.
    expect(() => unpack(bytes, positions, { ...expectation, k1: 41 })).toThrow(SparseResultError);
    expect(() => unpack(bytes, positions, { ...expectation, primes: 1 })).toThrow(SparseResultError);
    expect(() => unpack(bytes, [3, 50, 51])).toThrow(/4 output positions/);
  });

  it('refuses positions that are not increasing and in range, and a level the plan does not have', () => {
    expect(() => unpack(bytes, [3, 51, 50, 4000])).toThrow(RangeError);
    expect(() => unpack(bytes, [3, 50, 51, n])).toThrow(RangeError);
    expect(() => unpack(bytes, positions, { ...expectation, primes: 3 })).toThrow(RangeError);
    const ct = encrypt([1n], 2);
    try {
      expect(() => packSparseResult(seal, context, params, ct, [5, 5], 30, 40)).toThrow(RangeError);
      expect(() => packSparseResult(seal, context, params, ct, [5], 0, 40)).toThrow(RangeError);
    } finally {
      ct.delete();
    }
  });
});
