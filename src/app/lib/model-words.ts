/**
 * The three models the lab trains side by side, as every lab picture and table names and
 * colours them: one table, so a model keeps its name and colour from the training bars to the
 * held-out curves to the repeated splits.
 */
export type ModelKind = 'logistic' | 'float' | 'ternary';

export const MODEL_KINDS: readonly ModelKind[] = ['logistic', 'float', 'ternary'];

export const MODEL_LOOK: Record<ModelKind, { name: string; short: string; phase: string; color: string; dashed: boolean }> = {
  logistic: { name: 'Logistic regression', short: 'Logistic', phase: 'Logistic regression', color: '#8a949c', dashed: true },
  float: { name: 'Float MLP', short: 'Float MLP', phase: 'Float MLP', color: '#b36b00', dashed: false },
  ternary: { name: 'TernaryNet (integers)', short: 'TernaryNet', phase: 'TernaryNet', color: '#0b5c55', dashed: false },
};
