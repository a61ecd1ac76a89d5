import { describe, expect, it } from 'vitest';
import { fitLogistic } from './logistic-start.ts';
import { seededRandom } from './random.ts';

describe('fitLogistic', () => {
  it('recovers the weights and bias that generated balanced labels', () => {
    const random = seededRandom(12);
    const x = Array.from({ length: 20000 }, () => [random() * 4 - 2, random() * 4 - 2, random() * 4 - 2]);
    const y = x.map(([a, b, c]) => (random() < 1 / (1 + Math.exp(-(1.2 * a! - 0.7 * b! + 0 * c!))) ? 1 : 0));
    const { weights, bias } = fitLogistic(x, y, 1e-6);
    expect(weights[0]).toBeCloseTo(1.2, 1);
    expect(weights[1]).toBeCloseTo(-0.7, 1);
    expect(weights[2]).toBeCloseTo(0, 1);
    expect(bias).toBeCloseTo(0, 1);
  });
});
