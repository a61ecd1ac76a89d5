import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { modelsDir, sharedDataDir } from '../src/cli/paths.ts';
import { parseDatasetSpec } from '../src/core/data/spec.ts';
import { trainFromSpec } from '../src/train/defaults.ts';
import { MONOTONE_DEFAULTS } from '../src/train/monotone.ts';
await tf.setBackend('cpu');
const id = process.env.ID ?? 'pima-diabetes';
Object.assign(MONOTONE_DEFAULTS, { margin: Number(process.env.MARGIN ?? 0.002), strength: Number(process.env.STRENGTH ?? 5) });
const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));
const csv = await readFile(resolve(sharedDataDir(), spec.data), 'utf8');
for (const seed of (process.env.SEEDS ?? '42').split(',').map(Number)) {
  const r = await trainFromSpec(spec, csv, { seed });
  const m = r.model;
  const mono = (m.training as any).monotone;
  const cols = m.features.map((f, i) => f.monotone ? `${f.name}:${m.hidden.weights.map((row) => row[i]).join('')}` : '').filter(Boolean).join(' ');
  console.log(`${id} seed ${seed} margin ${MONOTONE_DEFAULTS.margin} strength ${MONOTONE_DEFAULTS.strength}: repairs ${mono?.repairs} margins ${mono?.verified.map((v: any) => v.margin).join(',')} | ${cols} | out ${m.output.weights.join(',')} | tern bal ${(100 * r.metrics.ternary.balancedAccuracy).toFixed(1)} auc ${r.metrics.ternary.auc.toFixed(3)} float bal ${(100 * r.metrics.float.balancedAccuracy).toFixed(1)}`);
}
