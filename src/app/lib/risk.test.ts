import { describe, expect, it } from 'vitest';
import { averageRisk, riskBand } from './risk.ts';

describe('riskBand', () => {
  it('places risks against the model decision line, not fixed percentages', () => {
    // Framingham: 15% had CHD; an 18% risk is above the line, where the model predicts CHD.
    expect(riskBand(0.14, 0.152)).toBe('below');
    expect(riskBand(0.18, 0.152)).toBe('above');
    expect(riskBand(0.6, 0.152)).toBe('well-above');
    // Liver: 71% were patients; a 60% risk is below the line.
    expect(riskBand(0.6, 0.713)).toBe('below');
    expect(riskBand(0.9, 0.713)).toBe('well-above');
  });

  it('takes 50% as the line of a model that does not record its prior', () => {
    expect(averageRisk({})).toBe(0.5);
    expect(averageRisk({ prior: 0.2 })).toBe(0.2);
    expect(riskBand(0.49, averageRisk({}))).toBe('below');
  });
});
