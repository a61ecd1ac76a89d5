/**
 * Packed results against the real SEAL and the real circuit: a batch result (BGV; a BFV one for
 * the header checks) packed at widths from the plan's plain modulus decrypt to the integer
 * reference in every region and slot, with the noise margin kept and about half the bytes; a
 * header that does not fit the plan, or bytes of another length than declared, are refused
 * with a plain message before anything is expanded.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from './compile.ts';
import { HeClient } from './client.ts';
import { HeEvaluator, type LoadedKeys, type ResultPacking } from './evaluator.ts';
import { isPackedResult, PACKED_HEADER_BYTES, packCiphertext, PackedResultError, packedResultBytes, readPackedHeader } from './packed-result.ts';
import { contextFor, plainModulusBits } from './params.ts';
import { loadSeal } from './seal.ts';
import type { HePlan } from './plan.ts';
import { HeInputError, type EncryptedResult } from './types.ts';
import { referenceScore, type QuantizedRecord } from '../model/reference.ts';
import { syntheticModel, randomRecords } from '../../../tests/support/synthetic.ts';

const model = syntheticModel(12, 8, 7, 'packed-model');

/** Widths measured in bench/lean.ts for a 10-bit margin: c1 log2 t + 18 bits, c0 six fewer. */
function widthsFor(plan: HePlan): ResultPacking {
  const k1 = plainModulusBits(plan.params) + 18;
  return { k0: k1 - 6, k1 };
}

describe.each(['batch'] as const)('%s plan', (layout) => {
  let plan: HePlan;
  let client: HeClient;
  let evaluator: HeEvaluator;
  let keys: LoadedKeys;
  let records: QuantizedRecord[];
  let plain: EncryptedResult;
  let packed: EncryptedResult;
  beforeAll(async () => {
    plan = await compilePlan(model, layout);
    client = await HeClient.create(plan);
    evaluator = await HeEvaluator.create(model, plan);
    keys = evaluator.loadKeys(client.evaluationKeys());
    records = randomRecords(model, 200);
    const input = client.encryptBatch(records);
    plain = evaluator.evaluate(input, keys);
    packed = evaluator.evaluate(input, keys, undefined, { packing: widthsFor(plan) });
  });
  afterAll(() => {
    keys.dispose();
    evaluator.dispose();
    client.dispose();
  });

  it('decrypts a packed result to the integer reference everywhere, with the margin kept', () => {
    expect(plan.params.scheme).toBe('bgv');
    expect(isPackedResult(packed.ciphertext)).toBe(true);
    const scores = client.decryptScores({ ...packed, count: records.length });
    expect(scores).toEqual(records.map((q) => referenceScore(model, q)));
    expect(client.noiseBudget(packed)).toBeGreaterThanOrEqual(10);
    const { k0, k1 } = widthsFor(plan);
    expect(packed.ciphertext.length).toBe(packedResultBytes(plan.params.polyModulusDegree, k0, k1));
    expect(packed.ciphertext.length).toBeLessThan(0.7 * plain.ciphertext.length);
  });

  it('refuses bytes of another length than the header declares', () => {
    for (const bytes of [packed.ciphertext.slice(0, -1), new Uint8Array([...packed.ciphertext, 0]), packed.ciphertext.slice(0, PACKED_HEADER_BYTES - 1)]) {
      expect(() => client.decryptScores({ ...packed, ciphertext: bytes })).toThrow(HeInputError);
    }
  });

  it('refuses any change to the header fields before expanding anything', () => {
    // Bytes 0–15 and, for BFV, the correction factor: every value but the right one is refused.
    const checked = plan.params.scheme === 'bfv' ? PACKED_HEADER_BYTES : 16;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: checked - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bytes = packed.ciphertext.slice();
        bytes[at] = bytes[at]! ^ flip;
        let error: unknown;
        try {
          readPackedHeader(bytes, plan.params);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(PackedResultError);
        expect((error as Error).message).not.toMatch(/\n\s+at /);
      }),
      { numRuns: 200 },
    );
  });
});

describe('BGV correction factor', () => {
  it('is carried, so a result switched before its square still decrypts', async () => {
    // Three data primes, so that a result can be switched before its square and after it.
    const plan = await compilePlan(model, 'batch', { candidates: [{ scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [60, 50, 50, 58], switchBeforeSquare: 0, switchAfterSquare: 1 }] });
    const seal = await loadSeal();
    const context = contextFor(seal, plan.params);
    const client = await HeClient.create(plan);
    const evaluator = await HeEvaluator.create(model, plan);
    const ev = new seal.Evaluator(context);
    try {
      using keys = evaluator.loadKeys(client.evaluationKeys());
      const q = Int32Array.from({ length: model.features.length }, (_, i) => i - 5);
      const [x] = evaluator.loadInputs(client.encryptBatch([q]));
      // Switched, squared, switched to the last level: the correction factor differs from that
      // of a ciphertext only switched down (the client's template).
      ev.cipherModSwitchToNextInplace(x!);
      ev.squareInplace(x!);
      ev.relinearizeInplace(x!, keys.relin!);
      ev.cipherModSwitchToNextInplace(x!);
      const bytes = packCiphertext(seal, context, plan.params, x!, plainModulusBits(plan.params) + 12, plainModulusBits(plan.params) + 18);
      x!.delete();
      expect(readPackedHeader(bytes, plan.params).correction).not.toBe(1n);
      const result: EncryptedResult = { layout: 'batch', modelHash: plan.modelHash, planHash: plan.hash, count: 1, ciphertext: bytes };
      expect(client.decryptScores(result)).toEqual([(-5) ** 2]);
    } finally {
      ev.delete();
      evaluator.dispose();
      client.dispose();
    }
  });
});

describe('packed header', () => {
  it('names what does not fit in plain words', async () => {
    const plan = await compilePlan(model, 'batch', { candidates: [{ scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [46, 46, 17], switchBeforeSquare: 0, switchAfterSquare: 0 }] });
    const client = await HeClient.create(plan);
    const evaluator = await HeEvaluator.create(model, plan);
    try {
      using keys = evaluator.loadKeys(client.evaluationKeys());
      const packed = evaluator.evaluate(client.encryptBatch(randomRecords(model, 1)), keys, undefined, { packing: widthsFor(plan) });
      const at = (offset: number, value: number) => {
        const b = packed.ciphertext.slice();
        b[offset] = value;
        return b;
      };
      expect(() => readPackedHeader(at(4, 2), plan.params)).toThrow(/format version 2/);
      expect(() => readPackedHeader(at(6, 2), plan.params)).toThrow(/declares 2 primes/);
      expect(() => readPackedHeader(at(8, 200), plan.params)).toThrow(/200 bits per coefficient/);
      expect(() => readPackedHeader(at(13, 0x40), plan.params)).toThrow(/declares degree/);
      expect(() => readPackedHeader(packed.ciphertext.slice(0, -3), plan.params)).toThrow(/header declares/);
    } finally {
      evaluator.dispose();
      client.dispose();
    }
  });
});
