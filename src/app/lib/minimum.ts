/**
 * The least a record must hold before a model may predict from it: a blank value is filled with
 * a typical one, so an empty form would otherwise give a confident-looking risk of nobody.
 *
 * The cards declare no minimum yet (it belongs in each model's spec). Until they do, the rule
 * is: every feature with a monotone constraint (the ones the model's spec names as risk factors
 * whose direction is known, e.g. age, blood pressure, cholesterol, glucose), and at least half
 * of all the features, rounded up. For Framingham that is 7 named values and 7 of 14 in all;
 * for Pima diabetes glucose, BMI and age and 4 of 8; for a model with no monotone constraints
 * (breast cancer, liver) half its values.
 */
import type { FeatureSpec } from '../../core/model/format.ts';

export interface Shortfall {
  /** Features the model needs that are blank. */
  missing: FeatureSpec[];
  /** Values given, and how many the model needs at least. */
  present: number;
  atLeast: number;
}

/** The features a model always needs. */
export function neededFeatures(features: readonly FeatureSpec[]): FeatureSpec[] {
  return features.filter((f) => f.monotone !== undefined);
}

/** How far a record falls short of the model's minimum; undefined when it meets it. */
export function shortfallOf(features: readonly FeatureSpec[], record: readonly (number | null)[]): Shortfall | undefined {
  const given = (f: FeatureSpec) => record[features.indexOf(f)] !== null && record[features.indexOf(f)] !== undefined;
  const missing = neededFeatures(features).filter((f) => !given(f));
  const present = features.filter(given).length;
  const atLeast = Math.ceil(features.length / 2);
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
export function columnShortfallOf(features: readonly FeatureSpec[], missingColumns: readonly string[]): Shortfall | undefined {
  return shortfallOf(features, features.map((f) => (missingColumns.includes(f.name) ? null : 0)));
}

/** Why a file is refused, in words for the Clinic. */
export function columnShortfallText(file: string, s: Shortfall, total: number): string {
  const parts: string[] = [];
  if (s.missing.length) parts.push(`it has no ${s.missing.map((f) => f.name).join(', ')} column${s.missing.length === 1 ? '' : 's'}, which the model does not predict without`);
  if (s.present < s.atLeast) parts.push(`it has ${s.present} of the ${total} columns the model reads, and the model needs at least ${s.atLeast}`);
  return `${file} cannot be used with this model: ${parts.join('; ')}. Filling the missing columns with typical values for every row would give the risks of typical people, not of these patients. Check that the right model is chosen.`;
}
