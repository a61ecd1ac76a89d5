import { describe, expect, it } from 'vitest';
import { parseModel, sealModel, ModelFormatError, versionFor } from './format.ts';
import { qMax } from './reference.ts';
import { decodeProbability, decodeRisk, decodeScore, outputBound, quantizeRecord, referenceScore } from './reference.ts';
import { syntheticModel } from '../../../tests/support/synthetic.ts';

describe('model file', () => {
  const model = syntheticModel(6, 4);

  it('round-trips through JSON with a stable hash', () => {
    const again = parseModel(JSON.parse(JSON.stringify(model)));
    expect(again.hash).toBe(model.hash);
    const { hash: _h, ...body } = model;
    expect(sealModel(body).hash).toBe(model.hash);
  });

  it('refuses a changed file, naming the hash', () => {
    const changed = JSON.parse(JSON.stringify(model));
    changed.hidden.beta[0] += 1;
    expect(() => parseModel(changed)).toThrow(/does not match its content/);
  });

  it('refuses other formats, versions and inconsistent shapes with the field named', () => {
    expect(() => parseModel({ ...model, format: 'onnx' })).toThrow(/not a TernaryNet model file/);
    expect(() => parseModel({ ...model, version: 3 })).toThrow(/version 3 is not supported \(this build reads versions 1 and 2\)/);
    const { hash: _, ...body } = model;
    // A linear skip term needs version 2 and one entry per feature.
    expect(() => sealModel({ ...body, version: 1, output: { ...body.output, linear: [1, 2, 3, 4, 5, 6] } })).toThrow(/output\.linear needs model file version 2/);
    expect(() => sealModel({ ...body, version: 2, output: { ...body.output, linear: [1, 2] } })).toThrow(/output\.linear has 2 entries, expected 6/);
    const skip = sealModel({ ...body, version: 2, output: { ...body.output, linear: [1, -2, 3, 0, 5, -6] } });
    expect(parseModel(JSON.parse(JSON.stringify(skip)))).toEqual(skip);
    // Written at the oldest version that holds it.
    expect(versionFor(body.output)).toBe(1);
    expect(versionFor(skip.output)).toBe(2);
    const ragged = JSON.parse(JSON.stringify(model));
    ragged.hidden.weights[1].pop();
    expect(() => parseModel(ragged)).toThrow(ModelFormatError);
    expect(() => parseModel(ragged)).toThrow(/hidden\.weights\[1\] has 5 entries, expected 6/);
    const notTernary = JSON.parse(JSON.stringify(model));
    notTernary.hidden.weights[0][0] = 2;
    expect(() => parseModel(notTernary)).toThrow(/hidden\.weights\.0\.0/);
  });
});

describe('integer reference', () => {
  const model = syntheticModel(5, 3, 21);

  it('quantizes with clamping and imputes missing values', () => {
    const Q = qMax(model.input);
    const q = quantizeRecord(model, [0, 100, -100, null, 0.5]);
    expect(Array.from(q)).toEqual([0, Q, -Q, Math.round(model.input.impute[3]! * model.input.scale), Math.round(0.5 * model.input.scale)]);
  });

  it('never exceeds outputBound on the corners of the input box, with or without a linear term', () => {
    const Q = qMax(model.input);
    const skip = { ...model, version: 2 as const, output: { ...model.output, linear: [900, -700, 0, 350, -1200] } };
    expect(outputBound(skip) - outputBound(model)).toBe(3150 * Q);
    for (const m of [model, skip]) {
      const bound = outputBound(m);
      // Exhaustive over the corners of the input box: each term is largest in magnitude at a corner.
      let max = 0;
      for (let mask = 0; mask < 2 ** 5; mask++) {
        const q = Int32Array.from({ length: 5 }, (_, i) => ((mask >> i) & 1 ? Q : -Q));
        max = Math.max(max, Math.abs(referenceScore(m, q)));
      }
      expect(max).toBeLessThanOrEqual(bound);
      expect(bound).toBeGreaterThan(0);
    }
    // The linear term is added to y: Σ l_i q_i on top of the units.
    const q = Int32Array.from([1, 2, 3, -1, 0]);
    expect(referenceScore(skip, q) - referenceScore(model, q)).toBe(900 - 1400 - 350);
  });

  it('decodes a probability with the logistic function', () => {
    expect(decodeProbability({ scale: 0.5, bias: -1 }, 2)).toBeCloseTo(0.5);
    expect(decodeProbability({ scale: 1, bias: 0 }, 50)).toBeGreaterThan(0.999);
  });

  it('shifts the shown risk to the training prior, keeping the decision where it was', () => {
    const output = { scale: 0.01, bias: -0.3, prior: 0.15 };
    // At the balanced 50% point the risk is the prior itself: Bayes' rule for the class prior.
    expect(decodeRisk(output, 30)).toBeCloseTo(0.15, 12);
    expect(decodeRisk({ scale: 0.01, bias: -0.3 }, 77)).toBe(decodeProbability(output, 77));
    for (let y = -500; y <= 500; y += 7) {
      const { risk, positive } = decodeScore(output, y);
      expect(risk).toBe(decodeRisk(output, y));
      expect(positive).toBe(decodeProbability(output, y) >= 0.5);
      expect(risk >= 0.15).toBe(positive);
      expect(risk).toBeLessThan(decodeProbability(output, y)); // a rare condition reads lower
    }
  });
});
