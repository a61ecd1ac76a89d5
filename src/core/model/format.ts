/**
 * The TernaryNet model file: the one artifact that training writes, the server runs and the
 * client learns about (through its card). Versioned and content-hashed: the hash covers every
 * field but itself, so a client and a server agree on a model by comparing one string.
 *
 * The network (DESIGN §4):
 *   q_i = clamp(round((x_i - mean_i) / std_i · scale), -qMax, qMax)        client, plaintext
 *   h_j = Σ_i W_ji · q_i             W ternary                               server, encrypted
 *   a_j = (α_j · h_j + β_j)²         α_j ≥ 0, β_j integers                   server, encrypted
 *   y   = Σ_j t_j · a_j + Σ_i l_i q_i   t ternary, l integers (optional)     server, encrypted
 *   p   = sigmoid(outputScale · y + outputBias)                             client, plaintext
 */
import { z } from 'zod';
import { hashJson } from '../hash.ts';
import { depthWithin } from '../protocol/bounds.ts';
import { firstIssue } from '../schema-issue.ts';

export const MODEL_FORMAT = 'cipherclinic/ternarynet';
/**
 * 2 added the optional linear skip term (`output.linear`); version 1 files (no skip term) are
 * still read. A build that predates version 2 refuses a version 2 file by name instead of
 * dropping a term it does not know.
 */
export const MODEL_VERSION = 2;
export const MODEL_VERSIONS_READ = [1, 2] as const;

/**
 * The version a model file is written at: the oldest that holds it (1 without a linear term), so
 * a model that needs no version 2 field keeps the hash and the readers it always had.
 */
export function versionFor(output: Pick<ModelBody['output'], 'linear'>): 1 | 2 {
  return output.linear === undefined ? 1 : MODEL_VERSION;
}

/**
 * What a model file may declare. A publisher holds the admin token, but a mistaken or hostile
 * file must still not take a worker for minutes: the plan compiler's cost grows with features ×
 * hidden units, and a file name grows with the id. Today's models use at most 30 features and
 * 16 units; the bounds leave room to grow while keeping a compile within seconds.
 */
export const MODEL_LIMITS = {
  idLength: 64,
  features: 128,
  hiddenUnits: 128,
  /** Nesting of the whole file, `training` included (canonical hashing recurses on it). */
  depth: 16,
} as const;

const finite = z.number().finite();
const integer = z.number().int();
const ternary = z.union([z.literal(-1), z.literal(0), z.literal(1)]);

/**
 * A declared shape constraint: the risk must not decrease ('increasing') or not increase
 * ('decreasing') as the feature grows, every other input held fixed, anywhere in the input box
 * the features' ranges allow. Proved exactly for a model file by `verifyMonotone` (monotone.ts).
 */
/** A non-empty text whose absence or emptiness is refused in the same words. */
const required = (error: string) => z.string({ error }).min(1, { error });

export const MonotoneSchema = z.object({
  direction: z.enum(['increasing', 'decreasing'], { error: 'a direction is "increasing" (the risk never falls as the value rises) or "decreasing" (never rises)' }),
  /** Why medicine expects it, in a sentence a clinician would accept. */
  reason: required('a direction needs a reason: why medicine expects it, in a sentence'),
  /** Where that is established (guideline, cohort study). */
  source: required('a direction needs a source: the guideline or study that establishes it'),
});
export type Monotone = z.infer<typeof MonotoneSchema>;

/** One input the model expects, with what a person needs to enter it. */
export const FeatureSpecSchema = z.object({
  /** Column name in CSV files and key in records. */
  name: z.string().min(1),
  /** What a person reads next to the input. */
  label: z.string().min(1),
  /** Unit the values are in (UCUM-like text, '' for counts and flags). */
  unit: z.string(),
  /** Plausible range: values outside it are refused as likely typos. */
  min: finite,
  max: finite,
  /** LOINC code when the value maps onto a FHIR Observation. */
  loinc: z.string().optional(),
  /** 'binary' features take 0 or 1 only. */
  kind: z.enum(['number', 'binary']).default('number'),
  description: z.string().optional(),
  /** Declared direction of the risk in this feature (absent: none declared). */
  monotone: MonotoneSchema.optional(),
});
export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;

/** Public standardization and input quantization: computed on the client. */
export const InputQuantizationSchema = z.object({
  /** Signed bits per quantized input: qMax = 2^(bits-1) - 1. */
  bits: integer.min(2).max(8),
  /** Quantization step: one standard deviation is `scale` integer steps. */
  scale: finite.positive(),
  mean: z.array(finite),
  std: z.array(finite.positive()),
  /** Training-set statistic used for a missing value (in the feature's unit). */
  impute: z.array(finite),
});
export type InputQuantization = z.infer<typeof InputQuantizationSchema>;

const HiddenLayerSchema = z.object({
  /** H × d ternary matrix. */
  weights: z.array(z.array(ternary)).max(MODEL_LIMITS.hiddenUnits, `at most ${MODEL_LIMITS.hiddenUnits} hidden units`),
  /** Per-unit integer scale of the square activation (≥ 0). */
  alpha: z.array(integer.min(0)),
  /** Per-unit integer bias of the square activation. */
  beta: z.array(integer),
});

