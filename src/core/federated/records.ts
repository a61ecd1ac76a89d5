/**
 * A site's CSV as the records a study trains on: validated against the manifest's features with
 * the same checks and per-row messages as the Clinic (validate.ts), the label column read as
 * 0/1, missing values imputed and every record quantized exactly as the client quantizes it, so
 * training sees what the encrypted classifier will see. A fixed share of the rows is held out,
 * chosen by a generator seeded with the study and the site, for the securely aggregated
 * held-out metrics.
 */
import { DataError, describeLocation } from '../data/errors.ts';
import { readNumber, type TextTable } from '../data/csv.ts';
import { validateRows, type RowProblem } from '../data/validate.ts';
import { quantizeRecord } from '../model/reference.ts';
import type { StudyManifest } from './manifest.ts';
import { deriveRng } from './prng.ts';
import { studyInput, type SiteRecords } from './update.ts';

/** Share of each site's rows kept out of training for the held-out metrics. */
export const HELD_OUT_SHARE = 0.2;

export interface SiteDataset {
  train: SiteRecords;
  heldOut: SiteRecords;
  /** Rows left out, each with a message naming file, row and column. */
  problems: RowProblem[];
}

/**
 * Reads a site's table. Throws DataError when the label column is absent or fewer than ten rows
 * are usable; rows with a bad value are listed in `problems` and left out.
 */
export function siteDataset(manifest: StudyManifest, table: TextTable, seed: Uint8Array): SiteDataset {
  const labelColumn = table.columns.indexOf(manifest.label);
  if (labelColumn < 0) throw new DataError(table.source, undefined, manifest.label, 'the label column is missing from the header');
  const { records, problems } = validateRows(manifest.features, table);
  const input = studyInput(manifest);
  const inputs: Float64Array[] = [];
  const labels: (0 | 1)[] = [];
  for (const record of records) {
    const label = readNumber(table.rows[record.index]![labelColumn]!);
    if (label !== 0 && label !== 1) {
      problems.push({ kind: 'not-binary', source: table.source, row: record.row, index: record.index, column: manifest.label, message: `${describeLocation(table.source, record.row, manifest.label)}: the label must be 0 or 1` });
      continue;
    }
    const q = quantizeRecord({ input }, record.values);
    inputs.push(Float64Array.from(q, (v) => v / input.scale));
    labels.push(label);
  }
  if (inputs.length < 10) throw new DataError(table.source, undefined, undefined, `only ${inputs.length} usable rows; a site needs at least 10`);
  const rng = deriveRng(seed, 'site-records/held-out');
  const train: SiteRecords = { inputs: [], labels: [] };
  const heldOut: SiteRecords = { inputs: [], labels: [] };
  inputs.forEach((u, k) => {
    const into = rng.float() < HELD_OUT_SHARE ? heldOut : train;
    into.inputs.push(u);
    into.labels.push(labels[k]!);
  });
  return { train, heldOut, problems };
}
