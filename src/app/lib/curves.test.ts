import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../core/metrics.ts';
import { rocPoints } from './curves.ts';

/** Area under the points by trapezoids. */
const area = (pts: [number, number][]) => pts.slice(1).reduce((a, p, i) => a + (p[0] - pts[i]![0]) * (p[1] + pts[i]![1]) / 2, 0);

describe('rocPoints', () => {
  it('runs from (0,0) to (1,1) and its area is the AUC, ties included', () => {
    const labels = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0];
    const risks = [0.9, 0.8, 0.8, 0.7, 0.6, 0.4, 0.4, 0.3, 0.2, 0.1];
    const pts = rocPoints(labels, risks);
    expect(pts[0]).toEqual([0, 0]);
    expect(pts.at(-1)).toEqual([1, 1]);
    expect(pts).toHaveLength(9); // 8 distinct risks, plus the origin
    expect(area(pts)).toBeCloseTo(rocAuc(labels, risks), 12);
  });

  it('is empty when one class is missing', () => {
    expect(rocPoints([1, 1], [0.2, 0.3])).toEqual([]);
  });
});
