/**
 * The words for a feature's declared direction, wherever the app shows one (the Clinic's
 * what-ifs, the lab's free-feature table), so that a proof reads the same everywhere.
 */
import type { FeatureSpec, Monotone } from '../../core/model/format.ts';

/** What a proved direction guarantees, as the value rises. */
export const PROVED: Record<Monotone['direction'], string> = { increasing: 'never falls', decreasing: 'never rises' };

/**
 * Under a what-if curve: whether a proof holds its direction, and why medicine expects it. A
 * declared direction was proved on the model's integers by the service before it served the
 * model (core/model/monotone.ts; it refuses a model that breaks one), over every combination of
 * values the form allows, not only this person's. A curve without one moves the way the data
 * taught, and a clinician reading it should know which of the two it is.
 */
export function directionNote(f: Pick<FeatureSpec, 'label' | 'monotone'>): string {
  if (!f.monotone) return `No direction is declared for ${f.label}: this curve moves the way the training data taught the model.`;
  return `Proved for this model, for every combination of values: the risk ${PROVED[f.monotone.direction]} as ${f.label} rises. Why: ${f.monotone.reason}`;
}
