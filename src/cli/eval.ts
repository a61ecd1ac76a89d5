/** `cipherclinic eval <model.json> <data.csv> [--encrypted] [--layout batch|single] [--json]` */
import { selectFeatures } from '../core/data/index.ts';
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
  json: boolean;
}

export async function evalCommand(modelPath: string, dataPath: string, options: EvalOptions): Promise<void> {
  const model = await readModelFile(modelPath);
  const proof = verifyMonotone(model);
  // Eval is a diagnostic: it scores a model that breaks its declared constraints, but says so
  // first. The encrypted path refuses such a model (compilePlan), so it needs no warning.
  const warning = options.encrypted ? undefined : brokenWarning(model);
  if (warning) console.error(warning);
  const provenance = provenanceOf(model);
  const data = selectFeatures(await readCsvFile(dataPath), { features: model.features, label: options.label ?? provenance.label, missingAsZero: provenance.missingAsZero });
  const records = data.X.map((x) => quantizeRecord(model, x));
  const reference = records.map((q) => referenceScore(model, q));
  const probabilities = (scores: number[]) => scores.map((y) => decodeProbability(model.output, y));
  const plaintext = scoreClassifier(data.y, probabilities(reference));
  const report: { records: number; plaintext: Scores; monotone: ReturnType<typeof monotoneSummary>; encrypted?: Scores & { agreement: number; layout: LayoutName; parameters: string; seconds: number } } = {
    records: records.length,
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
      ...scoreClassifier(data.y, probabilities(run.scores)),
      agreement: agree / records.length,
      layout: options.layout,
      parameters: describeParameters(plan.params),
      seconds: (performance.now() - started) / 1000,
    };
  }
  if (options.json) {
    console.log(JSON.stringify(report));
    return;
  }
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const rows: (string | number)[][] = [['', 'accuracy', 'balanced acc.', 'ROC AUC']];
  rows.push(['plaintext reference', pct(plaintext.accuracy), pct(plaintext.balancedAccuracy), plaintext.auc.toFixed(4)]);
  const e = report.encrypted;
  if (e) rows.push([`encrypted (${e.layout})`, pct(e.accuracy), pct(e.balancedAccuracy), e.auc.toFixed(4)]);
  console.log(`${model.title} on ${records.length} records of ${dataPath}`);
  console.log(table(rows));
  if (e) console.log(`agreement with the plaintext reference: ${pct(e.agreement)} of records, ${e.parameters}, ${e.seconds.toFixed(1)} s`);
}
