import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelBody } from './format.ts';
import { assertMonotone, freeFeatureSweeps, inputBox, MonotoneError, stepMargin, sweepCounts, verifyMonotone } from './monotone.ts';
import { referenceScore } from './reference.ts';

type Ternary = -1 | 0 | 1;
type Net = Pick<ModelBody, 'features' | 'input' | 'hidden' | 'output'>;

/** A model on d features in [-Q, Q] (bits), identity standardization, every feature declared. */
function net(weights: Ternary[][], alpha: number[], beta: number[], t: Ternary[], options: { bits?: number; scale?: number; direction?: ('increasing' | 'decreasing')[]; linear?: number[] } = {}): Net {
  const d = weights[0]!.length;
  const bits = options.bits ?? 3;
  const Q = 2 ** (bits - 1) - 1;
  return {
    features: Array.from({ length: d }, (_, i) => ({
      name: `f${i}`, label: `F${i}`, unit: '', min: -Q, max: Q, kind: 'number' as const,
      monotone: { direction: options.direction?.[i] ?? 'increasing', reason: 'test', source: 'test' },
    })),
    input: { bits, scale: 1, mean: Array(d).fill(0), std: Array(d).fill(1), impute: Array(d).fill(0) },
    hidden: { weights, alpha, beta },
    output: { weights: t, scale: options.scale ?? 1, bias: 0, ...(options.linear ? { linear: options.linear } : {}) },
  };
}

/** Arbitraries of a random small network's parts (ternary weights, α ≤ 7, |β| ≤ beta) and of points of its box [-q, q]. */
function netParts(o: { inputs: number; units: number; beta: number; q: number; points: [number, number] }) {
  const ternary = fc.constantFrom<Ternary>(-1, 0, 1);
  const units = { minLength: o.units, maxLength: o.units };
  return {
    weights: fc.array(fc.array(ternary, { minLength: o.inputs, maxLength: o.inputs }), units),
    alpha: fc.array(fc.integer({ min: 0, max: 7 }), units),
    beta: fc.array(fc.integer({ min: -o.beta, max: o.beta }), units),
    t: fc.array(ternary, units),
    points: fc.array(fc.array(fc.integer({ min: -o.q, max: o.q }), { minLength: o.inputs, maxLength: o.inputs }), { minLength: o.points[0], maxLength: o.points[1] }),
  };
}

/** Every point of the integer box, for brute force on small models. */
function* boxPoints(lo: number[], hi: number[]): Generator<Int32Array> {
  const q = Int32Array.from(lo);
  for (;;) {
    yield Int32Array.from(q);
    let i = 0;
    while (i < q.length && q[i] === hi[i]) q[i] = lo[i++]!;
    if (i === q.length) return;
    q[i]!++;
  }
}

/** Brute force: the least signed change of y over every unit step of feature k in the box. */
function bruteMargin(m: Net, k: number): number {
  const { lo, hi } = inputBox(m);
  const sign = (m.features[k]!.monotone!.direction === 'increasing' ? 1 : -1) * Math.sign(m.output.scale);
  let least = Infinity;
  for (const q of boxPoints(lo, hi)) {
    if (q[k]! >= hi[k]!) continue;
    const up = Int32Array.from(q);
    up[k]!++;
    least = Math.min(least, sign * (referenceScore(m, up) - referenceScore(m, q)));
  }
  return least;
}