const OutputLayerSchema = z.object({
  /** Ternary weight per hidden unit. */
  weights: z.array(ternary),
  /**
   * logit = scale · y + bias, y the integer network output: the log-odds with both classes
   * weighted equally, as the network was trained. Its sign is the classifier's decision.
   */
  scale: finite,
  bias: finite,
  /**
   * Share of `classes[1]` in the training rows. Class-balanced training reads as if half the
   * people had the condition; this prior turns the logit back into a risk for a population like
   * the training one (decodeRisk). Absent: no correction (balanced data, older files).
   */
  prior: z.number().gt(0).lt(1).optional(),
  /**
   * Integer weight per feature added to y (a linear skip term, version 2): y += Σ_i l_i q_i.
   * A quadratic form's linear part at full integer precision, which ternary units with small α
   * reach only coarsely. Absent: none.
   */
  linear: z.array(integer).optional(),
});
export type OutputDecoding = Pick<z.infer<typeof OutputLayerSchema>, 'scale' | 'bias' | 'prior'>;

export const ModelBodySchema = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.union([z.literal(1), z.literal(2)]),
  /** Short identifier, used in URLs and file names. */
  id: z.string().max(MODEL_LIMITS.idLength, `at most ${MODEL_LIMITS.idLength} characters`).regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  title: z.string().min(1),
  description: z.string(),
  /** [negative class, positive class]; the risk shown is of the positive class. */
  classes: z.tuple([z.string(), z.string()]),
  features: z.array(FeatureSpecSchema).min(1).max(MODEL_LIMITS.features, `at most ${MODEL_LIMITS.features} features`),
  input: InputQuantizationSchema,
  hidden: HiddenLayerSchema,
  output: OutputLayerSchema,
  /** How it was made and how well it did: informative, part of the hash. */
  training: z.record(z.string(), z.unknown()).optional(),
});
export type ModelBody = z.infer<typeof ModelBodySchema>;

export type TernaryModel = ModelBody & { hash: string };

/** Thrown for a model file that is not one, with the reason in words. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

/** Checks shapes that a schema cannot: every array agrees with the feature and unit counts. */
function checkShapes(m: ModelBody): void {
  const d = m.features.length;
  const H = m.hidden.weights.length;
  const fail = (msg: string) => {
    throw new ModelFormatError(msg);
  };
  for (const key of ['mean', 'std', 'impute'] as const) {
    if (m.input[key].length !== d) fail(`input.${key} has ${m.input[key].length} entries, expected ${d} (one per feature)`);
  }
  if (H === 0) fail('hidden.weights has no units');
  m.hidden.weights.forEach((row, j) => {
    if (row.length !== d) fail(`hidden.weights[${j}] has ${row.length} entries, expected ${d}`);
  });
  if (m.hidden.alpha.length !== H) fail(`hidden.alpha has ${m.hidden.alpha.length} entries, expected ${H}`);
  if (m.hidden.beta.length !== H) fail(`hidden.beta has ${m.hidden.beta.length} entries, expected ${H}`);
  if (m.output.weights.length !== H) fail(`output.weights has ${m.output.weights.length} entries, expected ${H}`);
  if (m.output.linear !== undefined) {
    if (m.version < 2) fail('output.linear needs model file version 2');
    if (m.output.linear.length !== d) fail(`output.linear has ${m.output.linear.length} entries, expected ${d} (one per feature)`);
  }
  const problem = featureListProblem(m.features);
  if (problem) fail(problem);
}

/**
 * What is wrong with a list of features that the schema cannot see (a name twice, a range
 * upside down), or undefined. Shared by model files and dataset specs, so that a spec is
 * refused before training rather than its model after.
 */
export function featureListProblem(features: readonly Pick<FeatureSpec, 'name' | 'min' | 'max'>[]): string | undefined {
  const names = new Set<string>();
  for (const f of features) {
    if (names.has(f.name)) return `feature "${f.name}" appears twice`;
    names.add(f.name);
    if (!(f.min <= f.max)) return `feature "${f.name}": min ${f.min} is above max ${f.max}`;
  }
  return undefined;
}

/** Seals a model body: validates it and adds its content hash. */
export function sealModel(body: ModelBody): TernaryModel {
  const parsed = ModelBodySchema.parse(body);
  checkShapes(parsed);
  return { ...parsed, hash: hashJson(parsed) };
}

/** Parses a model file's JSON, checking schema, shapes and hash. */
export function parseModel(json: unknown): TernaryModel {
  if (typeof json !== 'object' || json === null) throw new ModelFormatError('a model file must be a JSON object');
  if (!depthWithin(json, MODEL_LIMITS.depth)) throw new ModelFormatError(`a model file nests at most ${MODEL_LIMITS.depth} levels deep`);
  const { hash, ...rest } = json as Record<string, unknown>;
  if ((rest as { format?: unknown }).format !== MODEL_FORMAT) {
    throw new ModelFormatError(`not a TernaryNet model file (format is ${JSON.stringify((rest as { format?: unknown }).format)}, expected "${MODEL_FORMAT}")`);
  }
  if (!(MODEL_VERSIONS_READ as readonly unknown[]).includes((rest as { version?: unknown }).version)) {
    throw new ModelFormatError(`model file version ${JSON.stringify((rest as { version?: unknown }).version)} is not supported (this build reads versions ${MODEL_VERSIONS_READ.join(' and ')})`);
  }
  const result = ModelBodySchema.safeParse(rest);
  if (!result.success) {
    throw new ModelFormatError(`model file field ${firstIssue(result.error, '(root)')}`);
  }
  checkShapes(result.data);
  const actual = hashJson(result.data);
  if (hash !== actual) throw new ModelFormatError(`model file hash ${String(hash)} does not match its content (${actual}); the file was changed or damaged`);
  return { ...result.data, hash: actual };
}
