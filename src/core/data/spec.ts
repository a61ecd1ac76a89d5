/**
 * Dataset specs: which CSV, which columns, what they mean. The default models are trained
 * from `models/specs/<id>.json`; a model builder's own CSV gets one from the training screen.
 */
import { z } from 'zod';
import { MinimumSchema, OutcomeSchema, PopulationSchema } from '../model/about.ts';
import { FeatureSpecSchema, featureListProblem } from '../model/format.ts';
import { firstIssue } from '../schema-issue.ts';

/**
 * Settings of the training procedure that differ from its defaults for one data set, each
 * chosen by a measurement on repeated splits that `why` names (never by the held-out rows).
 */
const SpecTrainingSchema = z
  .object({
    /** Signed bits per quantized input (default 4): 5 doubles the input grid and widens the plain modulus by about 2 bits. */
    inputBits: z.union([z.literal(4), z.literal(5)]).optional(),
    /** TernaryNet runs trained and compared (default 8: each of the four configurations from two initializations; 4: each once, half the training time; 1: the first alone). */
    runs: z.union([z.literal(1), z.literal(4), z.literal(8)]).optional(),
    /** TernaryNet runs summed into the model, the best by validation loss (default 1: the chosen run alone); each adds its hidden units and output bound. */
    ensemble: z.number().int().min(1).max(8).optional(),
    /** Inner 80/20 splits of the training rows (default 1): the runs are spread over them and the model sums each split's best `ensemble` runs. */
    innerSplits: z.number().int().min(1).max(8).optional(),
    /** A full-precision linear skip term beside the ternary units (model file output.linear): no extra operation in the single plan, but it adds Σ|l_i|·q_max to the output bound and Σ|l_i| to the weight polynomial's l1 norm, so a wider flood (a large term can leave the single plan fewer regions). */
    linear: z.boolean().optional(),
    /** Distillation: the weight w of a logistic-regression teacher's probability p in the TernaryNet's training targets (1 − w)·y + w·p (src/train/teacher.ts); costs one logistic fit per inner split, nothing in the model. */
    distill: z.number().min(0).max(1).optional(),
    /** Per-feature input weights s_i = max(floor, (|β_i| / max |β|)^gamma) from a logistic teacher's coefficients, each feature's quantization step shrunk by s_i (src/train/input-weights.ts); costs one logistic fit, nothing in the model's form. */
    inputWeights: z.object({ gamma: z.number().min(0).max(4), floor: z.number().gt(0).max(1) }).strict().optional(),
    /** The measurement that chose these settings. */
    why: z.string().min(1),
  })
  .strict();

export const DatasetSpecSchema = z.object({
  /** Model id the spec trains (lowercase, digits, dashes). */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  title: z.string().min(1),
  description: z.string(),
  /** CSV file name in the shared data folder. */
  data: z.string().min(1),
  /** Name of the 0/1 label column. */
  label: z.string().min(1),
  /** [negative class, positive class]. */
  classes: z.tuple([z.string(), z.string()]),
  /** Columns whose 0 means "not measured" in this data set. */
  missingAsZero: z.array(z.string()).optional(),
  features: z.array(FeatureSpecSchema).min(1),
  /** What the risk is a risk of and of whom, in words; carried into the card. */
  outcome: OutcomeSchema.optional(),
  /** The least a record must hold before the model predicts; carried into the card. */
  minimum: MinimumSchema.optional(),
  /** Who the data came from (sex, ages), checked against a record before predicting. */
  population: PopulationSchema.optional(),
  /** Per-data-set training settings (absent: the procedure's defaults). */
  training: SpecTrainingSchema.optional(),
  /**
   * Why a feature has no declared direction, by feature name ("*": every free feature without an
   * entry of its own). The reports print it beside the sweep of that feature, so that a clinician
   * who sees the risk move against expectation reads why nothing holds it.
   */
  leftFree: z.record(z.string(), z.string().min(1)).optional(),
});
export type DatasetSpec = z.infer<typeof DatasetSpecSchema>;

/**
 * Validates a spec's JSON. A mistake is reported as one line, the first problem's field path
 * and what is wrong (`features.1.monotone.reason: …`), worded as the model-file parser words
 * them (format.ts parseModel): zod's own message is a multi-line JSON dump of every issue.
 */
export function parseDatasetSpec(json: unknown): DatasetSpec {
  const result = DatasetSpecSchema.safeParse(json);
  if (!result.success) {
    throw new Error(`dataset spec field ${firstIssue(result.error, '(root)')}`);
  }
  const spec = result.data;
  const problem = featureListProblem(spec.features);
  if (problem) throw new Error(`dataset spec ${spec.id}: ${problem}`);
  const names = new Set(spec.features.map((f) => f.name));
  for (const column of spec.missingAsZero ?? []) {
    if (!names.has(column)) throw new Error(`dataset spec ${spec.id}: missingAsZero names "${column}", which is not a feature`);
  }
  for (const name of spec.minimum?.features ?? []) {
    if (!names.has(name)) throw new Error(`dataset spec ${spec.id}: minimum names "${name}", which is not a feature`);
  }
  for (const name of Object.keys(spec.leftFree ?? {})) {
    const feature = spec.features.find((f) => f.name === name);
    if (name !== '*' && !feature) throw new Error(`dataset spec ${spec.id}: leftFree names "${name}", which is not a feature`);
    if (feature?.monotone) throw new Error(`dataset spec ${spec.id}: leftFree names "${name}", whose direction is declared`);
  }
  if (spec.minimum && spec.minimum.atLeast > spec.features.length) throw new Error(`dataset spec ${spec.id}: minimum asks for ${spec.minimum.atLeast} values of ${spec.features.length}`);
  return spec;
}
