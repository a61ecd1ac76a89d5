/**
 * The four default models: from a dataset spec and its CSV text to a trained model and a
 * short report. Isomorphic (the caller reads the files), so tests and the browser can reuse it.
 */
import { provenanceOf } from '../core/model/provenance.ts';
import { parseCsv, type NumericTable } from '../core/data/csv.ts';
import { selectFeatures } from '../core/data/select.ts';
import type { DatasetSpec } from '../core/data/spec.ts';
import type { Scores } from '../core/metrics.ts';
import type { TernaryModel } from '../core/model/format.ts';
import { type PlainRecord, qMax, quantizeRecord } from '../core/model/reference.ts';
import { freeFeatureSweeps } from '../core/model/monotone.ts';
import { TERNARY_CANDIDATES, type TrainOptions, type TrainResult, type TrainingRecord, trainModel } from './index.ts';
import { type RepeatedEvaluation, type RepeatedOptions, betterFloatName, priorShifted, repeatedEvaluation, repeatedTable, targetsSentence } from './repeated.ts';
import { calibrationSvg } from './calibration.ts';
import { stratifiedSplit } from './split.ts';

export const DEFAULT_MODEL_IDS = ['breast-cancer', 'pima-diabetes', 'framingham-chd', 'liver-patient'] as const;

/** Reads a spec's CSV text into features and labels (zeros read as missing where the spec says). */
export function datasetFromSpec(spec: DatasetSpec, csvText: string): { table: NumericTable; X: PlainRecord[]; y: number[] } {
  const table = parseCsv(csvText, spec.data);
  const { X, y } = selectFeatures(table, { features: spec.features, label: spec.label, missingAsZero: spec.missingAsZero });
  return { table, X, y };
}

/** The training options a spec sets for its data set (options given by the caller override them). */
export function specTrainingOptions(spec: DatasetSpec): Partial<TrainOptions> {
  // The spec's settings are named as the options are; `why` is the measurement, not a setting.
  const { why: _why, ...settings } = spec.training ?? { why: '' };
  return settings;
}

function specOptions(spec: DatasetSpec, options: Partial<TrainOptions>): TrainOptions {
  return {
    id: spec.id,
    title: spec.title,
    description: spec.description,
    classes: spec.classes,
    ...specTrainingOptions(spec),
    ...options,
    info: { dataset: spec.data, label: spec.label, missingAsZero: spec.missingAsZero ?? [], ...options.info },
  };
}

/** Trains the model a spec describes; the model records which file and columns it came from. */
export async function trainFromSpec(spec: DatasetSpec, csvText: string, options: Partial<TrainOptions> = {}): Promise<TrainResult> {
  const { X, y } = datasetFromSpec(spec, csvText);
  return trainModel({ X, y, featureSpecs: spec.features }, specOptions(spec, options));
}

/** The repeated-split evaluation (repeated.ts) of the procedure that trains a spec's model. */
export async function evaluateSpec(spec: DatasetSpec, csvText: string, options: Partial<TrainOptions> = {}, repeated: RepeatedOptions = {}): Promise<RepeatedEvaluation> {
  const { X, y } = datasetFromSpec(spec, csvText);
  return repeatedEvaluation({ X, y, featureSpecs: spec.features }, specOptions(spec, options), repeated);
}

/**
 * The model's held-out rows of its CSV (`training.testRows`) as records and labels, read the
 * way training read them: for evaluating the exact model, plain or encrypted, on unseen rows.
 */
export function heldOutRecords(model: TernaryModel, csvText: string): { rows: number[]; records: PlainRecord[]; labels: number[] } {
  const info = provenanceOf(model);
  const table = parseCsv(csvText, info.dataset ?? 'data.csv');
  const { X, y } = selectFeatures(table, { features: model.features, label: info.label, missingAsZero: info.missingAsZero });
  return { rows: info.testRows, records: info.testRows.map((r) => X[r]!), labels: info.testRows.map((r) => y[r]!) };
}

const pct = (x: number) => (100 * x).toFixed(1);

