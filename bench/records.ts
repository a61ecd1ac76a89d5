/** Uniformly random quantized records for a model (unseeded: benchmarks need no fixed rows). */
import type { TernaryModel } from '../src/core/model/format.ts';
import { qMax } from '../src/core/model/reference.ts';
import type { QuantizedRecord } from '../src/core/model/reference.ts';

export function randomRecords(model: TernaryModel, n: number): QuantizedRecord[] {
  const Q = qMax(model.input);
  return Array.from({ length: n }, () => Int32Array.from(model.features, () => Math.floor(Math.random() * (2 * Q + 1)) - Q));
}
