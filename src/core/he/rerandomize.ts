/**
 * Circuit privacy by noise flooding: before a result leaves, the server adds an encryption of
 * zero under the client's public key whose c0 also carries noise drawn uniformly from
 * [−2^f, 2^f). The client then learns the decrypted value and nothing about how it was computed
 * (which weights, which path), up to a statistical distance of 2^−λ:
 *
 *   a circuit leaves noise e with |e_i| ≤ b in each coefficient of c0 + c1·s; adding u_i uniform
 *   on 2^(f+1) values moves that coefficient's distribution by at most b / 2^f in statistical
 *   distance. The fresh encryption of zero makes c1 uniform and independent of the circuit (RLWE),
 *   so what the client can read is the coefficients it is sent c0 of: k·b / 2^f in all, and
 *   f = ⌈log2 b⌉ + ⌈log2 k⌉ + λ makes that ≤ 2^−λ (floodBitsFor). A result whose c0 is sent whole
 *   needs k = n (floodBits, from a measured margin).
 *
 * The single-record plans send c0 only at their k output positions (sparse-result.ts) and know b
 * from the weights, not from a measurement: the flood costs about log2 b + log2 k + 40 bits of the
 * data level's modulus (66 for Framingham's model at degree 4096, of 93). Every coefficient is
 * flooded all the same (it costs nothing the client can see). Plaintexts may be batched or
 * coefficient-encoded: the mask encrypts the zero polynomial. BFV only (BGV's noise is a multiple
 * of t and sits in NTT form).
 */
import type { HeParameters } from './params.ts';
import type { Ciphertext, Seal, SEALContext } from './seal.ts';
import { SEAL_CIPHERTEXT_AT, sealCiphertextView } from './serialized.ts';

type PublicKey = InstanceType<Seal['PublicKey']>;

/** Statistical distance exponent the flooding aims at: 2^−40. */
export const CIRCUIT_PRIVACY_BITS = 40;

/**
 * Bits f of flooding noise for a result at `primes` primes whose noise budget is at least
 * `marginBits`: the noise is then below b = Q / (t · 2^(margin+1)) per coefficient.
 */
export function floodBits(params: HeParameters, primes: number, marginBits: number, lambda = CIRCUIT_PRIVACY_BITS): number {
  const Q = params.coeffModulus.slice(0, primes).reduce((a, p) => a * BigInt(p), 1n);
  const noiseBits = Q.toString(2).length - BigInt(params.plainModulus).toString(2).length + 1 - marginBits - 1;
  return Math.max(0, noiseBits) + Math.ceil(Math.log2(params.polyModulusDegree)) + lambda;
}

/**
 * Bits f of flooding for a circuit noise of at most `noiseBound` per coefficient, of which the
 * client sees `positions` coefficients: ⌈log2 b⌉ + ⌈log2 k⌉ + λ, for a distance ≤ k·b/2^f ≤ 2^−λ.
 */
export function floodBitsFor(noiseBound: bigint, positions: number, lambda = CIRCUIT_PRIVACY_BITS): number {
  if (noiseBound < 1n || !Number.isInteger(positions) || positions < 1) throw new RangeError('a flood needs a positive noise bound and at least one position');
  return (noiseBound - 1n).toString(2).length + Math.ceil(Math.log2(positions)) + lambda;
}

/** Uniform integers in [−2^f, 2^f), one per coefficient, from the platform's CSPRNG. */
function floodNoise(n: number, f: number): bigint[] {
  const bytes = Math.ceil((f + 1) / 8);
  const raw = new Uint8Array(n * bytes);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let at = 0; at < raw.length; at += 65536) crypto.getRandomValues(raw.subarray(at, Math.min(raw.length, at + 65536)));
  const span = 1n << BigInt(f + 1);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0n;
    for (let b = 0; b < bytes; b++) v = (v << 8n) | BigInt(raw[i * bytes + b]!);
    out.push((v % span) - (span >> 1n));
  }
  return out;
}

/**
 * A new ciphertext: `ct` (BFV, any level, size 2, left unchanged) plus an encryption of zero
 * under `publicKey` with f bits of flooding noise in its c0.
 */
export function rerandomize(seal: Seal, context: SEALContext, params: HeParameters, ct: Ciphertext, publicKey: PublicKey, f: number): Ciphertext {
  if (params.scheme !== 'bfv') throw new RangeError('noise flooding is implemented for BFV results only');
  if (ct.size() !== 2) throw new RangeError(`only size-2 ciphertexts are re-randomized, got size ${ct.size()}`);
  const n = params.polyModulusDegree;
  const primes = ct.coeffModulusSize();
  const moduli = params.coeffModulus.slice(0, primes).map(BigInt);
  const Q = moduli.reduce((a, b) => a * b, 1n);
  if (BigInt(f + 2) > BigInt(Q.toString(2).length)) throw new RangeError(`${f} bits of flooding do not fit a ${Q.toString(2).length}-bit modulus`);
  const encryptor = new seal.Encryptor(context, publicKey);
  const ev = new seal.Evaluator(context);
  // The zero polynomial: the same under batching and coefficient encoding.
  const zero = new seal.Plaintext(n);
  const mask = new seal.Ciphertext();
  const flooded = new seal.Ciphertext();
  const out = new seal.Ciphertext();
  try {
    encryptor.encrypt(zero, mask);
    while (mask.coeffModulusSize() > primes) ev.cipherModSwitchToNextInplace(mask);
    if (mask.isNttForm()) throw new RangeError('expected a BFV ciphertext in coefficient form');
    // c0 words are the first primes·n of the serialized data (prime by prime), c1's follow.
    const raw = mask.saveToArray(seal.ComprModeType.none) as Uint8Array;
    const view = sealCiphertextView(raw, n, primes);
    const dataAt = SEAL_CIPHERTEXT_AT.data;
    const noise = floodNoise(n, f);
    moduli.forEach((q, j) => {
      for (let i = 0; i < n; i++) {
        const at = dataAt + (j * n + i) * 8;
        const e = noise[i]! % q;
        view.setBigUint64(at, (view.getBigUint64(at, true) + e + q) % q, true);
      }
    });
    flooded.loadFromArray(context, raw);
    ev.add(ct, flooded, out);
    return out;
  } catch (e) {
    out.delete();
    throw e;
  } finally {
    flooded.delete();
    mask.delete();
    zero.delete();
    ev.delete();
    encryptor.delete();
  }
}
