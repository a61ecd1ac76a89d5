/**
 * The least a record must hold before a model may predict from it: a blank value is filled with
 * a typical one, so an empty form would otherwise give a confident-looking risk of nobody.
 *
 * A card declares its model's minimum (`minimum` in its spec: the features it needs and how
 * many values in all). A card without one gets the general rule: every feature with a monotone
 * constraint (the risk factors whose direction is known, e.g. age, blood pressure, cholesterol,
 * glucose), and at least half of all the features, rounded up. For Framingham that is 7 named
 * values and 7 of 14 in all; for Pima diabetes glucose, BMI and age and 4 of 8; for a model
 * with no monotone constraints (breast cancer, liver) half its values.
 */
import type { ModelCard } from '../../core/model/card.ts';
import type { FeatureSpec } from '../../core/model/format.ts';

/** A card, or only its features (the general rule then applies). */
export type MinimumSource = readonly FeatureSpec[] | Pick<ModelCard, 'features' | 'minimum'>;

type CardMinimum = Pick<ModelCard, 'features' | 'minimum'>;
const featuresOf = (source: MinimumSource): readonly FeatureSpec[] => (Array.isArray(source) ? (source as readonly FeatureSpec[]) : (source as CardMinimum).features);
const declaredOf = (source: MinimumSource) => (Array.isArray(source) ? undefined : (source as CardMinimum).minimum);

/** How many values a model needs at least. */
export function atLeastOf(source: MinimumSource): number {
  return declaredOf(source)?.atLeast ?? Math.ceil(featuresOf(source).length / 2);
}

export interface Shortfall {
  /** Features the model needs that are blank. */
  missing: FeatureSpec[];
  /** Values given, and how many the model needs at least. */
  present: number;
  atLeast: number;
}

/** The features a model always needs. */
export function neededFeatures(source: MinimumSource): FeatureSpec[] {
  const features = featuresOf(source);
  const declared = declaredOf(source);
  return declared ? features.filter((f) => declared.features.includes(f.name)) : features.filter((f) => f.monotone !== undefined);
}

/** How far a record falls short of the model's minimum; undefined when it meets it. */
export function shortfallOf(source: MinimumSource, record: readonly (number | null)[]): Shortfall | undefined {
  const features = featuresOf(source);
  const given = (f: FeatureSpec) => record[features.indexOf(f)] !== null && record[features.indexOf(f)] !== undefined;
  const missing = neededFeatures(source).filter((f) => !given(f));
  const present = features.filter(given).length;
  const atLeast = atLeastOf(source);
  return missing.length === 0 && present >= atLeast ? undefined : { missing, present, atLeast };
}

/** The shortfall in words, for the form. */
export function shortfallText(s: Shortfall, total: number): string {
  const parts: string[] = [];
  if (s.missing.length) parts.push(`Fill in ${s.missing.map((f) => f.label).join(', ')}: this model does not predict without ${s.missing.length === 1 ? 'it' : 'them'}.`);
  if (s.present < s.atLeast) parts.push(`It needs at least ${s.atLeast} of its ${total} values; ${s.present === 0 ? 'none is' : s.present === 1 ? '1 is' : `${s.present} are`} filled in.`);
  return `Not enough values for a prediction. ${parts.join(' ')} A blank value is replaced by a typical one, so a record with too few values would give the risk of a typical person, not yours.`;
}

/**
 * A CSV file checked by the same rule over its columns: a column the file lacks is blank in
 * every row. Undefined when the file has the columns the model needs.
 */
export function columnShortfallOf(source: MinimumSource, missingColumns: readonly string[]): Shortfall | undefined {
  const features = featuresOf(source);
  return shortfallOf(source, features.map((f) => (missingColumns.includes(f.name) ? null : 0)));
}

/** Why a file is refused, in words for the Clinic. */
export function columnShortfallText(file: string, s: Shortfall, total: number): string {
  const parts: string[] = [];
  if (s.missing.length) parts.push(`it has no ${s.missing.map((f) => f.name).join(', ')} column${s.missing.length === 1 ? '' : 's'}, which the model does not predict without`);
  if (s.present < s.atLeast) parts.push(`it has ${s.present} of the ${total} columns the model reads, and the model needs at least ${s.atLeast}`);
  return `${file} cannot be used with this model: ${parts.join('; ')}. Filling the missing columns with typical values for every row would give the risks of typical people, not of these patients. Check that the right model is chosen.`;
}
