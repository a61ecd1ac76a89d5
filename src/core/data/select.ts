/**
 * Numeric table → the feature matrix and labels a model trains or is evaluated on.
 */
import { hashJson } from '../hash.ts';
import type { FeatureSpec } from '../model/format.ts';
import type { NumericCell, NumericTable } from './csv.ts';
import { DataError } from './errors.ts';

/** Feature rows (null = missing) and 0/1 labels, in the table's row order. */
export interface LabeledData {
  X: NumericCell[][];
  y: number[];
}

export interface SelectOptions {
  /** Feature columns, in model order (names or the model's feature specs). */
  features: readonly (string | Pick<FeatureSpec, 'name'>)[];
  /** Name of the 0/1 label column. */
  label: string;
  /** Columns in which the data set writes 0 for "not measured" (Pima): read as missing. */
  missingAsZero?: readonly string[];
}

/** Index of each named column; throws DataError naming the first one the table lacks. */
export function columnIndices(table: Pick<NumericTable, 'source' | 'columns'>, names: readonly string[]): number[] {
  return names.map((name) => {
    const index = table.columns.indexOf(name);
    if (index < 0) throw new DataError(table.source, undefined, name, 'is missing from the header');
    return index;
  });
}

/** Selects features and label; throws DataError for a missing column or a label other than 0/1. */
export function selectFeatures(table: NumericTable, options: SelectOptions): LabeledData {
  const names = options.features.map((f) => (typeof f === 'string' ? f : f.name));
  const featureColumns = columnIndices(table, names);
  const [labelColumn] = columnIndices(table, [options.label]);
  const zeroIsMissing = names.map((n) => options.missingAsZero?.includes(n) ?? false);
  const X = table.rows.map((cells) =>
    featureColumns.map((c, i) => {
      const v = cells[c] ?? null;
      return zeroIsMissing[i] && v === 0 ? null : v;
    }),
  );
  const y = table.rows.map((cells, r) => {
    const v = cells[labelColumn!];
    if (v !== 0 && v !== 1) {
      const shown = v === null || v === undefined ? 'an empty cell' : String(v);
      throw new DataError(table.source, table.lines[r], options.label, `the label must be 0 or 1, found ${shown}`);
    }
    return v;
  });
  return { X, y };
}

/**
 * The SHA-256 of rows as a model reads them (its features, in its order, and the label): what a
 * model file records of its training data (`training.data`), so that a later evaluation can
 * tell the file the model was split from, whose other rows trained it, from any other file,
 * whatever the CSV's column order, spacing or line ends.
 */
export function rowsDigest(data: { X: readonly (readonly NumericCell[])[]; y: readonly number[] }): string {
  return hashJson({ X: data.X, y: data.y });
}
