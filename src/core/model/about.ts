/**
 * What a model's card tells people beside its features, declared in the model's spec: what its
 * risk is a risk of and of whom (`outcome`), the least a record must hold before it predicts
 * (`minimum`), and the people it learned from in checkable terms (`population`). Optional: a
 * model without them gets neutral words and the general rule (src/app/lib/outcomes.ts, minimum.ts).
 */
import { z } from 'zod';

/** Words a patient reads; none is a class name, none reads as a diagnosis. */
export const OutcomeSchema = z.object({
  /** Follows "estimated risk": "of coronary heart disease within ten years". */
  risk: z.string().min(1),
  /** Follows "the model expects about 16": "to develop coronary heart disease within ten years". */
  expects: z.string().min(1),
  /** The people the model learned from: "4,240 adults followed by the Framingham Heart Study". */
  population: z.string().min(1),
});
export type Outcome = z.infer<typeof OutcomeSchema>;

/**
 * The least a record must hold: every named feature, and at least `atLeast` values in all. A blank
 * value is filled with a typical one, so fewer would give the risk of a typical person.
 */
export const MinimumSchema = z.object({
  features: z.array(z.string().min(1)),
  atLeast: z.number().int().min(0),
});
export type Minimum = z.infer<typeof MinimumSchema>;

/**
 * Who the model learned from, as far as a record can be checked against it: a sex when the data
 * held one sex only, and the ages in the data (years, inclusive). `who` says it in words.
 */
export const PopulationSchema = z.object({
  who: z.string().min(1),
  sex: z.enum(['female', 'male']).optional(),
  age: z.object({ min: z.number().finite().optional(), max: z.number().finite().optional() }).optional(),
});
export type Population = z.infer<typeof PopulationSchema>;

export const AboutSchema = z.object({
  outcome: OutcomeSchema.optional(),
  minimum: MinimumSchema.optional(),
  population: PopulationSchema.optional(),
});
export type About = z.infer<typeof AboutSchema>;

/**
 * The declarations found in `source` (a spec, or a model file's `training` block, where the lab
 * writes them), each kept only if it is well formed and names only the model's features.
 */
export function aboutOf(source: Record<string, unknown> | undefined, featureNames: readonly string[]): About {
  if (!source) return {};
  const out: About = {};
  const outcome = OutcomeSchema.safeParse(source.outcome);
  if (outcome.success) out.outcome = outcome.data;
  const minimum = MinimumSchema.safeParse(source.minimum);
  if (minimum.success && minimum.data.features.every((n) => featureNames.includes(n)) && minimum.data.atLeast <= featureNames.length) out.minimum = minimum.data;
  const population = PopulationSchema.safeParse(source.population);
  if (population.success) out.population = population.data;
  return out;
}
