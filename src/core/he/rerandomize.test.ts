/**
 * Noise flooding against the real SEAL. Two "models" give the same outputs by different paths:
 * A squares x; B squares 977·x and multiplies by 977⁻² mod t, which leaves far more noise. The
 * client holds the secret key and looks at what a result shows besides its value: its noise
 * budget and the statistics of its coefficients. Unflooded, the budget tells A from B; flooded
 * (rerandomize.ts, f from the worse of the two margins), neither statistic does, both still
 * decrypt exactly and keep a margin.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseParameters, contextFor, type HeParameters } from './params.ts';
import { floodBits, floodBitsFor, rerandomize } from './rerandomize.ts';
import { loadSeal, type Ciphertext, type Seal, type SEALContext } from './seal.ts';
import { modInverse } from './sparse-result.ts';

let seal: Seal;
let params: HeParameters;
let context: SEALContext;
let kit: ReturnType<typeof makeKit>;

function makeKit() {
  const keygen = new seal.KeyGenerator(context);
  const sk = keygen.secretKey();
  const pk = keygen.createPublicKey();
  const relin = keygen.createRelinKeys();
  return {
    keygen,
    sk,
    pk,
    relin,
    encryptor: new seal.Encryptor(context, pk, sk),
    decryptor: new seal.Decryptor(context, sk),
    encoder: new seal.BatchEncoder(context),
    evaluator: new seal.Evaluator(context),
    dispose() {
      for (const o of [this.evaluator, this.encoder, this.decryptor, this.encryptor, relin, pk, sk, keygen]) o.delete();
    },
  };
}

beforeAll(async () => {
  seal = await loadSeal();
  // Three data primes (170 bits): the flood needs ~53 bits above the circuit's noise.
  params = chooseParameters(seal, 'bfv', 8192, [60, 60, 50, 48], 20);
  context = contextFor(seal, params);
  kit = makeKit();
});
afterAll(() => kit.dispose());

const C = 977n;

function constant(v: bigint) {
  const pt = new seal.Plaintext();
  kit.encoder.encode(new BigInt64Array(kit.encoder.slotCount()).fill(v), pt);
  return pt;
}


/** Encrypts x, then computes x² the plain way (A) or through 977 and its inverse (B). */
function results(x: bigint[]): { a: Ciphertext; b: Ciphertext } {
  const { encoder, encryptor, evaluator: ev, relin } = kit;
  const t = BigInt(params.plainModulus);
  const v = new BigInt64Array(encoder.slotCount());
  x.forEach((value, i) => (v[i] = value));
  const pt = new seal.Plaintext();
  encoder.encode(v, pt);
  const ct = new seal.Ciphertext();
  encryptor.encryptSymmetric(pt, ct);
  pt.delete();
  const a = new seal.Ciphertext();
  ev.square(ct, a);
  ev.relinearizeInplace(a, relin);
  const c = constant(C);
  const inv = modInverse(C * C, t);
  const back = constant(inv > t / 2n ? inv - t : inv);
  const b = new seal.Ciphertext();
  ev.multiplyPlain(ct, c, b);
  ev.squareInplace(b);
  ev.relinearizeInplace(b, relin);
  ev.multiplyPlainInplace(b, back);
  c.delete();
  back.delete();
  ct.delete();
  return { a, b };
}

function decrypt(ct: Ciphertext): bigint[] {
  const pt = new seal.Plaintext();
  kit.decryptor.decrypt(ct, pt);
  const out = Array.from(kit.encoder.decodeBigInt64(pt) as BigInt64Array);
  pt.delete();
  return out;
}

/** Mean of c0's and of c1's first-prime words, as fractions of that prime. */
function coefficientMeans(ct: Ciphertext): [number, number] {
  const raw = ct.saveToArray(seal.ComprModeType.none) as Uint8Array;
  const n = params.polyModulusDegree;
  const L = ct.coeffModulusSize();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dataAt = raw.length - 2 * L * n * 8;
  const q = Number(BigInt(params.coeffModulus[0]!));
  const mean = (poly: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Number(view.getBigUint64(dataAt + (poly * L * n + i) * 8, true)) / q;
    return s / n;
  };
  return [mean(0), mean(1)];
}

const records = fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 16 }).map((xs) => xs.map(BigInt));