describe('verifyMonotone', () => {
  it('proves a unit that stays on one side of its square, and refutes one that crosses it', () => {
    // y = (x0 + 10)²: u ≥ 7 on the box, so y rises with x0.
    expect(verifyMonotone(net([[1, 0]], [1], [10], [1])).checks[0]).toMatchObject({ feature: 'f0', holds: true });
    // y = x0²: falls from −3 to 0. The witness is the corner where the step lowers y most.
    const report = verifyMonotone(net([[1, 0]], [1], [0], [1]));
    expect(report.holds).toBe(false);
    expect(report.checks[0]).toMatchObject({ feature: 'f0', holds: false, unit: 0, at: [-3, -3], delta: -5 });
    // f1 has no weight anywhere: constant in it, which is monotone.
    expect(report.checks[1]).toMatchObject({ feature: 'f1', holds: true, margin: 0 });
  });

  it('reads the direction and the sign of the decoding', () => {
    const falling = net([[-1, 0]], [2], [20], [1]);
    expect(verifyMonotone(falling).holds).toBe(false);
    expect(verifyMonotone({ ...falling, features: falling.features.map((f) => ({ ...f, monotone: { ...f.monotone!, direction: 'decreasing' as const } })) }).holds).toBe(true);
    // A negative output scale turns a rising y into a falling risk.
    expect(verifyMonotone({ ...falling, output: { ...falling.output, scale: -1 } }).holds).toBe(true);
  });

  it('catches a violation that lives only at a corner of the box, away from any data', () => {
    // y = (x0 + x1 + 5)²: a step of x0 changes y by 2(x0 + x1 + 5) + 1, negative only at x0 = x1 = −3.
    const m = net([[1, 1]], [1], [5], [1]);
    const report = verifyMonotone(m);
    expect(report.checks[0]).toMatchObject({ holds: false, at: [-3, -3], delta: -1 });
    expect(() => assertMonotone({ ...m, id: 'corner' })).toThrow(MonotoneError);
    expect(() => assertMonotone({ ...m, id: 'corner' })).toThrow(/"f0".*q = \[-3, -3\].*hidden unit 1 of 1, row 0 of hidden.weights/);
  });

  it('counts the linear skip term, and names it when it is what breaks the constraint', () => {
    // y = (x0 + 10)² − 40·x0: a step of x0 changes y by 2x0 + 21 − 40 = 2x0 − 19 < 0 on the whole box.
    const m = net([[1, 0]], [1], [10], [1], { linear: [-40, 0] });
    const report = verifyMonotone(m);
    expect(report.checks[0]).toMatchObject({ holds: false, unit: 1, at: [-3, -3], delta: -25 });
    expect(() => assertMonotone({ ...m, id: 'skip' })).toThrow(/linear term -40 on "f0" pulls hardest/);
    // A rising linear term makes a falling square monotone: y = x0² + 10·x0 rises on [−3, 3].
    expect(verifyMonotone(net([[1, 0]], [1], [0], [1], { linear: [10, 0] })).checks[0]).toMatchObject({ holds: true, margin: 5 });
  });

  it('uses the box the card allows: a narrower feature range can make a model monotone', () => {
    const m = net([[1, 0]], [1], [0], [1]);
    const narrow = { ...m, features: m.features.map((f, i) => (i === 0 ? { ...f, min: 0 } : f)) };
    expect(inputBox(narrow).lo[0]).toBe(0);
    expect(verifyMonotone(narrow).checks[0]!.holds).toBe(true);
  });

  it('is exact: its margin equals brute force over every step of random small models', () => {
    const ternary = fc.constantFrom<Ternary>(-1, 0, 1);
    const model = fc.integer({ min: 1, max: 3 }).chain((d) =>
      fc.integer({ min: 1, max: 4 }).chain((H) =>
        fc.record({
          weights: fc.array(fc.array(ternary, { minLength: d, maxLength: d }), { minLength: H, maxLength: H }),
          alpha: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: H, maxLength: H }),
          beta: fc.array(fc.integer({ min: -60, max: 60 }), { minLength: H, maxLength: H }),
          t: fc.array(ternary, { minLength: H, maxLength: H }),
          scale: fc.constantFrom(1, -1),
          direction: fc.array(fc.constantFrom<'increasing' | 'decreasing'>('increasing', 'decreasing'), { minLength: d, maxLength: d }),
          // Half the models carry a linear skip term (model version 2).
          linear: fc.option(fc.array(fc.integer({ min: -200, max: 200 }), { minLength: d, maxLength: d }), { nil: undefined }),
        }),
      ),
    );
    fc.assert(
      fc.property(model, ({ weights, alpha, beta, t, scale, direction, linear }) => {
        const m = net(weights, alpha, beta, t, { scale, direction, ...(linear ? { linear } : {}) });
        const report = verifyMonotone(m);
        for (const check of report.checks) {
          const brute = bruteMargin(m, check.index);
          // Sound: a proof means no step anywhere moves the risk the wrong way…
          if (check.holds) expect(brute).toBeGreaterThanOrEqual(0);
          // …and exact: the margin is the true least change, reached at the reported corner.
          expect(check.margin + 0).toBe(brute + 0);
          const up = Int32Array.from(check.at);
          up[check.index]!++;
          expect(referenceScore(m, up) - referenceScore(m, Int32Array.from(check.at)) + 0).toBe(check.delta + 0);
        }
      }),
      { numRuns: 300, seed: 20240611 },
    );
  });

  it('property: when it says monotone, random single steps at random box points never go the wrong way (4-bit inputs)', () => {
    const case_ = fc.record(netParts({ inputs: 5, units: 6, beta: 300, q: 7, points: [20, 20] }));
    let proved = 0;
    fc.assert(
      fc.property(case_, ({ weights, alpha, beta, t, points }) => {
        const m = net(weights, alpha, beta, t, { bits: 4 });
        for (const check of verifyMonotone(m).checks) {
          if (!check.holds) continue;
          proved++;
          for (const p of points) {
            const q = Int32Array.from(p);
            if (q[check.index]! >= 7) continue;
            const up = Int32Array.from(q);
            up[check.index]!++;
            expect(referenceScore(m, up)).toBeGreaterThanOrEqual(referenceScore(m, q));
          }
        }
      }),
      { numRuns: 500, seed: 7 },
    );
    expect(proved).toBeGreaterThan(100); // the property is not vacuous
  });
});

