/** Predictions of a folded model through the plaintext integer reference. */
import type { ModelBody } from '../core/model/format.ts';
import { type PlainRecord, decodeProbability, quantizeRecord, referenceScore } from '../core/model/reference.ts';

/** Probabilities exactly as the encrypted path yields them: quantize → integer score → decode. */
export function predictReference(model: Pick<ModelBody, 'input' | 'hidden' | 'output'>, records: readonly PlainRecord[]): number[] {
  return records.map((record) => decodeProbability(model.output, referenceScore(model, quantizeRecord(model, record))));
}
