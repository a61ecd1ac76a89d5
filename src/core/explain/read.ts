/**
 * From the decrypted output of every region (variants.ts) to what a person reads: the risk,
 * what each entered value contributed to it, and how it would move with each modifiable
 * feature. Risks use the model's own decoding (model/reference.ts decodeRisk), the same as the
 * single prediction, so region 0 here is exactly the risk shown above the explanation.
 */
import type { OutputDecoding } from '../model/format.ts';
import { decodeRisk } from '../model/reference.ts';
import type { VariantPlan } from './variants.ts';

export interface Contribution {
  feature: number;
  /** The person's value. */
  value: number;
  /** The population average it is compared with. */
  average: number;
  /** Risk with this one value at the average, everything else as entered. */
  riskAtAverage: number;
  /** risk − riskAtAverage: positive when the person's value raised the risk. */
  change: number;
}

export interface WhatIfPoint {
  value: number;
  risk: number;
}

export interface WhatIf {
  feature: number;
  /** The person's value, or null when it was not entered (the model used a typical value). */
  current: number | null;
  points: WhatIfPoint[];
}

export interface Explanation {
  /** Integer network output and risk of the record itself (region 0). */
  score: number;
  risk: number;
  /** Largest |change| first. */
  contributions: Contribution[];
  whatIfs: WhatIf[];
  /** Entered features the request had no room to explain (VariantPlan.unexplained). */
  unexplained: number[];
}

/** Reads region outputs (`scores[r]` for region r) against the plan that placed the variants. */
export function readExplanation(plan: VariantPlan, output: OutputDecoding, scores: readonly number[]): Explanation {
  if (scores.length < plan.records.length) throw new RangeError(`the plan has ${plan.records.length} regions, ${scores.length} outputs were given`);
  const riskOf = (region: number) => decodeRisk(output, scores[region]!);
  const risk = riskOf(0);
  const own = plan.plain[0]!;
  const contributions = plan.averages
    .map(({ feature, value, region }) => ({ feature, value: own[feature]!, average: value, riskAtAverage: riskOf(region), change: risk - riskOf(region) }))
    .sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || a.feature - b.feature);
  const whatIfs = plan.sweeps.map(({ feature, points }) => ({
    feature,
    current: own[feature] ?? null,
    points: points.map(({ value, region }) => ({ value, risk: riskOf(region) })),
  }));
  return { score: scores[0]!, risk, contributions, whatIfs, unexplained: plan.unexplained };
}
