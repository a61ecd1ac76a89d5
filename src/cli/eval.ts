/**
 * `cipherclinic eval <model.json> <data.csv> [--encrypted] [--layout batch|single] [--label label] [--all-rows] [--json]`
 * On the data the model was trained on (recognised by the rows' SHA-256 the model records), only
 * the held-out rows are scored unless --all-rows: the others trained it.
 */
import { type LabeledData, rowsDigest, selectFeatures } from '../core/data/index.ts';
import type { TernaryModel } from '../core/model/format.ts';
import { scoreClassifier, type Scores } from '../core/metrics.ts';
import { decodeProbability, quantizeRecord, referenceScore } from '../core/model/reference.ts';
import { provenanceOf } from '../core/model/provenance.ts';
import { verifyMonotone } from '../core/model/monotone.ts';
import { compilePlan, describeParameters, encryptedScores, type LayoutName } from '../core/he/index.ts';
import { readCsvFile, readModelFile, table } from './io.ts';
import { brokenWarning, monotoneSummary } from './monotone.ts';

export interface EvalOptions {
  encrypted: boolean;
  layout: LayoutName;
  /** Label column; default: the one the model was trained on. */
  label?: string;
  /** Score every row even of the file the model was trained on (default: its held-out rows only). */
  allRows?: boolean;
  json: boolean;
}

/**
 * The model's held-out rows (training.testRows) when the data is the data it was split from:
 * the same rows as the model read them (training.data, core/data rowsDigest), or, for a file
 * from before models recorded that, as many rows as its split. That data's other rows trained
 * the model, so scoring them inflates the result. Undefined for any other data.
 */
function heldOutRowsOf(model: TernaryModel, data: LabeledData, splitFrom: boolean): number[] | undefined {
  const { testRows } = provenanceOf(model);
  const rows = data.y.length;
  if (!splitFrom || testRows.length === 0 || !testRows.every((r) => Number.isInteger(r) && r >= 0 && r < rows)) return undefined;
  return testRows;
}

/** Whether `data` is what the model was split from: by its rows' digest, or by the split's size in an older file. */
function isSplitFrom(model: TernaryModel, data: LabeledData): boolean {
  const rows = data.y.length;
  const trainedOn = provenanceOf(model).data;
  if (trainedOn) return trainedOn.rows === rows && trainedOn.sha256 === rowsDigest(data);
  const split = (model.training?.split ?? {}) as { train?: unknown; test?: unknown };
  return typeof split.train === 'number' && typeof split.test === 'number' && split.train + split.test === rows && provenanceOf(model).testRows.length === split.test;
}

export async function evalCommand(modelPath: string, dataPath: string, options: EvalOptions): Promise<void> {
  const model = await readModelFile(modelPath);
  const proof = verifyMonotone(model);
  // Eval is a diagnostic: it scores a model that breaks its declared constraints, but says so
  // first. The encrypted path refuses such a model (compilePlan), so it needs no warning.
  const warning = options.encrypted ? undefined : brokenWarning(model, proof);
  const provenance = provenanceOf(model);
  const label = options.label ?? provenance.label;
  // Only the model's features and the label are read: other columns (an id, a note) may hold anything.
  const all = selectFeatures(await readCsvFile(dataPath, [...model.features.map((f) => f.name), label]), { features: model.features, label, missingAsZero: provenance.missingAsZero });
  // One digest of the rows: whether they are the model's own decides the held-out rows and the note.
  const splitFrom = isSplitFrom(model, all);
  const heldOut = heldOutRowsOf(model, all, splitFrom);
  const scored = heldOut && !options.allRows ? heldOut : all.y.map((_, r) => r);
  const labels = scored.map((r) => all.y[r]!);
  const records = scored.map((r) => quantizeRecord(model, all.X[r]!));
  const reference = records.map((q) => referenceScore(model, q));
  const probabilities = (scores: number[]) => scores.map((y) => decodeProbability(model.output, y));
  const plaintext = scoreClassifier(labels, probabilities(reference));
  const report: {
    records: number;
    split?: { heldOut: number; of: number; scored: 'held-out' | 'all' };
    trainingData?: { rows: number; sha256: string; matches: boolean };
    plaintext: Scores;
    monotone: ReturnType<typeof monotoneSummary>;
    encrypted?: Scores & { agreement: number; layout: LayoutName; parameters: string; seconds: number };
  } = {
    records: records.length,
    ...(heldOut ? { split: { heldOut: heldOut.length, of: all.y.length, scored: options.allRows ? 'all' : 'held-out' } } : {}),
    // Whether these are the rows the model was split from, by the hash it records (older files record none).
    ...(provenance.data ? { trainingData: { ...provenance.data, matches: splitFrom } } : {}),
    plaintext,
    monotone: monotoneSummary(proof),
  };
  if (options.encrypted) {
    const started = performance.now();
    const plan = await compilePlan(model, options.layout);
    const progress = process.stderr.isTTY && !options.json;
    const run = await encryptedScores(model, plan, records, {
      onProgress: progress ? (done, total) => process.stderr.write(`\rencrypted ${done}/${total} records`) : undefined,
    });
    if (progress) process.stderr.write('\n');
    const agree = run.scores.filter((y, i) => y === reference[i]).length;
    report.encrypted = {
      ...scoreClassifier(labels, probabilities(run.scores)),
      agreement: agree / records.length,
      layout: options.layout,
      parameters: describeParameters(plan.params),
      seconds: (performance.now() - started) / 1000,
    };
  }
  if (warning) console.error(warning);
  if (options.json) {
    console.log(JSON.stringify(report));
    return;
  }
  const split = report.split;
  if (split?.scored === 'held-out') console.log(`held-out rows only: ${dataPath} has the ${split.of} rows the model was split from; the ${split.of - split.heldOut} that trained it are left out (training.testRows; --all-rows scores every row)`);
  if (split?.scored === 'all') console.log(`note: ${split.of - split.heldOut} of these ${split.of} rows trained the model, so this score is inflated; without --all-rows, eval scores its ${split.heldOut} held-out rows only`);
  const trainedOn = report.trainingData;
  if (trainedOn && !trainedOn.matches) {
    console.log(`note: these are not the ${trainedOn.rows} rows the model was split from (training.data, SHA-256 ${trainedOn.sha256.slice(0, 12)}…); if they hold rows it trained on (the same file reordered, or part of it), this score is inflated`);
  }
  const oneClass = new Set(labels).size === 1 ? model.classes[labels[0]!] : undefined;
  if (oneClass !== undefined) console.log(`note: every scored row is "${oneClass}": ROC AUC needs rows of both classes (–), and balanced accuracy is the recall of that class alone`);
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const auc = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '–');
  const rows: (string | number)[][] = [['', 'accuracy', 'balanced acc.', 'ROC AUC']];
  rows.push(['plaintext reference', pct(plaintext.accuracy), pct(plaintext.balancedAccuracy), auc(plaintext.auc)]);
  const e = report.encrypted;
  if (e) rows.push([`encrypted (${e.layout})`, pct(e.accuracy), pct(e.balancedAccuracy), auc(e.auc)]);
  console.log(`${model.title} on ${records.length} records of ${dataPath}`);
  console.log(table(rows));
  if (e) console.log(`agreement with the plaintext reference: ${pct(e.agreement)} of records, ${e.parameters}, ${e.seconds.toFixed(1)} s`);
}
