/**
 * The bounds the worker inflates client bytes within, against real SEAL objects of a compiled
 * single plan: the largest object of each kind fits its bound exactly, one byte more does not,
 * and compressed bytes that would inflate past it are refused before SEAL sees them.
 */
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ciphertextBytesBound, compilePlan, publicKeyBytesBound, SEAL_HEADER_BYTES, SealBytesError, withSealPayload } from '../../core/he/index.ts';
import { contextFor } from '../../core/he/params.ts';
import { loadSeal } from '../../core/he/seal.ts';
import { syntheticModel } from '../../../tests/support/synthetic.ts';
import { boundedSealBytes, keyBoundsOf } from './seal-bytes.ts';

/** The same SEAL object zstd-compressed, with a consistent header. */
function zstdOf(raw: Uint8Array, extra = 0): Uint8Array {
  return withSealPayload(raw, 'zstd', zstdCompressSync(Buffer.concat([raw.subarray(SEAL_HEADER_BYTES), Buffer.alloc(extra)])));
}

describe('plan bounds for client bytes', async () => {
  const plan = await compilePlan(syntheticModel(8, 6, 3, 'bounds'), 'single');
  const seal = await loadSeal();
  const context = contextFor(seal, plan.params);
  const keygen = new seal.KeyGenerator(context);
  const publicKey = keygen.createPublicKey();
  const secretKey = keygen.secretKey();
  const encryptor = new seal.Encryptor(context, publicKey, secretKey);
  const plaintext = new seal.Plaintext(plan.params.polyModulusDegree);
  const ciphertext = new seal.Ciphertext();
  encryptor.encryptSymmetric(plaintext, ciphertext);
  const none = seal.ComprModeType.none;
  const fullCiphertext = ciphertext.saveToArray(none) as Uint8Array;
  const fullPublicKey = publicKey.saveToArray(none) as Uint8Array;
  const seeded = encryptor.encryptSymmetricSerializable(plaintext);
  const seededCiphertext = seeded.saveToArray(seal.ComprModeType.zstd) as Uint8Array;
  [seeded, ciphertext, plaintext, encryptor, secretKey, publicKey, keygen, context].forEach((o) => o.delete());

  it('are the exact sizes of an unseeded input and public key of the plan', () => {
    expect(plan.params.coeffModulus).toHaveLength(3);
    expect(ciphertextBytesBound(plan.params)).toBe(fullCiphertext.length);
    expect(publicKeyBytesBound(plan.params)).toBe(fullPublicKey.length);
    expect(keyBoundsOf(plan).publicKey).toBe(fullPublicKey.length);
  });

  it('let the largest object of each kind through, compressed or not, and no byte more', () => {
    const input = ciphertextBytesBound(plan.params);
    expect(boundedSealBytes(fullCiphertext, input, 'ciphertext 0')).toBe(fullCiphertext);
    expect(boundedSealBytes(zstdOf(fullCiphertext), input, 'ciphertext 0')).toEqual(fullCiphertext);
    expect(boundedSealBytes(seededCiphertext, input, 'ciphertext 0').length).toBeLessThan(input);
    expect(boundedSealBytes(zstdOf(fullPublicKey), publicKeyBytesBound(plan.params), 'the public key')).toEqual(fullPublicKey);
    expect(() => boundedSealBytes(zstdOf(fullCiphertext, 1), input, 'ciphertext 0')).toThrow(new SealBytesError(`ciphertext 0 inflates beyond ${input} bytes, more than this plan's objects can hold`));
    expect(() => boundedSealBytes(zstdOf(fullPublicKey), input, 'the public key')).toThrow(/the public key inflates beyond/);
  });
});
