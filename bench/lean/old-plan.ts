/**
 * The single-record plan the product used before the quadratic form (bench/lean.ts's "before"
 * row), kept here whole so that it runs beside the new plan on the same machine: BFV n = 8192,
 * primes 60+60 | 60, the record replicated into SIMD slots, one weight mask, rotations to sum
 * the feature blocks and fold the units (Galois keys), one square (relinearization keys), the
 * result switched to the last prime and sent as SEAL's bytes. Nothing in the product uses it.
 *
 * Slots: a record occupies R = D·S slots (D feature blocks, a power of two ≥ d; S = 2P unit
 * stride, P a power of two ≥ the units of either output sign); slot r·R + i·S + k holds q_i of
 * record r. Unit j's weights sit at slot i·S + slot(j) of the mask; positive-output units in
 * slots [0, P), negative ones in [P, 2P), so slot r·R ends as Σ₊ − Σ₋.
 */
import type { TernaryModel } from '../../src/core/model/format.ts';
import type { QuantizedRecord } from '../../src/core/model/reference.ts';
import { chooseParameters, contextFor, type HeParameters } from '../../src/core/he/params.ts';
import { floodBits } from '../../src/core/he/rerandomize.ts';
import type { Ciphertext, Seal } from '../../src/core/he/seal.ts';

export const OLD_PARAMETERS = { polyModulusDegree: 8192, coeffBits: [60, 60, 60] } as const;

function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** The old slot layout of a model: blocks, stride, group size, rotation steps, unit slots. */
export function oldLayout(model: TernaryModel) {
  const w = model.output.weights;
  const groupSize = nextPow2(Math.max(w.filter((t) => t === 1).length, w.filter((t) => t === -1).length, 1));
  let p = 0;
  let m = 0;
  const unitSlot = w.map((t) => (t === 1 ? p++ : t === -1 ? groupSize + m++ : -1));
  const blocks = nextPow2(model.features.length);
  const unitStride = 2 * groupSize;
  const steps = new Set<number>();
  for (let s = 1; s < blocks; s *= 2) steps.add(unitStride * s);
  for (let s = 1; s < groupSize; s *= 2) steps.add(s);
  steps.add(groupSize);
  return { blocks, unitStride, groupSize, unitSlot, slotsPerRecord: blocks * unitStride, steps: [...steps].sort((a, b) => a - b) };
}

/**
 * The old plan for one model, with its own key pair: what a patient's browser made and sent,
 * and what the server ran. `plainBits` is the product's plain-modulus size for the model.
 */
export function oldPlan(seal: Seal, model: TernaryModel, plainBits: number) {
  const params: HeParameters = chooseParameters(seal, 'bfv', OLD_PARAMETERS.polyModulusDegree, [...OLD_PARAMETERS.coeffBits], plainBits);
  const context = contextFor(seal, params);
  const layout = oldLayout(model);
  const keygen = new seal.KeyGenerator(context);
  const sk = keygen.secretKey();
  const pk = keygen.createPublicKey();
  const encryptor = new seal.Encryptor(context, pk, sk);
  const decryptor = new seal.Decryptor(context, sk);
  const encoder = new seal.BatchEncoder(context);
  const ev = new seal.Evaluator(context);
  const relin = keygen.createRelinKeys();
  const galois = keygen.createGaloisKeysWithSteps(Int32Array.from(layout.steps));
  const slots = encoder.slotCount();
  const R = layout.slotsPerRecord;
  const regions = slots / R;
  const replicate = (v: BigInt64Array) => {
    for (let at = R; at < v.length; at += R) v.copyWithin(at, 0, R);
    return v;
  };
  const plain = (v: BigInt64Array) => {
    const pt = new seal.Plaintext();
    encoder.encode(v, pt);
    return pt;
  };
  const maskValues = new BigInt64Array(slots);
  const biasValues = new BigInt64Array(slots);
  model.hidden.weights.forEach((row, j) => {
    const s = layout.unitSlot[j]!;
    if (s < 0) return;
    row.forEach((w, i) => (maskValues[i * layout.unitStride + s] = BigInt(model.hidden.alpha[j]! * w)));
    biasValues[s] = BigInt(model.hidden.beta[j]!);
  });
  const mask = plain(replicate(maskValues));
  const bias = plain(replicate(biasValues));

  return {
    params,
    regions,
    /** Relinearization and Galois keys, seeded and zstd-compressed, as the old client sent them. */
    keyBytes(): number {
      const zstd = seal.ComprModeType.zstd;
      const rk = keygen.createRelinKeysSerializable();
      const gk = keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(layout.steps));
      const bytes = (rk.saveToArray(zstd) as Uint8Array).length + (gk.saveToArray(zstd) as Uint8Array).length;
      rk.delete();
      gk.delete();
      return bytes;
    },
    /** Records replicated into their regions, encrypted seeded and sent uncompressed. */
    encrypt(records: readonly QuantizedRecord[]): { ciphertext: Ciphertext; upBytes: number } {
      const v = new BigInt64Array(slots);
      records.forEach((q, r) => q.forEach((x, i) => v.fill(BigInt(x), r * R + i * layout.unitStride, r * R + (i + 1) * layout.unitStride)));
      const pt = plain(v);
      const seeded = encryptor.encryptSymmetricSerializable(pt);
      const bytes = seeded.saveToArray(seal.ComprModeType.none) as Uint8Array;
      seeded.delete();
      pt.delete();
      const ciphertext = new seal.Ciphertext();
      ciphertext.loadFromArray(context, bytes);
      return { ciphertext, upBytes: bytes.length };
    },
    /** The old circuit; the result at the last prime. */
    evaluate(input: Ciphertext): Ciphertext {
      const x = new seal.Ciphertext();
      const tmp = new seal.Ciphertext();
      ev.multiplyPlain(input, mask, x);
      for (let s = 1; s < layout.blocks; s *= 2) {
        ev.rotateRows(x, layout.unitStride * s, galois, tmp);
        ev.addInplace(x, tmp);
      }
      ev.addPlainInplace(x, bias);
      ev.squareInplace(x);
      ev.relinearizeInplace(x, relin);
      for (let s = 1; s < layout.groupSize; s *= 2) {
        ev.rotateRows(x, s, galois, tmp);
        ev.addInplace(x, tmp);
      }
      ev.rotateRows(x, layout.groupSize, galois, tmp);
      ev.subInplace(x, tmp);
      while (x.coeffModulusSize() > 1) ev.cipherModSwitchToNextInplace(x);
      tmp.delete();
      return x;
    },
    downBytes: (result: Ciphertext) => (result.saveToArray(seal.ComprModeType.none) as Uint8Array).length,
    budget: (ct: Ciphertext) => decryptor.invariantNoiseBudget(ct),
    /** Region r's score. */
    decrypt(result: Ciphertext, count: number): number[] {
      const pt = new seal.Plaintext();
      decryptor.decrypt(result, pt);
      const v = encoder.decodeBigInt64(pt) as BigInt64Array;
      pt.delete();
      return Array.from({ length: count }, (_, r) => Number(v[r * R]!));
    },
    /** Flooding bits a 2^−40 distance would need at the last prime, with c0 sent whole. */
    floodBitsNeeded: (marginBits: number) => floodBits(params, 1, marginBits),
    lastPrimeBits: BigInt(params.coeffModulus[0]!).toString(2).length,
    [Symbol.dispose]() {
      for (const o of [mask, bias, galois, relin, ev, encoder, decryptor, encryptor, pk, sk, keygen]) o.delete();
    },
  };
}
