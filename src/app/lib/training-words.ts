/**
 * How the lab's training chooses its models, in words that must match src/train (index.ts,
 * qat.ts). The page cannot import those counts (they sit beside TensorFlow.js), so they are
 * written here and checked against src/train by training-words.test.ts.
 */
import type { TernarySearch } from '../../train/search.ts';

export type { TernarySearch };

/** Ternary settings (hidden-layer sparsity, float warm-up or not) of a full search. */
export const TERNARY_SETTINGS = 4;
/** Starting points (restarts) each setting is run from. */
export const TERNARY_RESTARTS = 2;
/** TernaryNet runs compared in a full search (src/train/qat.ts TERNARY_CANDIDATES). */
export const TERNARY_RUNS = TERNARY_SETTINGS * TERNARY_RESTARTS;

/** What the training curves are and how each model is chosen, for the lab's training panel. */
export function selectionWords(search: TernarySearch, ensemble = 1): string {
  const kept =
    ensemble > 1
      ? `the ${ensemble} runs whose integer models have the least loss on the validation rows are summed into one network (a sum of TernaryNets is one TernaryNet) and kept as they are, not trained again; only the way its output is read as a risk is refitted on all training rows.`
      : `the run whose integer model has the least loss on the validation rows is kept as it is, not trained again; only the way its output is read as a risk is refitted on all training rows.`;
  const ternary =
    search === 'full'
      ? `The TernaryNet is trained ${TERNARY_RUNS} times (${TERNARY_SETTINGS} settings, each from ${TERNARY_RESTARTS} starting points; each run's curve starts again) on the same rows, and ${kept}`
      : search === 'once'
        ? `The TernaryNet is trained ${TERNARY_SETTINGS} times (${TERNARY_SETTINGS} settings, each from one starting point; each run's curve starts again) on the same rows, and ${kept}`
        : 'The TernaryNet is trained once, with the first setting, and kept as it is; only the way its output is read as a risk is refitted on all training rows.';
  return `The float models first compare a few settings on validation rows (the curve restarts for each), then retrain the best on all training rows. ${ternary} The held-out rows are used only for the results below.`;
}
