/**
 * Packing layouts: where each quantized input sits in the SIMD slots of a ciphertext. Pure
 * arithmetic, no SEAL: the client uses it to place values, the server to place weights.
 *
 * - batch (feature-major): ciphertext i holds feature i of up to n records, one record per slot.
 *   The first layer is additions and subtractions of whole ciphertexts; no rotations.
 * - single (record-major): one ciphertext holds one record, replicated by the client:
 *   slot i·S + k holds q_i for k < S (S = unit stride). The server multiplies by one weight mask,
 *   sums the D feature blocks with log2(D) rotations (unit j lands in slot j), squares once, and
 *   folds the units with log2(P) + 1 rotations: positive-output units sit in slots [0, P),
 *   negative ones in [P, 2P), so slot 0 ends as Σ₊ − Σ₋ without a second mask.
 */
import type { ModelBody } from '../model/format.ts';
import type { QuantizedRecord } from '../model/reference.ts';

export type LayoutName = 'batch' | 'single';
export const LAYOUTS: readonly LayoutName[] = ['batch', 'single'];

export interface SingleLayout {
  /** Feature block count, a power of two ≥ the feature count. */
  blocks: number;
  /** Slots per block: 2P. */
  unitStride: number;
  /** Slots per sign group, a power of two. */
  groupSize: number;
  /** Rotation steps the server uses (Galois keys are made for these only). */
  steps: number[];
}

export function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** Slot of each hidden unit in the single layout, or -1 for units with output weight 0. */
export function unitSlots(model: Pick<ModelBody, 'output'>): { slots: number[]; groupSize: number } {
  const w = model.output.weights;
  const pos = w.filter((t) => t === 1).length;
  const neg = w.filter((t) => t === -1).length;
  const groupSize = nextPow2(Math.max(pos, neg, 1));
  let p = 0;
  let m = 0;
  const slots = w.map((t) => (t === 1 ? p++ : t === -1 ? groupSize + m++ : -1));
  return { slots, groupSize };
}

export function singleLayout(model: Pick<ModelBody, 'features' | 'output'>): SingleLayout {
  const blocks = nextPow2(model.features.length);
  const { groupSize } = unitSlots(model);
  const unitStride = 2 * groupSize;
  const steps: number[] = [];
  for (let s = 1; s < blocks; s *= 2) steps.push(unitStride * s);
  for (let s = 1; s < groupSize; s *= 2) steps.push(s);
  steps.push(groupSize);
  return { blocks, unitStride, groupSize, steps: [...new Set(steps)].sort((a, b) => a - b) };
}

/** Slots a single-layout record occupies; must fit in one batching row (n/2 slots). */
export function singleSlotsUsed(layout: SingleLayout): number {
  return layout.blocks * layout.unitStride;
}

/** Client side, single layout: the replicated slot vector of one record. */
export function packSingle(layout: SingleLayout, q: QuantizedRecord, slotCount: number): BigInt64Array {
  const v = new BigInt64Array(slotCount);
  for (let i = 0; i < q.length; i++) {
    const x = BigInt(q[i]!);
    for (let k = 0; k < layout.unitStride; k++) v[i * layout.unitStride + k] = x;
  }
  return v;
}

/** Server side, single layout: the weight mask α_j·W_ji at slot i·S + slot(j). */
export function singleWeightMask(model: Pick<ModelBody, 'hidden' | 'output' | 'features'>, layout: SingleLayout, slotCount: number): BigInt64Array {
  const { slots } = unitSlots(model);
  const mask = new BigInt64Array(slotCount);
  model.hidden.weights.forEach((row, j) => {
    const s = slots[j]!;
    if (s < 0) return;
    const a = model.hidden.alpha[j]!;
    row.forEach((w, i) => {
      mask[i * layout.unitStride + s] = BigInt(a * w);
    });
  });
  return mask;
}

/** Server side, single layout: β_j at slot(j), zero elsewhere. */
export function singleBiasVector(model: Pick<ModelBody, 'hidden' | 'output'>, slotCount: number): BigInt64Array {
  const { slots } = unitSlots(model);
  const v = new BigInt64Array(slotCount);
  slots.forEach((s, j) => {
    if (s >= 0) v[s] = BigInt(model.hidden.beta[j]!);
  });
  return v;
}

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
