/**
 * The plaintext integer reference: the exact definition of what the server computes on
 * ciphertexts. Encrypted results must equal these numbers bit for bit.
 */
import type { InputQuantization, ModelBody, OutputDecoding } from './format.ts';

/** Largest quantized input magnitude. (Here, not in format.ts, so the page needs no zod.) */
export function qMax(input: Pick<InputQuantization, 'bits'>): number {
  return 2 ** (input.bits - 1) - 1;
}

/** A record as a person or file gives it: one value per feature, null where missing. */
export type PlainRecord = readonly (number | null)[];
/** A record after standardization and quantization: small signed integers. */
export type QuantizedRecord = Int32Array;

/** Feature i's value x standardized and quantized, clipped to the input range. */
export function quantizeValue(input: InputQuantization, i: number, x: number): number {
  const limit = qMax(input);
  const v = Math.round(((x - input.mean[i]!) / input.std[i]!) * input.scale);
  return Math.max(-limit, Math.min(limit, v));
}

/** Standardizes and quantizes one record; missing values take the training imputation. */
export function quantizeRecord(model: Pick<ModelBody, 'input'>, record: PlainRecord): QuantizedRecord {
  const { mean, impute } = model.input;
  if (record.length !== mean.length) throw new RangeError(`record has ${record.length} values, the model expects ${mean.length}`);
  const q = new Int32Array(record.length);
  for (let i = 0; i < record.length; i++) q[i] = quantizeValue(model.input, i, record[i] ?? impute[i]!);
  return q;
}

/** Hidden pre-activations h = W·q. */
function hiddenSums(model: Pick<ModelBody, 'hidden'>, q: QuantizedRecord): Int32Array {
  const W = model.hidden.weights;
  const h = new Int32Array(W.length);
  for (let j = 0; j < W.length; j++) {
    let s = 0;
    const row = W[j]!;
    for (let i = 0; i < row.length; i++) s += row[i]! * q[i]!;
    h[j] = s;
  }
  return h;
}

/** The integer network output y = Σ_j t_j (α_j h_j + β_j)² + Σ_i l_i q_i. Exact in doubles below 2^53. */
export function referenceScore(model: Pick<ModelBody, 'hidden' | 'output'>, q: QuantizedRecord): number {
  const h = hiddenSums(model, q);
  const { alpha, beta } = model.hidden;
  let y = 0;
  for (let j = 0; j < h.length; j++) {
    const t = model.output.weights[j]!;
    if (t === 0) continue;
    const u = alpha[j]! * h[j]! + beta[j]!;
    y += t * u * u;
  }
  const linear = model.output.linear;
  if (linear) for (let i = 0; i < q.length; i++) y += linear[i]! * q[i]!;
  return y;
}

/** The logistic function: log-odds to a probability. */
export function logistic(logOdds: number): number {
  return 1 / (1 + Math.exp(-logOdds));
}

/** The class-balanced log-odds of the positive class; its sign is the classifier's decision. */
function balancedLogOdds(output: OutputDecoding, y: number): number {
  return output.scale * y + output.bias;
}

/**
 * The class-balanced probability of the positive class: as if half the people had it. Its
 * 0.5 threshold is the classifier's decision, and the metrics (balanced accuracy, AUC) use it.
 */
export function decodeProbability(output: OutputDecoding, y: number): number {
  return logistic(balancedLogOdds(output, y));
}

/**
 * The risk to show a person: the balanced log-odds shifted by the training prior's log-odds
 * (Bayes' rule for a change of class prior). For Framingham (15% with CHD in 10 years) the
 * balanced probability would overstate a typical risk about threefold. Above `prior` exactly
 * when decodeProbability is above 0.5.
 */
export function decodeRisk(output: OutputDecoding, y: number): number {
  const shift = output.prior === undefined ? 0 : Math.log(output.prior / (1 - output.prior));
  return logistic(balancedLogOdds(output, y) + shift);
}

/**
 * One decrypted output as people see it: the integer score, the risk shown to people (decodeRisk:
 * for people like those the model learned from) and the classifier's decision. The class-balanced
 * probability (decodeProbability) is not in it: only the metrics and the decision use that.
 */
export interface DecodedScore {
  score: number;
  risk: number;
  positive: boolean;
}

export function decodeScore(output: OutputDecoding, y: number): DecodedScore {
  // The decision as the metrics make it (confusionMatrix, scoreClassifier): balanced probability ≥ 0.5.
  return { score: y, risk: decodeRisk(output, y), positive: decodeProbability(output, y) >= 0.5 };
}

/** The class a decoded output is put in: `classes[1]` when positive, else `classes[0]`. */
export function classLabel(classes: readonly [string, string], { positive }: Pick<DecodedScore, 'positive'>): string {
  return classes[positive ? 1 : 0];
}

/**
 * The largest |y| any record can produce: inputs range over [-qMax, qMax]. The plain modulus
 * must exceed twice this for decryption to be exact.
 */
export function outputBound(model: Pick<ModelBody, 'hidden' | 'output' | 'input'>): number {
  const Q = qMax(model.input);
  let bound = 0;
  model.hidden.weights.forEach((row, j) => {
    if (model.output.weights[j] === 0) return;
    const l1 = row.reduce<number>((s, w) => s + Math.abs(w), 0);
    const u = model.hidden.alpha[j]! * l1 * Q + Math.abs(model.hidden.beta[j]!);
    bound += u * u;
  });
  for (const l of model.output.linear ?? []) bound += Math.abs(l) * Q;
  return bound;
}
