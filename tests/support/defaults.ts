/** The committed default models and their held-out rows, read the way training read them. */
import { readFile, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseModel, type TernaryModel } from '../../src/core/model/format.ts';
import { quantizeRecord, type QuantizedRecord } from '../../src/core/model/reference.ts';
import { heldOutRecords, trainingInfo } from '../../src/train/defaults.ts';
import { modelsDir, sharedDataDir } from '../../src/cli/paths.ts';

export async function defaultModels(): Promise<TernaryModel[]> {
  const files = (await readdir(modelsDir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => parseModel(JSON.parse(await readFile(resolve(modelsDir, f), 'utf8')))));
}

/** Quantized held-out records of a default model and their labels. */
export async function heldOut(model: TernaryModel): Promise<{ records: QuantizedRecord[]; labels: number[] }> {
  const csv = await readFile(resolve(sharedDataDir(), trainingInfo(model).dataset!), 'utf8');
  const { records, labels } = heldOutRecords(model, csv);
  return { records: records.map((r) => quantizeRecord(model, r)), labels };
}