describe('noise flooding', () => {
  it('unflooded, the noise budget tells the two computations apart', () => {
    fc.assert(
      fc.property(records, (x) => {
        const { a, b } = results(x);
        try {
          expect(decrypt(a).slice(0, x.length)).toEqual(x.map((v) => v * v));
          expect(decrypt(b).slice(0, x.length)).toEqual(x.map((v) => v * v));
          expect(kit.decryptor.invariantNoiseBudget(a) - kit.decryptor.invariantNoiseBudget(b)).toBeGreaterThanOrEqual(8);
        } finally {
          a.delete();
          b.delete();
        }
      }),
      { numRuns: 4 },
    );
  });

  it('flooded, neither the noise budget nor the coefficient statistics do, and results stay exact', () => {
    const budgets = { a: [] as number[], b: [] as number[] };
    fc.assert(
      fc.property(records, (x) => {
        const { a, b } = results(x);
        const margin = Math.min(kit.decryptor.invariantNoiseBudget(a), kit.decryptor.invariantNoiseBudget(b));
        const f = floodBits(params, a.coeffModulusSize(), margin);
        const fa = rerandomize(seal, context, params, a, kit.pk, f);
        const fb = rerandomize(seal, context, params, b, kit.pk, f);
        try {
          expect(decrypt(fa).slice(0, x.length)).toEqual(x.map((v) => v * v));
          expect(decrypt(fb).slice(0, x.length)).toEqual(x.map((v) => v * v));
          const ba = kit.decryptor.invariantNoiseBudget(fa);
          const bb = kit.decryptor.invariantNoiseBudget(fb);
          budgets.a.push(ba);
          budgets.b.push(bb);
          expect(Math.abs(ba - bb)).toBeLessThanOrEqual(1);
          expect(Math.min(ba, bb)).toBeGreaterThanOrEqual(10);
          const [a0, a1] = coefficientMeans(fa);
          const [b0, b1] = coefficientMeans(fb);
          for (const m of [a0, a1, b0, b1]) expect(Math.abs(m - 0.5)).toBeLessThan(0.02);
          expect(Math.abs(a0 - b0) + Math.abs(a1 - b1)).toBeLessThan(0.03);
        } finally {
          for (const c of [a, b, fa, fb]) c.delete();
        }
      }),
      { numRuns: 4 },
    );
    expect(Math.abs(Math.max(...budgets.a) - Math.max(...budgets.b))).toBeLessThanOrEqual(1);
  });

  it('needs about log2(n) + 40 bits above the circuit noise, which a 60-bit last prime does not have', () => {
    // A result at one 60-bit prime with the 25-bit margin of protocol 1's single plans.
    const slotPlan = chooseParameters(seal, 'bfv', 8192, [60, 60, 60], 23);
    expect(floodBits(slotPlan, 1, 25)).toBeGreaterThan(60);
    expect(floodBits(params, 3, 100) - floodBits(params, 3, 120)).toBe(20);
  });

  it('for k positions seen, needs log2 b + log2 k + 40 bits: 66 for a 20-bit bound at 34 positions', () => {
    expect(floodBitsFor(631_005n, 34)).toBe(20 + 6 + 40);
    expect(floodBitsFor(1n << 20n, 1)).toBe(60);
    expect(floodBitsFor((1n << 20n) + 1n, 1)).toBe(61);
    expect(() => floodBitsFor(0n, 3)).toThrow(RangeError);
  });
});

describe('noise flooding at the single-record plans\' data level', () => {
  it('keeps coefficient-encoded values exact under a 66-bit flood at two primes of degree 4096', () => {
    const single = chooseParameters(seal, 'bfv', 4096, [47, 46, 16], 23);
    const ctx = contextFor(seal, single);
    const keygen = new seal.KeyGenerator(ctx);
    const sk = keygen.secretKey();
    const pk = keygen.createPublicKey();
    const encryptor = new seal.Encryptor(ctx, pk, sk);
    const decryptor = new seal.Decryptor(ctx, sk);
    const n = single.polyModulusDegree;
    const t = BigInt(single.plainModulus);
    /** Coefficient i of a plaintext holds values[i] mod t (bytes patched: SEAL has no setter). */
    const coefficients = (pt: InstanceType<Seal['Plaintext']>): bigint[] => {
      const raw = pt.saveToArray(seal.ComprModeType.none) as Uint8Array;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const at = raw.length - pt.coeffCount() * 8;
      return Array.from({ length: n }, (_, i) => (i < pt.coeffCount() ? view.getBigUint64(at + i * 8, true) : 0n));
    };
    const values = Array.from({ length: n }, (_, i) => (BigInt(i) * 104_729n) % t);
    const empty = new seal.Plaintext(n);
    const raw = empty.saveToArray(seal.ComprModeType.none) as Uint8Array;
    empty.delete();
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    values.forEach((v, i) => view.setBigUint64(raw.length - n * 8 + i * 8, v, true));
    const pt = new seal.Plaintext();
    pt.loadFromArray(ctx, raw);
    const ct = new seal.Ciphertext();
    const out = new seal.Plaintext();
    let flooded: Ciphertext | undefined;
    try {
      encryptor.encryptSymmetric(pt, ct);
      expect(ct.coeffModulusSize()).toBe(2);
      const before = decryptor.invariantNoiseBudget(ct);
      flooded = rerandomize(seal, ctx, single, ct, pk, floodBitsFor(631_005n, 34));
      decryptor.decrypt(flooded, out);
      expect(coefficients(out)).toEqual(values);
      // 93 bits of modulus, 23 of t, 66 of flood: a margin of about 2 bits is left, far below the fresh one.
      const after = decryptor.invariantNoiseBudget(flooded);
      expect(after).toBeGreaterThanOrEqual(1);
      expect(after).toBeLessThanOrEqual(4);
      expect(before - after).toBeGreaterThan(40);
    } finally {
      for (const o of [pt, ct, out, flooded, decryptor, encryptor, pk, sk, keygen]) o?.delete();
    }
  });
});
