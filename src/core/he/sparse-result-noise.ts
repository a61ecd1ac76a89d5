/**
 * Secret-key diagnostics for sparse results: the noise at each output position, exactly what a
 * client holding the key could compute from what it receives. SEAL reports one noise budget for
 * a whole ciphertext (the worst coefficient), and a sparse result's c0 is zero away from its
 * positions, so the budget says nothing there; the bench and the circuit-privacy test read the
 * noise position by position instead. Never used to decrypt.
 */
import type { HeParameters } from './params.ts';
import type { Seal, SEALContext } from './seal.ts';
import { SEAL_CIPHERTEXT_AT, sealCiphertextView } from './serialized.ts';
import { levelPrimes, modInverse } from './sparse-result.ts';

type Decryptor = InstanceType<Seal['Decryptor']>;

const product = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a * b, 1n);

/** The modulus Q of a serialized ciphertext's level and its coefficients, CRT-combined, by polynomial (0: c0, 1: c1). */
export function ciphertextCoefficients(params: HeParameters, raw: Uint8Array): { Q: bigint; read: (poly: number, i: number) => bigint } {
  const n = params.polyModulusDegree;
  const primes = Number(new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(SEAL_CIPHERTEXT_AT.primes, true));
  const moduli = levelPrimes(params, primes);
  const view = sealCiphertextView(raw, n, primes);
  const Q = product(moduli);
  const lift = moduli.map((q) => (Q / q) * modInverse((Q / q) % q, q));
  const read = (poly: number, i: number): bigint => {
    let c = 0n;
    moduli.forEach((_, j) => (c += view.getBigUint64(SEAL_CIPHERTEXT_AT.data + ((poly * primes + j) * n + i) * 8, true) * lift[j]!));
    return c % Q;
  };
  return { Q, read };
}

/**
 * The secret key's n coefficients (each −1, 0 or 1), read through decryption: a ciphertext
 * (c0, c1) = (0, ⌊Q/t⌋) decrypts to s mod t. `template` is any size-2 coefficient-form
 * ciphertext of the plan, serialized uncompressed; its coefficients are replaced.
 */
export function secretKeyCoefficients(seal: Seal, context: SEALContext, params: HeParameters, decryptor: Decryptor, template: Uint8Array): Int8Array {
  const n = params.polyModulusDegree;
  const raw = new Uint8Array(template);
  const primes = Number(new DataView(raw.buffer).getBigUint64(SEAL_CIPHERTEXT_AT.primes, true));
  const moduli = levelPrimes(params, primes);
  const view = sealCiphertextView(raw, n, primes);
  const t = BigInt(params.plainModulus);
  const delta = product(moduli) / t;
  raw.fill(0, SEAL_CIPHERTEXT_AT.data);
  moduli.forEach((q, j) => view.setBigUint64(SEAL_CIPHERTEXT_AT.data + (primes + j) * n * 8, delta % q, true));
  const ct = new seal.Ciphertext();
  const pt = new seal.Plaintext();
  try {
    ct.loadFromArray(context, raw);
    decryptor.decrypt(ct, pt);
    const count = pt.coeffCount();
    const bytes = pt.saveToArray(seal.ComprModeType.none) as Uint8Array;
    const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const at = bytes.length - count * 8;
    return Int8Array.from({ length: n }, (_, i) => {
      const v = i < count ? words.getBigUint64(at + i * 8, true) : 0n;
      if (v === 0n || v === 1n) return Number(v);
      if (v === t - 1n) return -1;
      throw new Error('the decrypted key coefficient is not ternary');
    });
  } finally {
    pt.delete();
    ct.delete();
  }
}

/**
 * Noise at each position p of a size-2 coefficient-form ciphertext (uncompressed SEAL bytes, as
 * unpackSparseResult returns them) that decrypts to `values` there: (c0 + c1·s)_p − round(Q·m_p/t)
 * mod Q, centered in (−Q/2, Q/2]. Decryption is exact while |noise| < Q/(2t).
 */
export function noiseAtPositions(params: HeParameters, raw: Uint8Array, secret: Int8Array, positions: readonly number[], values: readonly bigint[]): bigint[] {
  const n = params.polyModulusDegree;
  const { Q, read } = ciphertextCoefficients(params, raw);
  const t = BigInt(params.plainModulus);
  const c1 = Array.from({ length: n }, (_, i) => read(1, i));
  const support: number[] = [];
  secret.forEach((s, j) => s !== 0 && support.push(j));
  return positions.map((p, r) => {
    // (c1·s)_p in Z[X]/(X^n + 1): c1_i·s_j lands at i + j, negated when it wraps past n.
    let v = read(0, p);
    for (const j of support) {
      const i = p - j;
      const term = i >= 0 ? c1[i]! : -c1[i + n]!;
      v += secret[j]! > 0 ? term : -term;
    }
    const m = ((values[r]! % t) + t) % t;
    let e = (v - (Q * m + t / 2n) / t) % Q;
    if (e < 0n) e += Q;
    return e > Q / 2n ? e - Q : e;
  });
}