/** The reliability diagram of a trained model's held-out split: risks as people see them. */
export function calibrationOf(result: TrainResult): string {
  const { labels, probabilities } = result.heldOut;
  const prior = result.model.output.prior ?? 0.5;
  const risks = (p: number[]) => p.map((v) => priorShifted(v, prior));
  return calibrationSvg(`${result.model.title}: reliability on the held-out split (seed ${result.split.seed})`, [
    { name: 'TernaryNet (integers, as encrypted)', color: '#c2410c', labels, risks: risks(probabilities.ternary) },
    { name: 'MLP (float)', color: '#2563eb', labels, risks: risks(probabilities.float) },
    { name: 'logistic regression (float)', color: '#16a34a', labels, risks: risks(probabilities.logistic) },
  ]);
}

/** What the linear skip term holds and what it adds to the output bound. */
function linearLine(model: TernaryModel): string {
  const linear = model.output.linear!;
  const l1 = linear.reduce((sum, l) => sum + Math.abs(l), 0);
  const Q = qMax(model.input);
  return `- Linear skip term: y also adds Σ l_i q_i with integer l ∈ [${Math.min(...linear)}, ${Math.max(...linear)}], ${linear.filter((l) => l !== 0).length} of ${linear.length} nonzero, Σ|l_i| = ${l1} (at most ${l1 * Q} of the output bound).`;
}

/**
 * The report's table of the features with no declared direction (freeFeatureSweeps), over the
 * data set's people.
 */
function freeFeatureLines(model: TernaryModel, records: readonly PlainRecord[], leftFree: Record<string, string> = {}): string[] {
  const sweeps = records.length ? freeFeatureSweeps(model, records.map((r) => quantizeRecord(model, r))) : [];
  if (!sweeps.length) return [];
  const share = (n: number) => `${((100 * n) / records.length).toFixed(1)} %`;
  return [
    '',
    '## Features without a declared direction',
    '',
    `Training leaves these free. For each of the data set's ${records.length} people, the one value is swept over every level the card allows, the rest of the record as it is, through the plaintext integer reference (what the encrypted path computes): the share of people whose risk only rises, only falls, moves both ways or stays flat on the way. *Proved* names a direction the exact verifier finds over the whole input box, for every record the card allows (for a yes/no value it checks every step between the two levels, more than no → yes needs, so it may prove nothing where every person's risk rises).`,
    '',
    '| feature | risk only rises | only falls | both ways | flat | proved over the box |',
    '|---|---|---|---|---|---|',
    ...sweeps.map(({ label, counts: c, proved }) => `| ${label} | ${share(c.rises)} | ${share(c.falls)} | ${share(c.both)} | ${share(c.flat)} | ${proved === 'increasing' ? 'non-decreasing' : proved === 'decreasing' ? 'non-increasing' : 'not proved'} |`),
    ...whyLeftFree(sweeps, leftFree),
  ];
}

/** The spec's reason for each free feature (its own, else the "*" entry), as a list under the table. */
function whyLeftFree(sweeps: readonly { feature: string; label: string }[], leftFree: Record<string, string>): string[] {
  const reasons = sweeps.flatMap(({ feature, label }) => {
    const why = leftFree[feature] ?? leftFree['*'];
    return why ? [{ label, why }] : [];
  });
  if (!reasons.length) return [];
  const shared = reasons.every((r) => r.why === reasons[0]!.why) && reasons.length > 1;
  return ['', 'Why no direction is declared (the spec\'s `leftFree`):', '', ...(shared ? [`- Every feature above: ${reasons[0]!.why}`] : reasons.map((r) => `- ${r.label}: ${r.why}`))];
}

/**
 * What the risk a person is shown means, and of whom: a report that gave only the threshold
 * ("predicts diabetes above 34.9 %") would read as a diagnosis.
 */
function meaningLines(spec: DatasetSpec, model: TernaryModel): string[] {
  const { outcome, population } = spec;
  const of = outcome ? ` ${outcome.risk}` : '';
  const whom = outcome?.population ?? population?.who;
  const lines = [
    `- What the risk means: an estimate of the risk${of} for people like those the model learned from${whom ? ` (${whom})` : ''}, from a statistical model; not a diagnosis, and less sure for people unlike them.`,
  ];
  if (model.output.prior !== undefined) {
    lines.push(
      `- Risk shown to people: ${pct(model.output.prior)}% of the training rows are labelled “${model.classes[1]}”. The balanced log-odds are shifted by that prior, so the risk reads for a population like the training one. The held-out scores below count a risk above ${pct(model.output.prior)}% as “${model.classes[1]}” (the threshold balanced accuracy needs); the screens show people the risk and how it compares with the average of the data, not that label.`,
    );
  }
  return lines;
}

