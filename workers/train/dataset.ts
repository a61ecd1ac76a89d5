/**
 * A person's CSV → what trainModel reads, the same way the command-line `train` reads a file
 * (parse, infer feature specs from the data, select features and the 0/1 label), except that
 * only the chosen columns must be numbers: a text column the person left out (an id, a name)
 * does not stop training. Errors are DataErrors naming the file, line and column.
 */
import { DataError } from '../../src/core/data/errors.ts';
import { raggedness, readCsv, toNumericTable, type TextTable } from '../../src/core/data/csv.ts';
import { inferFeatureSpecs } from '../../src/core/data/infer.ts';
import { columnIndices, selectFeatures } from '../../src/core/data/select.ts';
import type { FeatureSpec } from '../../src/core/model/format.ts';
import type { TrainingData } from '../../src/train/index.ts';

/**
 * What the model builder says about a feature before training: the words and unit people will
 * read, the plausible range, the direction of the risk with a reason (training keeps it, the
 * model file proves it), and what coded values mean. Absent fields keep what the data suggests.
 */
export interface FeatureEdit {
  name: string;
  label?: string;
  unit?: string;
  min?: number;
  max?: number;
  monotone?: { direction: 'increasing' | 'decreasing'; reason: string; source?: string };
  /** "1 = some high school, 2 = high school, …": kept in the feature's description. */
  codes?: string;
}

/** Where a declared direction comes from when the builder names no study or guideline. */
export const BUILDER_SOURCE = 'Stated by the model builder in the training lab; no source cited.';

export interface DatasetRequest {
  /** The file's name, used in messages and recorded in the model. */
  name: string;
  /** The file's bytes (UTF-8 text), moved to the worker. */
  bytes: ArrayBuffer;
  label: string;
  features: string[];
  /** The builder's edits of the inferred feature specs, by name. */
  edits?: FeatureEdit[];
  /**
   * When the file is a default model's data set: its spec's features, the base of each named
   * feature's spec instead of the one inferred from the data (so the model keeps the spec's
   * descriptions and codes). Their directions of risk count only as edits: a direction the
   * person cleared is gone.
   */
  known?: FeatureSpec[];
  /** Columns where a 0 means "not measured" (read as missing, as `cipherclinic train --spec` does). */
  missingAsZero?: string[];
}

/** The inferred spec with the builder's edits; a range that is not one is refused in words. */
export function applyEdit(spec: FeatureSpec, edit: FeatureEdit | undefined): FeatureSpec {
  if (!edit) return spec;
  const out: FeatureSpec = { ...spec };
  if (edit.label?.trim()) out.label = edit.label.trim();
  if (edit.unit !== undefined) out.unit = edit.unit.trim();
  if (spec.kind === 'number') {
    if (edit.min !== undefined && Number.isFinite(edit.min)) out.min = edit.min;
    if (edit.max !== undefined && Number.isFinite(edit.max)) out.max = edit.max;
    if (!(out.min < out.max)) throw new Error(`${out.label}: the lowest plausible value (${out.min}) must be below the highest (${out.max})`);
  }
  if (edit.monotone) {
    const reason = edit.monotone.reason.trim();
    if (!reason) throw new Error(`${out.label}: say why the risk should ${edit.monotone.direction === 'increasing' ? 'rise' : 'fall'} with it, or choose no direction`);
    out.monotone = { direction: edit.monotone.direction, reason, source: edit.monotone.source?.trim() || BUILDER_SOURCE };
  }
  if (edit.codes?.trim()) out.description = `Codes: ${edit.codes.trim()}`;
  return out;
}

/** Fewest rows of each class the lab trains on: below it, the held-out split says nothing. */
export const MIN_ROWS_PER_CLASS = 10;

/** Keeps the named columns (in that order) of a text table whose rows were checked for length. */
function keepColumns(table: TextTable, names: readonly string[]): TextTable {
  const index = columnIndices(table, names);
  table.rows.forEach((cells, r) => {
    const ragged = raggedness(table, cells);
    if (ragged) throw new DataError(table.source, table.lines[r], ragged.column, ragged.detail);
  });
  return { source: table.source, columns: [...names], rows: table.rows.map((cells) => index.map((i) => cells[i]!)), lines: table.lines };
}

export function readDataset(request: DatasetRequest): TrainingData {
  const { name, label, features } = request;
  if (features.length === 0) throw new Error('choose at least one feature column');
  if (features.includes(label)) throw new Error(`the label column "${label}" cannot also be a feature`);
  const text = new TextDecoder('utf-8').decode(request.bytes);
  const table = toNumericTable(keepColumns(readCsv(text, name), [...features, label]));
  const base = inferFeatureSpecs(table, features).map((inferred) => {
    const known = request.known?.find((k) => k.name === inferred.name);
    if (!known) return inferred;
    const { monotone: _declared, ...spec } = known;
    return spec;
  });
  const featureSpecs = base.map((spec) => applyEdit(spec, request.edits?.find((e) => e.name === spec.name)));
  const { X, y } = selectFeatures(table, { features, label, missingAsZero: request.missingAsZero });
  const positives = y.filter((v) => v === 1).length;
  const fewest = Math.min(positives, y.length - positives);
  if (fewest < MIN_ROWS_PER_CLASS) {
    throw new Error(`the label "${label}" has ${positives} rows of 1 and ${y.length - positives} of 0; training needs at least ${MIN_ROWS_PER_CLASS} of each`);
  }
  return { X, y, featureSpecs };
}
