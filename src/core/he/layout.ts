/**
 * Packing layouts: where each quantized input sits before encryption. Pure arithmetic, no SEAL.
 *
 * - batch (feature-major): ciphertext i holds feature i of up to n records, one record per
 *   SIMD slot. The first layer is additions and subtractions of whole ciphertexts; no rotations.
 * - single: coefficient-encoded quadratic feature vectors, one region of L coefficients per
 *   record (quadratic.ts).
 */
import type { QuantizedRecord } from '../model/reference.ts';

export type LayoutName = 'batch' | 'single';
export const LAYOUTS: readonly LayoutName[] = ['batch', 'single'];

/** Client side, batch layout: one slot vector per feature, record r in slot r. */
export function packBatch(records: readonly QuantizedRecord[], featureCount: number, slotCount: number): BigInt64Array[] {
  if (records.length > slotCount) throw new RangeError(`a batch holds at most ${slotCount} records, got ${records.length}`);
  const out: BigInt64Array[] = [];
  for (let i = 0; i < featureCount; i++) {
    const v = new BigInt64Array(slotCount);
    records.forEach((q, r) => {
      v[r] = BigInt(q[i]!);
    });
    out.push(v);
  }
  return out;
}
