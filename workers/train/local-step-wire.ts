/**
 * A study site's local step as it crosses to the training worker and back: the round's weights
 * and the sampled records flattened into typed arrays (transferred, not copied), and the B × P
 * float32 gradients split back into rows for src/core/federated's rounding. No TensorFlow.js
 * here: the site worker imports this, and only the training worker loads tfjs.
 */
import type { RoundWeights } from '../../src/core/federated/network.ts';
import type { SiteRecords } from '../../src/core/federated/update.ts';

/** A round's weights and the sampled records, as plain arrays (they cross a worker boundary). */
export interface LocalStepRequest extends RoundWeights {
  inputs: number;
  hidden: number;
  /** B × d standardized inputs, row by row. */
  records: Float64Array;
  labels: Uint8Array;
  /** Each record's class weight. */
  recordWeights: Float64Array;
}

export function localStepRequest(weights: RoundWeights, records: SiteRecords, recordWeights: Float64Array): LocalStepRequest {
  const d = weights.pattern.length / weights.bias.length;
  const flat = new Float64Array(records.inputs.length * d);
  records.inputs.forEach((u, k) => flat.set(u, k * d));
  return {
    inputs: d,
    hidden: weights.bias.length,
    pattern: weights.pattern.slice(),
    unitScale: weights.unitScale.slice(),
    bias: weights.bias.slice(),
    outputPattern: weights.outputPattern.slice(),
    outputScale: weights.outputScale,
    outputBias: weights.outputBias,
    records: flat,
    labels: Uint8Array.from(records.labels),
    recordWeights: recordWeights.slice(),
  };
}

/** The buffers a request can hand over without copying. */
export function requestBuffers(r: LocalStepRequest): ArrayBuffer[] {
  return [r.pattern, r.unitScale, r.bias, r.outputPattern, r.records, r.labels, r.recordWeights].map((a) => a.buffer as ArrayBuffer);
}

/** B rows of P gradients from the flat answer. */
export function gradientRows(flat: Float32Array, records: number): Float32Array[] {
  const P = records ? flat.length / records : 0;
  if (!Number.isInteger(P)) throw new RangeError(`${flat.length} gradient values do not split into ${records} records`);
  return Array.from({ length: records }, (_, k) => flat.subarray(k * P, (k + 1) * P));
}
