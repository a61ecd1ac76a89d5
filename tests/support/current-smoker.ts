/**
 * The Framingham file's current-smoker column, which the default model leaves out (cigarettes
 * per day carries it, models/specs/framingham-chd.json) but a model trained on the whole file in
 * the lab has: tests of what reads or ties that column put it back into the default's features.
 */
import type { FeatureSpec, TernaryModel } from '../../src/core/model/format.ts';

export const CURRENT_SMOKER: FeatureSpec = { name: 'current_smoker', label: 'Current smoker', unit: '', min: 0, max: 1, loinc: '72166-2', kind: 'binary' };

/** Inserts the item after age, where the file has the column. */
function afterAge<T>(model: Pick<TernaryModel, 'features'>, xs: readonly T[], x: T): T[] {
  const at = model.features.findIndex((f) => f.name === 'age') + 1;
  return [...xs.slice(0, at), x, ...xs.slice(at)];
}

/** The default's features with the current-smoker column after age. */
export function featuresWithCurrentSmoker(model: Pick<TernaryModel, 'features'>): FeatureSpec[] {
  return afterAge(model, model.features, CURRENT_SMOKER);
}

/**
 * The model with the current-smoker column after age, standardized by `standardization`, its
 * hidden weights 0: the same scores, one more input.
 */
export function withCurrentSmoker<M extends Pick<TernaryModel, 'features' | 'input' | 'hidden'>>(model: M, standardization: { mean: number; std: number }): M {
  return {
    ...model,
    features: featuresWithCurrentSmoker(model),
    input: { ...model.input, mean: afterAge(model, model.input.mean, standardization.mean), std: afterAge(model, model.input.std, standardization.std), impute: afterAge(model, model.input.impute, 0) },
    hidden: { ...model.hidden, weights: model.hidden.weights.map((row) => afterAge(model, row, 0)) },
  };
}
