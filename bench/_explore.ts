import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { modelsDir, sharedDataDir } from '/work/main/src/cli/paths.ts';
import { parseDatasetSpec } from '/work/main/src/core/data/spec.ts';
import { evaluateSpec } from '/work/main/src/train/defaults.ts';
import { TERNARY_CANDIDATES } from '/work/main/src/train/qat.ts';
await tf.setBackend('cpu');
const variant = process.env.VARIANT ?? 'base';
const ids = (process.env.IDS ?? 'pima-diabetes,liver-patient').split(',');
const seeds = (process.env.SEEDS ?? '1,2,3').split(',').map(Number);
const variants: Record<string, any> = {
  base: undefined,
  t03: TERNARY_CANDIDATES.map((c) => ({ ...c, outputThreshold: 0.3, outputPerSign: undefined })),
  cap4: TERNARY_CANDIDATES.map((c) => ({ ...c, outputThreshold: 0, outputPerSign: 4 })),
};
for (const id of ids) {
  const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));
  const csv = await readFile(resolve(sharedDataDir(), spec.data), 'utf8');
  const t0 = performance.now();
  const e = await evaluateSpec(spec, csv, variants[variant] ? { ternaryCandidates: variants[variant] } : {}, { seeds });
  const s = e.summary.ternary;
  const per = e.splits.map((sp: any) => (100 * sp.scores.ternary.balancedAccuracy).toFixed(1)).join(' ');
  console.log(`${variant} ${id}: bal ${(100 * s.balancedAccuracy.mean).toFixed(2)} (worst ${(100 * s.balancedAccuracy.worst).toFixed(1)}) auc ${s.auc.mean.toFixed(4)} brier ${s.brier.mean.toFixed(4)} | float bal ${(100 * e.summary.float.balancedAccuracy.mean).toFixed(2)} log ${(100 * e.summary.logistic.balancedAccuracy.mean).toFixed(2)} | splits ${per} | ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
