/** Lean requests (bench/lean.ts): the bench's copy of the single-record circuit, with chosen Galois key steps and result level. */
import type { TernaryModel } from '../../src/core/model/format.ts';
import { singleBiasVector, singleWeightMask } from '../../src/core/he/layout.ts';
import { contextFor } from '../../src/core/he/params.ts';
import type { HePlan } from '../../src/core/he/plan.ts';
import type { Ciphertext, GaloisKeys, RelinKeys, Seal } from '../../src/core/he/seal.ts';
import type { KeySteps } from './designs.ts';

/** Galois key steps: every power of two below R (binary), or powers of 4 / 8 only. */
export function keyStepsFor(kind: KeySteps, R: number): number[] {
  const base = kind === 'binary' ? 2 : kind === 'base4' ? 4 : 8;
  const steps: number[] = [];
  for (let s = 1; s < R; s *= base) steps.push(s);
  return steps;
}

/** A rotation by `step` as repeats of the largest key steps (greedy; all steps are powers of two). */
export function decompose(step: number, keys: readonly number[]): number[] {
  const out: number[] = [];
  let left = step;
  for (const k of [...keys].sort((a, b) => b - a)) {
    while (left >= k) {
      out.push(k);
      left -= k;
    }
  }
  if (left !== 0) throw new Error(`step ${step} cannot be made of ${keys.join(',')}`);
  return out;
}

/**
 * The single-layout circuit of circuit.ts, with rotations made from the given key steps and a
 * probe after each stage. No blinding: adding a plaintext changes no noise.
 */
export function benchCircuit(seal: Seal, plan: HePlan, model: TernaryModel, keySteps: number[], resultPrimes = 1) {
  const context = contextFor(seal, plan.params);
  const ev = new seal.Evaluator(context);
  const encoder = new seal.BatchEncoder(context);
  const layout = plan.circuit.single!;
  const mask = new seal.Plaintext();
  encoder.encode(singleWeightMask(model, layout, encoder.slotCount()), mask);
  const bias = new seal.Plaintext();
  encoder.encode(singleBiasVector(model, layout, encoder.slotCount()), bias);
  let rotations = 0;
  const run = (input: Ciphertext, relin: RelinKeys, galois: GaloisKeys, probe?: (stage: string, ct: Ciphertext) => void): Ciphertext => {
    const x = new seal.Ciphertext();
    const tmp = new seal.Ciphertext();
    rotations = 0;
    const rotate = (src: Ciphertext, step: number) => {
      const parts = decompose(step, keySteps);
      ev.rotateRows(src, parts[0]!, galois, tmp);
      for (const p of parts.slice(1)) ev.rotateRowsInplace(tmp, p, galois);
      rotations += parts.length;
    };
    probe?.('fresh', input);
    ev.multiplyPlain(input, mask, x);
    probe?.('after mask', x);
    for (let k = 0; k < plan.circuit.switchBeforeSquare; k++) ev.cipherModSwitchToNextInplace(x);
    for (let s = 1; s < layout.blocks; s *= 2) {
      rotate(x, layout.unitStride * s);
      ev.addInplace(x, tmp);
    }
    probe?.('after block sums', x);
    ev.addPlainInplace(x, bias);
    ev.squareInplace(x);
    ev.relinearizeInplace(x, relin);
    probe?.('after square', x);
    for (let k = 0; k < plan.circuit.switchAfterSquare; k++) ev.cipherModSwitchToNextInplace(x);
    for (let s = 1; s < layout.groupSize; s *= 2) {
      rotate(x, s);
      ev.addInplace(x, tmp);
    }
    rotate(x, layout.groupSize);
    ev.subInplace(x, tmp);
    while (x.coeffModulusSize() > resultPrimes) ev.cipherModSwitchToNextInplace(x);
    probe?.('result', x);
    tmp.delete();
    return x;
  };
  return {
    run,
    get rotations() {
      return rotations;
    },
    maskCoefficients: mask.nonzeroCoeffCount(),
    dispose() {
      mask.delete();
      bias.delete();
      encoder.delete();
      ev.delete();
    },
  };
}