/** A short Markdown report of a trained default model (date-free, so it is reproducible). */
export function modelReport(spec: DatasetSpec, result: Pick<TrainResult, 'model' | 'metrics' | 'split'>, extra: { repeated?: Pick<RepeatedEvaluation, 'seeds' | 'summary'>; calibrationFile?: string; records?: readonly PlainRecord[] } = {}): string {
  const { model, metrics, split } = result;
  const t = model.training as TrainingRecord;
  const H = model.hidden.weights.length;
  const row = (name: string, s: Scores) => `| ${name} | ${pct(s.accuracy)} | ${pct(s.balancedAccuracy)} | ${s.auc.toFixed(3)} |`;
  const active = model.output.weights.filter((w) => w !== 0).length;
  const nonzero = model.hidden.weights.flat().filter((w) => w !== 0).length;
  const { hiddenThreshold, warmupEpochs } = t.ternaryConfig;
  const monotone = model.features.filter((f) => f.monotone);
  const proof = t.monotone as { verified: { feature: string; margin: number }[]; repairs: number } | undefined;
  const { repeated } = extra;
  return [
    `# ${model.title} — \`${model.id}\``,
    '',
    model.description,
    '',
    `- Data: \`${spec.data}\` (shared data folder), ${split.train.length + split.test.length} rows, ${model.features.length} features; label \`${spec.label}\` = 1 means ${model.classes[1]}.`,
    `- Split: stratified 80/20, seed ${split.seed}: ${split.train.length} training rows, ${split.test.length} held-out rows (indices in \`training.testRows\`).`,
    `- Inputs: median imputation, standardization on the training rows, ${model.input.bits}-bit signed quantization (scale ${model.input.scale.toFixed(4)}: ±3 std → ±${2 ** (model.input.bits - 1) - 1}).`,
    ...(spec.training ? [`- Settings of this data set (\`models/specs/${spec.id}.json\`, \`training\`), with what each measured when it was chosen (later changes moved the figures; *Repeated splits* below is this model's): ${spec.training.why}`] : []),
    `- Network: ${H} hidden units (${active} with a nonzero output weight), ${nonzero} of ${H * model.features.length} hidden weights nonzero, α ∈ [${Math.min(...model.hidden.alpha)}, ${Math.max(...model.hidden.alpha)}] (at most ${t.alphaMax}), β ∈ [${Math.min(...model.hidden.beta)}, ${Math.max(...model.hidden.beta)}].`,
    ...(model.output.linear ? [linearLine(model)] : []),
    `- Output bound: ${t.outputBound} (2^${Math.log2(t.outputBound).toFixed(2)}; limit 2^21).`,
    `- Training: one protocol for all three models — L2 strength (float models), ternary configuration and restart, and epoch counts chosen on ${t.split.validation} validation rows taken from the training rows; the float models are then retrained on all training rows, ${t.ensemble ? `the TernaryNet is the sum of its ${t.ensemble.length} runs with the least validation loss (${t.runs ?? TERNARY_CANDIDATES.length} runs compared; a sum of TernaryNets is one TernaryNet with all their hidden units)` : `the TernaryNet keeps its validated run (${t.runs ?? TERNARY_CANDIDATES.length} runs compared${t.runs === 4 ? ': each configuration once' : ''})`} with its decoding refitted on all training rows; classes weighted to balance in the loss; threshold 0.5. ${t.distill ? `The TernaryNet's targets during training were ${1 - t.distill.weight === 0 ? '' : `${+(1 - t.distill.weight).toFixed(2)} × the label + `}${t.distill.weight} × the probability from a ${t.distill.teacher} fitted to the same fitting rows (distillation; src/train/teacher.ts); its validation loss and every score below use the true labels. ` : ''}${t.ensemble ? `Summed runs: ${t.ensemble.map((c) => `hidden threshold ${c.hiddenThreshold}·mean|W|, ${c.warmupEpochs ? 'after a float warm-up' : 'from scratch'}, restart ${c.restart}`).join('; ')}.` : `Chosen ternary configuration: hidden threshold ${hiddenThreshold}·mean|W|, ${warmupEpochs ? 'after a float warm-up' : 'from scratch'}, restart ${t.ternaryConfig.restart}.`}`,
    ...meaningLines(spec, model),
    `- Model hash: \`${model.hash}\``,
    ...(monotone.length
      ? [
          '',
          '## Monotone constraints',
          '',
          `Declared in \`models/specs/${spec.id}.json\` and recorded in the model file. Each is proved exactly over the whole input box the card allows (every combination of in-range values, not only the data's rows) by \`verifyMonotone\` (src/core/model/monotone.ts); the plan compiler refuses the model if one fails. Training kept them with a penalty over the box${proof ? `; ${proof.repairs} hidden weight${proof.repairs === 1 ? '' : 's'} had to be zeroed after folding` : ''}. Margin: the least change of the integer output for one quantization step of the feature, anywhere in the box (≥ 0 proves the constraint).`,
          '',
          '| feature | risk must be | margin | why | source |',
          '|---|---|---|---|---|',
          ...monotone.map((f) => `| ${f.label} | ${f.monotone!.direction === 'increasing' ? 'non-decreasing' : 'non-increasing'} | ${proof?.verified.find((v) => v.feature === f.name)?.margin ?? '—'} | ${f.monotone!.reason} | ${f.monotone!.source} |`),
        ]
      : []),
    ...freeFeatureLines(model, extra.records ?? [], spec.leftFree),
    ...(repeated
      ? [
          '',
          `## Repeated splits`,
          '',
          `The same procedure on ${repeated.seeds.length} stratified 80/20 splits (seeds ${repeated.seeds[0]}–${repeated.seeds.at(-1)}, each with its own validation rows): mean ± standard deviation (worst split). Brier score on the risk shown to people (prior-corrected) for all three models. Better float baseline by balanced accuracy: ${betterFloatName(repeated.summary)}. From \`bench/training.ts\` (\`bench/training-results.json\`).`,
          '',
          ...repeatedTable({ ...repeated, splits: [] }),
          '',
          `The TernaryNet's targets against the better float baseline (docs/training.md): ${targetsSentence(repeated)}`,
        ]
      : []),
    '',
    '## The default model\'s split',
    '',
    '| model | accuracy % | balanced accuracy % | AUC |',
    '|---|---|---|---|',
    row('logistic regression (float)', metrics.logistic),
    row(`MLP, ${t.hiddenUnits} ReLU units (float)`, metrics.float),
    row('TernaryNet, exported integers', metrics.ternary),
    '',
    'The TernaryNet row is computed with the plaintext integer reference (quantizeRecord → referenceScore → decodeProbability): what the server computes under encryption, bit for bit.',
    ...(extra.calibrationFile ? ['', `Calibration on this split (risks as shown, ten bins): ![reliability diagram](${extra.calibrationFile})`] : []),
    '',
  ].join('\n');
}

/**
 * The report of a model file already trained (e.g. after the repeated-split table was rerun):
 * its split is drawn again from the labels and its seed, and must give the recorded held-out rows.
 */
export function savedModelReport(spec: DatasetSpec, csvText: string, model: TernaryModel, extra: Parameters<typeof modelReport>[2] = {}): string {
  const { X, y } = datasetFromSpec(spec, csvText);
  const t = model.training as TrainingRecord;
  const split = stratifiedSplit(y, { seed: t.seed });
  if (split.test.join() !== t.testRows.join()) throw new Error(`${model.id}: the recorded held-out rows are not those of seed ${t.seed} on ${spec.data}; retrain the model`);
  const scores = (s: Record<keyof Scores, number | null>): Scores => ({ accuracy: s.accuracy ?? NaN, balancedAccuracy: s.balancedAccuracy ?? NaN, auc: s.auc ?? NaN });
  const metrics = { logistic: scores(t.metrics.logistic), float: scores(t.metrics.float), ternary: scores(t.metrics.ternary) };
  return modelReport(spec, { model, metrics, split }, { records: X, ...extra });
}
