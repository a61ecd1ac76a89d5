/**
 * Where a risk stands, in words and colour, against the model's decision line: the share of
 * people with the condition in its training data (`output.prior`; 50% for a model without
 * one). Below it the model predicts the first class; at or above it, the second. Fixed bands
 * (20%, 50%) would call a Framingham risk of 18% "lower" next to "Predicted: CHD".
 */
export type RiskBand = 'below' | 'above' | 'well-above';

/** The decision line of a model's output decoding. */
export function averageRisk(output: { prior?: number }): number {
  return output.prior ?? 0.5;
}

/** Below the line; above it; or past halfway from the line to certainty. */
export function riskBand(risk: number, average: number): RiskBand {
  if (risk < average) return 'below';
  return risk < average + (1 - average) / 2 ? 'above' : 'well-above';
}

export const BAND_COLOUR: Record<RiskBand, string> = { below: '#2f7d4a', above: '#b36b00', 'well-above': '#b3261e' };

export const BAND_WORDS: Record<RiskBand, string> = { below: 'below the average', above: 'above the average', 'well-above': 'well above the average' };
