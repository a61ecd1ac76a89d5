/** The lab's held-out numbers: the float confusion matrix read back from its two scores. */
import { describe, expect, it } from 'vitest';
import { confusionMatrix, scoreClassifier } from '../../src/core/metrics.ts';
import { confusionFromScores } from './heldout.ts';

describe('confusionFromScores', () => {
  it('gives back the matrix that produced accuracy and balanced accuracy', () => {
    let s = 7;
    const random = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 200; trial++) {
      const n = 20 + Math.floor(random() * 900);
      const labels = Array.from({ length: n }, () => (random() < 0.2 + 0.5 * random() ? 1 : 0));
      const probabilities = labels.map(() => random());
      const positives = labels.filter((l) => l === 1).length;
      const negatives = n - positives;
      const found = confusionFromScores(scoreClassifier(labels, probabilities), positives, negatives);
      if (positives === negatives || positives === 0 || negatives === 0) expect(found).toBeUndefined();
      else expect(found).toEqual(confusionMatrix(labels, probabilities));
    }
  });

  it('says nothing when the scores cannot determine it', () => {
    expect(confusionFromScores({ accuracy: 0.5, balancedAccuracy: 0.5, auc: 0.5 }, 10, 10)).toBeUndefined();
    expect(confusionFromScores({ accuracy: 0.9, balancedAccuracy: 0.9, auc: NaN }, 0, 10)).toBeUndefined();
    // Scores no integer matrix gives.
    expect(confusionFromScores({ accuracy: 0.123456, balancedAccuracy: 0.987654, auc: 0.5 }, 13, 29)).toBeUndefined();
  });
});
