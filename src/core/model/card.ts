/**
 * The public model card: everything a client needs to use a model privately — features with
 * units, ranges and LOINC codes, the input quantization, how to turn the decrypted integer
 * into the risk shown and the decision (reference.ts), and the HE plan of each layout — and no weights.
 */
import type { HePlan } from '../he/plan.ts';
import type { LayoutName } from '../he/layout.ts';
import { aboutOf, type Minimum, type Outcome, type Population } from './about.ts';
import { provenanceOf } from './provenance.ts';
import type { FeatureSpec, InputQuantization, OutputDecoding, TernaryModel } from './format.ts';

export const CARD_FORMAT = 'cipherclinic/model-card';
export const CARD_VERSION = 1;

export interface ModelCard {
  format: typeof CARD_FORMAT;
  version: typeof CARD_VERSION;
  id: string;
  title: string;
  description: string;
  /** Hash of the model file the server runs. */
  modelHash: string;
  classes: [string, string];
  features: FeatureSpec[];
  input: InputQuantization;
  output: OutputDecoding;
  /** Columns whose 0 means "not measured" in the training data (informative). */
  missingAsZero: string[];
  /** Held-out metrics from training, when known. */
  metrics?: Record<string, unknown>;
  /**
   * For a model trained in a private training study (docs/federated.md): how many sites and
   * rounds, the (ε, δ) spent per patient record (null without differential privacy), and the
   * held-out metrics the sites' summed counts gave.
   */
  trainedPrivately?: PrivateTraining;
  /** What its risk is a risk of, and of whom, in words (from its spec); absent: neutral words. */
  outcome?: Outcome;
  /** The least a record must hold before it predicts (from its spec); absent: the general rule. */
  minimum?: Minimum;
  /** Who it learned from, checkable against a record (sex, ages); absent: not declared. */
  population?: Population;
  plans: Partial<Record<LayoutName, HePlan>>;
}

/** How a model was trained privately, as its card tells people. */
export interface PrivateTraining {
  study: string;
  studyHash: string;
  sites: number;
  rounds: number;
  /** Per patient record, at the manifest's δ; null for a study without differential privacy. */
  epsilon: number | null;
  delta: number | null;
  /** Held-out metrics aggregated securely from the sites' own confusion counts. */
  heldOut: { records: number; accuracy: number; balancedAccuracy: number; auc: number } | null;
}

/** The study record a model file carries, as the card shows it; undefined for other models. */
function privateTrainingOf(training: Record<string, unknown>): PrivateTraining | undefined {
  const f = training.federated as Partial<PrivateTraining> | undefined;
  if (!f || typeof f.sites !== 'number' || typeof f.rounds !== 'number' || typeof f.study !== 'string') return undefined;
  const h = f.heldOut;
  return {
    study: f.study,
    studyHash: String(f.studyHash ?? ''),
    sites: f.sites,
    rounds: f.rounds,
    epsilon: typeof f.epsilon === 'number' ? f.epsilon : null,
    delta: typeof f.delta === 'number' ? f.delta : null,
    heldOut: h ? { records: h.records, accuracy: h.accuracy, balancedAccuracy: h.balancedAccuracy, auc: h.auc } : null,
  };
}

/**
 * The card for a model and its compiled plans. `spec` is the model's dataset spec when the
 * server has it (models/specs/<id>.json beside a default model): its outcome, minimum and
 * population declarations win over those a model file's `training` block carries (the lab's).
 */
export function makeModelCard(model: TernaryModel, plans: Partial<Record<LayoutName, HePlan>>, spec?: Record<string, unknown>): ModelCard {
  for (const plan of Object.values(plans)) {
    if (plan.modelHash !== model.hash) throw new Error(`plan ${plan.hash.slice(0, 12)}… belongs to another model`);
  }
  const training = model.training ?? {};
  const names = model.features.map((f) => f.name);
  const about = { ...aboutOf(training, names), ...aboutOf(spec?.id === model.id ? spec : undefined, names) };
  return {
    format: CARD_FORMAT,
    version: CARD_VERSION,
    id: model.id,
    title: model.title,
    description: model.description,
    modelHash: model.hash,
    classes: model.classes,
    features: model.features,
    input: model.input,
    output: { scale: model.output.scale, bias: model.output.bias, ...(model.output.prior === undefined ? {} : { prior: model.output.prior }) },
    missingAsZero: provenanceOf(model).missingAsZero,
    metrics: (training.metrics as Record<string, unknown> | undefined) ?? undefined,
    ...(privateTrainingOf(training) ? { trainedPrivately: privateTrainingOf(training) } : {}),
    ...about,
    plans,
  };
}
