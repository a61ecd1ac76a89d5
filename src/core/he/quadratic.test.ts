/**
 * The quadratic form against the integer reference, for random small ternary models and random
 * records: C + v·z(x) is the network's output exactly; the packing puts each record in its own
 * region and the weight polynomial's product reads it back at the region's output position.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceScore, qMax } from '../model/reference.ts';
import { featureVector, formScore, noiseBound, outputPositions, packRegions, quadraticForm, regionCount, regionLengthFor, weightL1, weightPolynomial } from './quadratic.ts';

const ternary = fc.constantFrom(-1, 0, 1);

/**
 * A random TernaryNet body (the fields the form reads) and records for it; about half the
 * models carry a linear skip term (output.linear), up to 2^14 in magnitude per feature.
 */
const modelAndRecords = fc
  .record({ d: fc.integer({ min: 1, max: 8 }), h: fc.integer({ min: 1, max: 6 }), bits: fc.integer({ min: 2, max: 5 }) })
  .chain(({ d, h, bits }) =>
    fc.record({
      model: fc.record({
        hidden: fc.record({
          weights: fc.array(fc.array(ternary, { minLength: d, maxLength: d }), { minLength: h, maxLength: h }),
          alpha: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: h, maxLength: h }),
          beta: fc.array(fc.integer({ min: -200, max: 200 }), { minLength: h, maxLength: h }),
        }),
        output: fc.record(
          { weights: fc.array(ternary, { minLength: h, maxLength: h }), linear: fc.array(fc.integer({ min: -(2 ** 14), max: 2 ** 14 }), { minLength: d, maxLength: d }) },
          { requiredKeys: ['weights'] },
        ),
      }),
      records: fc.array(fc.array(fc.integer({ min: -qMax({ bits }), max: qMax({ bits }) }), { minLength: d, maxLength: d }).map((r) => Int32Array.from(r)), { minLength: 1, maxLength: 6 }),
    }),
  );

/** Coefficient p of the product of two polynomials mod X^n + 1 (negacyclic), exactly. */
function productAt(a: readonly bigint[], b: readonly bigint[], n: number, p: number): bigint {
  let s = 0n;
  for (let i = 0; i < n; i++) {
    const j = p - i;
    if (j >= 0) s += a[i]! * (b[j] ?? 0n);
    else s -= a[i]! * (b[j + n] ?? 0n);
  }
  return s;
}

describe('quadratic form', () => {
  it('C + v·z(x) equals the integer reference (random models and records, with and without a linear term)', () => {
    let withLinear = 0;
    fc.assert(
      fc.property(modelAndRecords, ({ model, records }) => {
        const m = model as unknown as Parameters<typeof quadraticForm>[0];
        if (m.output.linear) withLinear++;
        const form = quadraticForm(m);
        for (const q of records) expect(formScore(form, q)).toBe(BigInt(referenceScore(m, q)));
      }),
      { numRuns: 300 },
    );
    // Both kinds were drawn (fast-check leaves an optional key out about half the time).
    expect(withLinear).toBeGreaterThan(30);
    expect(withLinear).toBeLessThan(270);
  });

  it('adds the linear term to v_i alone: the constant and the products are unchanged, and ||v||₁ grows with it', () => {
    const model: Parameters<typeof quadraticForm>[0] = { hidden: { weights: [[1, -1]], alpha: [2], beta: [3] }, output: { weights: [-1], scale: 1, bias: 0, linear: [100, -7] } };
    const form = quadraticForm(model);
    // y = −(2x₀ − 2x₁ + 3)² + 100x₀ − 7x₁ = −9 + 88x₀ + 5x₁ − 4x₀² + 8x₀x₁ − 4x₁²
    expect(form.constant).toBe(-9n);
    expect(form.weights).toEqual([88n, 5n, -4n, 8n, -4n]);
    expect(weightL1(form)).toBe(109n);
    expect(noiseBound(form)).toBe(2345n); // ⌈21.5 · 109⌉ + 1
    expect(formScore(form, Int32Array.of(7, -7))).toBe(BigInt(referenceScore(model, Int32Array.of(7, -7))));
  });

  it('puts record r in region r, and the weight polynomial reads each back at r·L + L − 1 alone', () => {
    fc.assert(
      fc.property(modelAndRecords, ({ model, records }) => {
        const m = model as unknown as Parameters<typeof quadraticForm>[0];
        const form = quadraticForm(m);
        const d = records[0]!.length;
        const L = regionLengthFor(d);
        // The smallest degree that holds these records: the last region ends where the product wraps.
        const n = L * records.length;
        const coeffs = Array.from(packRegions(records, d, n), BigInt);
        const w = weightPolynomial(form);
        outputPositions(L, records.length).forEach((p, r) => expect(productAt(coeffs, w, n, p) + form.constant).toBe(BigInt(referenceScore(m, records[r]!))));
      }),
      { numRuns: 100 },
    );
  });

  it('lays out z(x) as the record, then x_i·x_k for i ≤ k, row-major', () => {
    expect(Array.from(featureVector(Int32Array.of(2, -3, 5)))).toEqual([2, -3, 5, 4, -6, 10, 9, -15, 25]);
    expect(regionLengthFor(8)).toBe(44);
    expect(regionCount(regionLengthFor(14), 4096)).toBe(34);
    expect(outputPositions(44, 3)).toEqual([43, 87, 131]);
  });

  it('bounds the product noise by 21.5·||v||₁ + 1', () => {
    const form = quadraticForm({ hidden: { weights: [[1, -1]], alpha: [2], beta: [3] }, output: { weights: [-1], scale: 1, bias: 0 } });
    // y = −(2x₀ − 2x₁ + 3)² = −9 − 12x₀ + 12x₁ − 4x₀² + 8x₀x₁ − 4x₁²
    expect(form.constant).toBe(-9n);
    expect(form.weights).toEqual([-12n, 12n, -4n, 8n, -4n]);
    expect(weightL1(form)).toBe(40n);
    expect(noiseBound(form)).toBe(861n); // 21.5 · 40 + 1
  });

  it('refuses more records than regions and records of the wrong width', () => {
    expect(() => packRegions([Int32Array.of(1, 2)], 2, 4)).toThrow(/holds 1 to 0 records/);
    expect(() => packRegions(Array.from({ length: 3 }, () => Int32Array.of(1, 2)), 2, 10)).toThrow(/holds 1 to 2 records/);
    expect(() => packRegions([Int32Array.of(1)], 2, 10)).toThrow(/record 0 has 1 values/);
  });
});