describe('sweepCounts', () => {
  it('tells a rising, a falling, a U-shaped and a flat sweep apart, through the decoding sign', () => {
    // y = (x0 + 10)² rises in x0; y = x0² falls then rises; x1 has no weight.
    const rising = net([[1, 0]], [1], [10], [1]);
    const records = [Int32Array.from([0, 0]), Int32Array.from([3, -2])];
    expect(sweepCounts(rising, records, 0)).toEqual({ rises: 2, falls: 0, both: 0, flat: 0 });
    expect(sweepCounts({ ...rising, output: { ...rising.output, scale: -1 } }, records, 0)).toEqual({ rises: 0, falls: 2, both: 0, flat: 0 });
    expect(sweepCounts(net([[1, 0]], [1], [0], [1]), records, 0)).toEqual({ rises: 0, falls: 0, both: 2, flat: 0 });
    expect(sweepCounts(rising, records, 1)).toEqual({ rises: 0, falls: 0, both: 0, flat: 2 });
  });

  it('freeFeatureSweeps covers the features with no declared direction, with any direction proved anyway', () => {
    // y = (x0 + 10)² + (−x1 + 10)²: x0 declared; x1 left free, falls everywhere (proved), and x2 has no weight.
    const base = net([[1, 0, 0], [0, -1, 0]], [1, 1], [10, 10], [1, 1]);
    const m = { ...base, features: base.features.map((f, i) => (i === 0 ? f : { ...f, monotone: undefined })) };
    const records = [Int32Array.from([0, 0, 0]), Int32Array.from([2, -3, 1])];
    expect(freeFeatureSweeps(m, records)).toEqual([
      { index: 1, feature: 'f1', label: 'F1', counts: { rises: 0, falls: 2, both: 0, flat: 0 }, proved: 'decreasing' },
      { index: 2, feature: 'f2', label: 'F2', counts: { rises: 0, falls: 0, both: 0, flat: 2 }, proved: 'increasing' },
    ]);
  });

  it('sweeps a yes/no feature from no to yes only, not through the levels between', () => {
    // y = x0², x0 a 0/1 value standardized to -1 and +1: the level 0 between is no one's value.
    const base = net([[1, 0]], [1], [0], [1]);
    const yesNo = { ...base, features: base.features.map((f, i) => (i === 0 ? { ...f, kind: 'binary' as const, min: 0, max: 1 } : f)), input: { ...base.input, mean: [0.5, 0], std: [0.5, 1] } };
    expect(sweepCounts(yesNo, [Int32Array.from([1, 0])], 0)).toEqual({ rises: 0, falls: 0, both: 0, flat: 1 });
    expect(sweepCounts({ ...yesNo, hidden: { ...yesNo.hidden, beta: [1] } }, [Int32Array.from([1, 0])], 0)).toEqual({ rises: 1, falls: 0, both: 0, flat: 0 });
  });

  it('property: agrees with the exact verifier (never a fall where a rise is proved) and with brute force on each record', () => {
    const case_ = fc.record({ ...netParts({ inputs: 3, units: 4, beta: 60, q: 3, points: [1, 8] }), k: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(case_, ({ weights, alpha, beta, t, points, k }) => {
        const m = net(weights, alpha, beta, t);
        const records = points.map((p) => Int32Array.from(p));
        const counts = sweepCounts(m, records, k);
        expect(counts.rises + counts.falls + counts.both + counts.flat).toBe(records.length);
        const box = inputBox(m);
        if (stepMargin(m, box, k, 1).margin >= 0) expect(counts.falls + counts.both).toBe(0);
        if (stepMargin(m, box, k, -1).margin >= 0) expect(counts.rises + counts.both).toBe(0);
        // Brute force for the first record: every step of feature k from the box's low end.
        const q = Int32Array.from(records[0]!);
        const ys = Array.from({ length: box.hi[k]! - box.lo[k]! + 1 }, (_, i) => ((q[k] = box.lo[k]! + i), referenceScore(m, q)));
        const up = ys.some((y, i) => i > 0 && y > ys[i - 1]!);
        const down = ys.some((y, i) => i > 0 && y < ys[i - 1]!);
        expect(sweepCounts(m, records.slice(0, 1), k)[up && down ? 'both' : up ? 'rises' : down ? 'falls' : 'flat']).toBe(1);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
