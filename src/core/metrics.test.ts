import { describe, expect, it } from 'vitest';
import { accuracy, balancedAccuracy, balancedLogLoss, confusionMatrix, rocAuc, scoreClassifier } from './metrics.ts';

describe('metrics', () => {
  // Worked by hand: predicted positive (p ≥ 0.5) for rows 0, 2, 4, 5.
  const labels = [1, 1, 0, 0, 1, 0];
  const probabilities = [0.9, 0.4, 0.6, 0.1, 0.8, 0.5];

  it('counts the confusion matrix, a probability equal to the threshold counting as positive', () => {
    expect(confusionMatrix(labels, probabilities)).toEqual({ tp: 2, fn: 1, fp: 2, tn: 1 });
    expect(confusionMatrix(labels, probabilities, 0.55)).toEqual({ tp: 2, fn: 1, fp: 1, tn: 2 });
  });

  it('computes accuracy and balanced accuracy', () => {
    expect(accuracy(labels, probabilities)).toBe(0.5);
    expect(balancedAccuracy(labels, probabilities)).toBeCloseTo((2 / 3 + 1 / 3) / 2, 12);
    expect(accuracy(labels, probabilities, 0.55)).toBeCloseTo(4 / 6, 12);
    // Imbalanced: always predicting negative is 80 % accurate but 50 % balanced.
    expect(accuracy([0, 0, 0, 0, 1], [0, 0, 0, 0, 0])).toBe(0.8);
    expect(balancedAccuracy([0, 0, 0, 0, 1], [0, 0, 0, 0, 0])).toBe(0.5);
  });

  it('computes ROC AUC as the fraction of correctly ordered positive/negative pairs', () => {
    expect(rocAuc(labels, probabilities)).toBeCloseTo(7 / 9, 12);
    expect(rocAuc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])).toBe(1);
    expect(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])).toBe(0);
  });

  it('counts a tie between a positive and a negative as one half', () => {
    expect(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.7, 0.2])).toBeCloseTo(3.5 / 4, 12);
    expect(rocAuc([1, 0, 1, 0], [0.3, 0.3, 0.3, 0.3])).toBe(0.5);
  });

  it('returns NaN for an AUC with one class and averages the classes present', () => {
    expect(rocAuc([1, 1], [0.2, 0.9])).toBeNaN();
    expect(balancedAccuracy([1, 1], [0.2, 0.9])).toBe(0.5);
  });

  it('weighs both classes equally in the log-loss', () => {
    expect(balancedLogLoss([1, 0], [0.8, 0.4])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
    expect(balancedLogLoss([1, 0, 0, 0], [0.8, 0.4, 0.4, 0.4])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
  });

  it('scores all three at once and checks lengths', () => {
    expect(scoreClassifier(labels, probabilities)).toEqual({ accuracy: 0.5, balancedAccuracy: 0.5, auc: rocAuc(labels, probabilities) });
    expect(() => accuracy([1], [0.5, 0.5])).toThrow(RangeError);
  });
});
