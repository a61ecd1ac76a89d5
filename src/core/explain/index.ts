/** Private explanations and what-ifs: variants of a record packed beside it, read on the device. */
export { planVariants, sweepVariant, averageVariant, modifiableFeatures, MODIFIABLE, MAX_SWEEPS, type VariantPlan, type AverageVariant, type Sweep, type SweepPoint, type ExplainableModel } from './variants.ts';
export { readExplanation, type Explanation, type Contribution, type WhatIf, type WhatIfPoint } from './read.ts';
