/** The committed default models and their held-out rows, read the way training read them. */
import { readFile, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseModel, type TernaryModel } from '../../src/core/model/format.ts';
import { provenanceOf } from '../../src/core/model/provenance.ts';
import { quantizeRecord, type QuantizedRecord } from '../../src/core/model/reference.ts';
import { heldOutRecords } from '../../src/train/defaults.ts';
import { modelsDir, sharedDataDir } from '../../src/cli/paths.ts';

export async function defaultModels(): Promise<TernaryModel[]> {
  const files = (await readdir(modelsDir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => parseModel(JSON.parse(await readFile(resolve(modelsDir, f), 'utf8')))));
}

type HeldOut = { records: QuantizedRecord[]; labels: number[] };

/** Read once per model id: several tests use the same rows. */
const heldOutCache = new Map<string, Promise<HeldOut>>();

/** Quantized held-out records of a default model and their labels (shared: do not modify). */
export function heldOut(model: TernaryModel): Promise<HeldOut> {
  let rows = heldOutCache.get(model.id);
  if (!rows) {
    rows = readHeldOut(model);
    heldOutCache.set(model.id, rows);
  }
  return rows;
}

async function readHeldOut(model: TernaryModel): Promise<HeldOut> {
  const csv = await readFile(resolve(sharedDataDir(), provenanceOf(model).dataset!), 'utf8');
  const { records, labels } = heldOutRecords(model, csv);
  return { records: records.map((r) => quantizeRecord(model, r)), labels };
}
