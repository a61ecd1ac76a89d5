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
 *
 * Regions: a record occupies R = D·S slots (a power of two), and every rotation the server makes
 * is shorter than R, so slot r·R + k only ever reads slots of [r·R, (r+1)·R) for what ends in
 * slot r·R. Rotations are cyclic within each batching row of n/2 slots, and R divides n/2, so a
 * ciphertext holds n/R independent regions. The server replicates its weight mask and bias with
 * period R; the client may fill every region with a different record (a patient's record and
 * variants of it) and read each region's output at its first slot: same ciphertext, same keys,
 * same circuit.
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

/**
 * Independent regions of R = singleSlotsUsed slots in a ciphertext of `slotCount` slots (both
 * batching rows); region r's output lands in slot r·R. Throws when a record does not fit a row.
 */
export function singleRegions(layout: SingleLayout, slotCount: number): number {
  const R = singleSlotsUsed(layout);
  if (R > slotCount / 2 || (slotCount / 2) % R !== 0) throw new RangeError(`a record needs ${R} slots; a batching row has ${slotCount / 2}`);
  return slotCount / R;
}

/** Client side, single layout: the replicated slot vector of one record (region 0). */
export function packSingle(layout: SingleLayout, q: QuantizedRecord, slotCount: number): BigInt64Array {
  return packSingleRegions(layout, [q], slotCount);
}

/** Client side, single layout: record r replicated into region r; regions left over stay zero. */
export function packSingleRegions(layout: SingleLayout, records: readonly QuantizedRecord[], slotCount: number): BigInt64Array {
  const regions = singleRegions(layout, slotCount);
  if (records.length < 1 || records.length > regions) throw new RangeError(`a single-layout ciphertext holds 1 to ${regions} records, got ${records.length}`);
  const R = singleSlotsUsed(layout);
  const v = new BigInt64Array(slotCount);
  records.forEach((q, r) => {
    for (let i = 0; i < q.length; i++) {
      const x = BigInt(q[i]!);
      const at = r * R + i * layout.unitStride;
      v.fill(x, at, at + layout.unitStride);
    }
  });
  return v;
}

/** Copies the first R slots of `v` into every region, so each region is computed alike. */
function replicateRegions(layout: SingleLayout, v: BigInt64Array): BigInt64Array {
  const R = singleSlotsUsed(layout);
  for (let at = R; at < v.length; at += R) v.copyWithin(at, 0, R);
  return v;
}

/** Server side, single layout: the weight mask α_j·W_ji at slot i·S + slot(j) of every region. */
export function singleWeightMask(model: Pick<ModelBody, 'hidden' | 'output' | 'features'>, layout: SingleLayout, slotCount: number): BigInt64Array {
  singleRegions(layout, slotCount);
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
  return replicateRegions(layout, mask);
}

/** Server side, single layout: β_j at slot(j) of every region, zero elsewhere. */
export function singleBiasVector(model: Pick<ModelBody, 'hidden' | 'output'>, layout: SingleLayout, slotCount: number): BigInt64Array {
  singleRegions(layout, slotCount);
  const { slots } = unitSlots(model);
  const v = new BigInt64Array(slotCount);
  slots.forEach((s, j) => {
    if (s >= 0) v[s] = BigInt(model.hidden.beta[j]!);
  });
  return replicateRegions(layout, v);
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
