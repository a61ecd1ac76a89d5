/**
 * The model a private study ends with: the coordinator's latent parameters θ, ternarized and
 * folded into the integers of a TernaryNet model file (fold.ts, as central training folds
 * its network), with the study's input quantization and prevalence, and a `training` record
 * that says who trained it and under which privacy guarantee. Plain arithmetic, no
 * TensorFlow.js: the server imports it to publish the model.
 */
import type { StudyManifest } from '../core/federated/manifest.ts';
import { ternarize, type NetworkShape } from '../core/federated/network.ts';
import { studyInput } from '../core/federated/update.ts';
import { MODEL_FORMAT, sealModel, versionFor, type ModelBody, type TernaryModel } from '../core/model/format.ts';
import { verifyMonotone } from '../core/model/monotone.ts';
import { chooseAmplification, DEFAULT_LIMITS, foldLayers, type IntegerLayers } from './fold.ts';
import type { TernaryParts } from './fold.ts';
import type { PrivateTraining } from '../core/model/card.ts';

/**
 * The `training.federated` record a study's model file carries: what its card shows
 * (`PrivateTraining`), with the decision threshold the sites' counts chose and the round whose
 * weights were published (best held-out balanced accuracy).
 */
export interface StudyRecord extends PrivateTraining {
  heldOut: (NonNullable<PrivateTraining['heldOut']> & { threshold: number }) | null;
  selectedRound: number;
}

/** The latent parameters' ternary parts, in the shape fold.ts takes. */
export function partsOf(theta: Float64Array, shape: NetworkShape): TernaryParts {
  const w = ternarize(theta, shape);
  const { inputs: d, hidden: H } = shape;
  return {
    pattern: Array.from({ length: H }, (_, j) => Array.from(w.pattern.subarray(j * d, (j + 1) * d))),
    unitScale: Array.from(w.unitScale),
    bias: Array.from(w.bias),
    outputPattern: Array.from(w.outputPattern),
    outputScale: w.outputScale,
    outputBias: w.outputBias,
  };
}

/**
 * A sealed model file from a study's chosen parameters; `threshold` (a logit the sites' held-out
 * counts chose) becomes the decision line by moving the output bias.
 */
export function studyModel(manifest: StudyManifest, theta: Float64Array, threshold: number, record: StudyRecord): TernaryModel {
  const shape = { inputs: manifest.features.length, hidden: manifest.network.hidden };
  const parts = { ...partsOf(theta, shape) };
  parts.outputBias -= threshold;
  const input = studyInput(manifest);
  const A = chooseAmplification(parts, input, DEFAULT_LIMITS);
  const { layers, repairs } = keepMonotone(foldLayers(parts, input.scale, A, DEFAULT_LIMITS), manifest, input);
  const privacy = record.epsilon === null ? 'secure aggregation, without differential privacy' : `(ε = ${record.epsilon.toFixed(2)}, δ = ${record.delta}) differential privacy per patient record`;
  const body: ModelBody = {
    format: MODEL_FORMAT,
    version: versionFor(layers.output),
    id: manifest.id,
    title: manifest.title,
    description: `Trained privately across ${record.sites} sites in ${record.rounds} rounds (${privacy}); no site's records left it.`,
    classes: manifest.classes,
    features: manifest.features,
    input,
    hidden: layers.hidden,
    output: { ...layers.output, ...(manifest.prevalence !== undefined ? { prior: manifest.prevalence } : {}) },
    training: { federated: { ...record, ...(repairs > 0 ? { monotoneRepairs: repairs } : {}) } },
  };
  return sealModel(body);
}

/**
 * Makes the folded layers provably keep the manifest's monotone constraints over the whole
 * input box (core/model/monotone.ts): while one fails, the hidden weight of the unit that pulls
 * hardest against it at the failing corner is set to 0. Each repair removes a nonzero weight,
 * so this ends, at worst with the feature having no effect. The coordinator holds no records, so
 * the decoding is not refitted (central training refits it: src/train/monotone.ts).
 */
function keepMonotone(layers: IntegerLayers, manifest: StudyManifest, input: ModelBody['input']): { layers: IntegerLayers; repairs: number } {
  let current = layers;
  let repairs = 0;
  for (;;) {
    const broken = verifyMonotone({ features: manifest.features, input, ...current }).checks.find((c) => !c.holds);
    if (!broken || broken.unit === undefined) return { layers: current, repairs };
    const j = broken.unit;
    if (current.hidden.weights[j]![broken.index] === 0) throw new Error(`monotone repair made no progress on feature ${broken.feature}`);
    const weights = current.hidden.weights.map((row, r) => (r === j ? row.map((w, i) => (i === broken.index ? 0 : w)) : row.slice()));
    current = { ...current, hidden: { ...current.hidden, weights } };
    repairs++;
  }
}
