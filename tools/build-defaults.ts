/**
 * `npm run train:defaults`: trains the four default models from models/specs/*.json and the
 * shared data, and writes models/<id>.json, models/<id>.md and the reliability diagrams. Node
 * only (reads files); the training itself is the isomorphic code in src/train, on the tfjs cpu
 * backend. Per-data-set settings (input bits) come from each spec's training block.
 * Data folder: $CIPHERCLINIC_DATA, else ../shared/data/ beside the repository.
 * Arguments: model ids to build (default: all four); `--reports` rewrites only the reports of the
 * model files there are (e.g. after bench/training.ts), without training.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { modelsDir, sharedDataDir } from '../src/cli/paths.ts';
import * as tf from '@tensorflow/tfjs';
import { parseDatasetSpec } from '../src/core/data/spec.ts';
import { DEFAULT_MODEL_IDS, calibrationOf, savedModelReport, trainFromSpec } from '../src/train/defaults.ts';
import { parseModel } from '../src/core/model/format.ts';
import type { RepeatedEvaluation } from '../src/train/repeated.ts';

const dataDir = sharedDataDir();

await tf.setBackend('cpu');
/** The repeated-split table from bench/training.ts, when it has been run. */
const bench = await readFile(resolve(modelsDir, '../bench/training-results.json'), 'utf8').then((t) => JSON.parse(t) as { results: Record<string, RepeatedEvaluation> }, () => undefined);
const args = process.argv.slice(2);
const reportsOnly = args.includes('--reports');
const named = args.filter((a) => a !== '--reports');
const ids = named.length ? named : [...DEFAULT_MODEL_IDS];
for (const id of ids) {
  const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));
  const csv = await readFile(resolve(dataDir, spec.data), 'utf8');
  if (reportsOnly) {
    const model = parseModel(JSON.parse(await readFile(resolve(modelsDir, `${id}.json`), 'utf8')));
    await writeFile(resolve(modelsDir, `${id}.md`), savedModelReport(spec, csv, model, { repeated: bench?.results[id], calibrationFile: `${id}.calibration.svg` }));
    console.log(`${id}: report rewritten`);
    continue;
  }
  const started = performance.now();
  const result = await trainFromSpec(spec, csv);
  const seconds = (performance.now() - started) / 1000;
  await writeFile(resolve(modelsDir, `${id}.json`), `${JSON.stringify(result.model, null, 2)}\n`);
  await writeFile(resolve(modelsDir, `${id}.calibration.svg`), calibrationOf(result));
  await writeFile(resolve(modelsDir, `${id}.md`), savedModelReport(spec, csv, result.model, { repeated: bench?.results[id], calibrationFile: `${id}.calibration.svg` }));
  const { logistic, float, ternary } = result.metrics;
  const show = (s: typeof logistic) => `acc ${(100 * s.accuracy).toFixed(1)} bal ${(100 * s.balancedAccuracy).toFixed(1)} auc ${s.auc.toFixed(3)}`;
  console.log(`${id}: ${seconds.toFixed(1)} s, bound ${result.model.training?.outputBound}`);
  console.log(`  logistic ${show(logistic)}\n  float    ${show(float)}\n  ternary  ${show(ternary)}`);
}
