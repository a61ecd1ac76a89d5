/**
 * After folding, α and the ternary patterns are frozen integers; what rounding cost is won
 * back by a short fine-tune of the hidden biases and the output decoding on the folded
 * network, then an exact refit of the decoding on the integer outputs the server will produce.
 * A linear skip term is fine-tuned too, and converted with the fine-tuned output scale c: its
 * integer weights are set against the units' y, whose scale c is (fold.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelBody } from '../core/model/format.ts';
import type { QuantizedRecord } from '../core/model/reference.ts';
import { type FoldLimits, type IntegerLayers, type TernaryParts, boundOf, chooseAmplification, foldLayers, refitDecoding } from './fold.ts';
import { type LoopOptions, type Trainable, type TrainingTensors, fitBinary } from './loop.ts';
import { type MonotoneSetup, monotonePenalty } from './monotone.ts';

/**
 * The folded network with α, T, t frozen: z_j = (α_j/A)·h_j + β'_j on integer inputs q,
 * logit = c·Σ_j t_j z_j² + d [+ Σ_i μ_i q_i, μ = λ / inputScale].
 */
interface FoldedTrainable extends Trainable {
  beta: tf.Variable;
  c: tf.Variable;
  d: tf.Variable;
  /** Skip weights per integer input step μ_i, [d, 1] (when the parts have a linear term). */
  linear?: tf.Variable;
  /** Releases variables and the frozen constants. */
  dispose(): void;
}

function foldedNet(layers: IntegerLayers, A: number, parts: TernaryParts, inputScale: number, monotone?: MonotoneSetup): FoldedTrainable {
  const { weights, alpha } = layers.hidden;
  const pattern = tf.tensor2d(weights[0]!.map((_, i) => weights.map((row) => row[i]!)));
  const gain = tf.tensor1d(alpha.map((a) => a / A));
  const output = tf.tensor2d(layers.output.weights.map((t) => [t]));
  const [beta, c, d] = tf.tidy(() => [tf.variable(tf.tensor1d(parts.bias)), tf.variable(tf.scalar(parts.outputScale)), tf.variable(tf.tensor1d([parts.outputBias]))]);
  const linear = parts.linear ? tf.tidy(() => tf.variable(tf.tensor2d(parts.linear!.map((lambda) => [lambda / inputScale])))) : undefined;
  return {
    beta, c, d,
    ...(linear ? { linear } : {}),
    variables: linear ? [beta, c, d, linear] : [beta, c, d],
    logits: (x) => {
      const z = tf.matMul(x, pattern).mul(gain).add(beta);
      const quadratic = tf.square(z).matMul(output).mul(c).add(d);
      return (linear ? quadratic.add(tf.matMul(x, linear)) : quadratic).reshape([-1]) as tf.Tensor1D;
    },
    dispose: () => tf.dispose([beta, c, d, pattern, gain, output, ...(linear ? [linear] : [])]),
    ...(monotone ? { penalty: () => monotonePenalty(monotone, pattern.mul(gain) as tf.Tensor2D, beta, output.reshape([-1]).mul(c), 1, linear) } : {}),
  };
}

/** The parts as fine-tuned: hidden biases, and with a skip term its weights and the c they are set against. */
async function tunedParts(parts: TernaryParts, net: FoldedTrainable, inputScale: number): Promise<{ parts: TernaryParts; beta: number[] }> {
  const beta = Array.from(await net.beta.data());
  if (!net.linear) return { parts, beta };
  const c = (await net.c.data())[0]!;
  const linear = Array.from(await net.linear.data(), (mu) => mu * inputScale);
  return { parts: { ...parts, outputScale: c, linear }, beta };
}

export interface FoldOptions {
  /** Integer inputs of the rows that fit β, and validation rows for early stopping (if any). */
  fit: TrainingTensors;
  validation?: TrainingTensors;
  /** Rows (all training rows) on which the decoding is refitted exactly. */
  refit: { q: readonly QuantizedRecord[]; labels: readonly number[] };
  limits: FoldLimits;
  /** Loop settings for the bias fine-tune (phase 'ternary'). */
  finetune: Omit<LoopOptions, 'phase' | 'validation'>;
  /** Declared monotone constraints: the fine-tune keeps their penalty. */
  monotone?: MonotoneSetup;
}

/**
 * Folds a trained network into integers, fine-tunes β and the decoding with everything else
 * frozen, and refits the decoding exactly. Shrinks A when the fine-tuned β push the bound over.
 */
export async function foldTrained(parts: TernaryParts, input: ModelBody['input'], options: FoldOptions): Promise<{ layers: IntegerLayers; amplification: number; epochs: number; validationLoss: number }> {
  let A = chooseAmplification(parts, input, options.limits);
  for (let attempt = 0; attempt < 20; attempt++) {
    const start = foldLayers(parts, input.scale, A, options.limits);
    const net = foldedNet(start, A, parts, input.scale, options.monotone);
    try {
      const outcome = await fitBinary(net, options.fit, { ...options.finetune, phase: 'ternary', validation: options.validation });
      const tuned = await tunedParts(parts, net, input.scale);
      const layers = foldLayers(tuned.parts, input.scale, A, options.limits, tuned.beta);
      if (boundOf(layers, input) <= options.limits.boundLimit) {
        // validationLoss: the fine-tuned float network's (the integer model's should match it).
        return { layers: refitDecoding(layers, options.refit.q, options.refit.labels), amplification: A, epochs: outcome.epoch, validationLoss: outcome.validationLoss };
      }
    } finally {
      net.dispose();
    }
    A *= 0.95;
  }
  throw new Error('fine-tuned biases keep the output bound above its limit');
}
