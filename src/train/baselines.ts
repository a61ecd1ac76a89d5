/**
 * Float baselines the ternary network is measured against: logistic regression and a
 * one-hidden-layer ReLU MLP of the same width. Same data, loss, class weights and optimizer
 * as the ternary network, so the comparison is fair.
 */
import * as tf from '@tensorflow/tfjs';
import type { Trainable } from './loop.ts';

/** Seeded Glorot-uniform variable. */
export function glorotVariable(shape: [number, number], seed: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.initializers.glorotUniform({ seed }).apply(shape) as tf.Tensor));
}

export function zerosVariable(shape: number[]): tf.Variable {
  // tidy: tf.variable shares the initial tensor's data, and that tensor must not outlive it.
  return tf.tidy(() => tf.variable(tf.zeros(shape)));
}

/** Small L2 penalty on the given weights (not the biases). */
function l2(weights: tf.Variable[], strength: number): () => tf.Scalar {
  return () => tf.addN(weights.map((w) => tf.sum(tf.square(w)))).mul(strength) as tf.Scalar;
}

/** Logistic regression: logit = x·w + b. */
export function logisticRegression(inputs: number, seed: number, l2Strength = 1e-4): Trainable {
  const w = glorotVariable([inputs, 1], seed);
  const b = zerosVariable([1]);
  return {
    variables: [w, b],
    logits: (x) => tf.matMul(x, w).add(b).reshape([-1]) as tf.Tensor1D,
    penalty: l2([w], l2Strength),
  };
}

/** One hidden ReLU layer of `hidden` units, then a linear output. */
export function floatMlp(inputs: number, hidden: number, seed: number, l2Strength = 1e-4): Trainable {
  const w1 = glorotVariable([inputs, hidden], seed);
  const b1 = zerosVariable([hidden]);
  const w2 = glorotVariable([hidden, 1], seed + 1);
  const b2 = zerosVariable([1]);
  return {
    variables: [w1, b1, w2, b2],
    logits: (x) => tf.relu(tf.matMul(x, w1).add(b1)).matMul(w2).add(b2).reshape([-1]) as tf.Tensor1D,
    penalty: l2([w1, w2], l2Strength),
  };
}

export function disposeTrainable(model: Trainable): void {
  tf.dispose(model.variables);
}
