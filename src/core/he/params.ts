/**
 * Encryption parameters as data: exact primes as decimal strings, so client and server build
 * bit-identical SEAL contexts from a plan, and a hash that names them.
 *
 * Security: every context is built with SEAL's `tc128` check (HomomorphicEncryption.org tables:
 * total coefficient modulus ≤ 109 bits at degree 4096, ≤ 218 at 8192); a parameter set that does
 * not pass is refused, never downgraded.
 */
import { hashJson } from '../hash.ts';
import type { Seal, SEALContext } from './seal.ts';

export type SchemeName = 'bfv' | 'bgv';

export interface HeParameters {
  scheme: SchemeName;
  polyModulusDegree: number;
  /** Coefficient modulus primes, data primes first, the special (key-switching) prime last. */
  coeffModulus: string[];
  /** Batching-friendly prime t ≡ 1 (mod 2n). */
  plainModulus: string;
}

export class HeParameterError extends Error {
  override name = 'HeParameterError';
}

/** Content hash of a parameter set. */
export function parametersHash(params: HeParameters): string {
  return hashJson(params);
}

/** Picks concrete primes for the given bit sizes (SEAL's deterministic prime search). */
export function chooseParameters(seal: Seal, scheme: SchemeName, n: number, coeffBits: number[], plainBits: number): HeParameters {
  const vec = seal.CoeffModulus.Create(n, Int32Array.from(coeffBits));
  const primes = (seal.jsArrayFromVecModulus(vec) as bigint[]).map(String);
  vec.delete();
  // Not every bit size has a prime t ≡ 1 (mod 2n) (none of 19 bits at n = 8192): take the next.
  let plain: string | undefined;
  for (let bits = plainBits; plain === undefined && bits <= 60; bits++) {
    try {
      const t = seal.PlainModulus.Batching(n, bits);
      plain = t.value().toString();
      t.delete();
    } catch {
      // no batching prime of this size; try one bit more
    }
  }
  if (plain === undefined) throw new HeParameterError(`no batching plain modulus of ${plainBits} to 60 bits exists for degree ${n}`);
  return { scheme, polyModulusDegree: n, coeffModulus: primes, plainModulus: plain };
}

function buildParameters(seal: Seal, params: HeParameters) {
  const parms = new seal.EncryptionParameters(seal.SchemeType[params.scheme]);
  parms.setPolyModulusDegree(params.polyModulusDegree);
  const mods = params.coeffModulus.map((p) => new seal.Modulus(BigInt(p)));
  const vec = seal.vecFromArrayModulus(mods);
  parms.setCoeffModulus(vec);
  vec.delete();
  mods.forEach((m) => m.delete());
  const t = new seal.Modulus(BigInt(params.plainModulus));
  parms.setPlainModulus(t);
  t.delete();
  return parms;
}

const contexts = new Map<string, SEALContext>();

/**
 * The SEAL context for a parameter set, built once per thread and kept (≈0.5 s to build at
 * degree 8192). Throws HeParameterError when SEAL rejects the set or it is below 128-bit security.
 */
export function contextFor(seal: Seal, params: HeParameters): SEALContext {
  const key = parametersHash(params);
  const cached = contexts.get(key);
  if (cached) return cached;
  let parms;
  try {
    parms = buildParameters(seal, params);
  } catch (e) {
    throw new HeParameterError(`encryption parameters are malformed: ${(e as Error).message ?? e}`);
  }
  const context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
  parms.delete();
  if (!context.parametersSet()) {
    context.delete();
    throw new HeParameterError(`encryption parameters ${describeParameters(params)} are not valid at 128-bit security`);
  }
  const data = context.keyContextData();
  const qualifiers = data.qualifiers();
  const ok = qualifiers.securityLevel === seal.SecLevelType.tc128 && qualifiers.usingBatching;
  qualifiers.delete();
  data.delete();
  if (!ok) {
    context.delete();
    throw new HeParameterError(`encryption parameters ${describeParameters(params)} do not give 128-bit security with batching`);
  }
  contexts.set(key, context);
  return context;
}

/** Bits of each prime, e.g. [46, 46, 17]. */
export function coeffModulusBits(params: HeParameters): number[] {
  return params.coeffModulus.map((p) => BigInt(p).toString(2).length);
}

export function plainModulusBits(params: HeParameters): number {
  return BigInt(params.plainModulus).toString(2).length;
}

/** A short human description, e.g. "BGV n=4096 q=46+46+17 bits t=22 bits". */
export function describeParameters(params: HeParameters): string {
  return `${params.scheme.toUpperCase()} n=${params.polyModulusDegree} q=${coeffModulusBits(params).join('+')} bits t=${plainModulusBits(params)} bits`;
}
