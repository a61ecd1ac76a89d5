/**
 * Row-by-row validation against a model's feature specs, for screens that take a clinician's
 * CSV: one bad row must not reject the file, and every problem is listed with its place.
 */
import type { FeatureSpec } from '../model/format.ts';
import type { PlainRecord } from '../model/reference.ts';
import { type NumericCell, type TextTable, raggedness, readNumber } from './csv.ts';
import { describeLocation } from './errors.ts';
import { findColumn, toModelUnit } from './units.ts';

export type ProblemKind = 'missing-column' | 'ragged' | 'not-a-number' | 'out-of-range' | 'not-binary';

/** One thing wrong with the input; `row` (file line) is absent for whole-column problems. */
export interface RowProblem {
  kind: ProblemKind;
  source: string;
  /** File line number (header = 1). */
  row?: number;
  /** 0-based data row index. */
  index?: number;
  column?: string;
  /** One line naming file, row and column. */
  message: string;
}

/** A row that passed every check, as the model's record (features in model order). */
export interface ValidRecord {
  index: number;
  row: number;
  values: PlainRecord;
}

export interface ValidationResult {
  records: ValidRecord[];
  problems: RowProblem[];
  /** Required columns absent from the file: their values are read as missing (imputed). */
  missingColumns: string[];
  /** Columns whose header names a unit other than the model's (`total_cholesterol_mmol_l`): their values were converted. */
  convertedColumns: { column: string; feature: string; unit: string }[];
}

export interface ValidateOptions {
  /** Columns whose 0 means "not measured": read as missing before range checks. */
  missingAsZero?: readonly string[];
}

/** A text table (cells as read) or a numeric table: validation reads either. */
export type ValidatableTable = Pick<TextTable, 'source' | 'columns' | 'lines'> & { rows: readonly (readonly (string | NumericCell)[])[] };

function problem(kind: ProblemKind, source: string, detail: string, at: { row?: number; index?: number; column?: string } = {}): RowProblem {
  return { kind, source, ...at, message: `${describeLocation(source, at.row, at.column)}: ${detail}` };
}

/** Checks one value against its spec; returns the problem's kind and words, or undefined. */
function checkValue(spec: FeatureSpec, value: number): { kind: ProblemKind; detail: string } | undefined {
  if (spec.kind === 'binary' && value !== 0 && value !== 1) return { kind: 'not-binary', detail: `${value} must be 0 or 1` };
  if (value < spec.min || value > spec.max) {
    const unit = spec.unit ? ` ${spec.unit}` : '';
    return { kind: 'out-of-range', detail: `${value}${unit} is outside the plausible range ${spec.min}–${spec.max}${unit}` };
  }
  return undefined;
}

/**
 * Validates every row of a text or numeric table against feature specs. Never throws for
 * problems in the data: rows with a problem are listed in `problems` and left out of `records`.
 */
export function validateRows(features: readonly FeatureSpec[], table: ValidatableTable, options: ValidateOptions = {}): ValidationResult {
  const { source } = table;
  const problems: RowProblem[] = [];
  const found = features.map((f) => findColumn(table.columns, f));
  const columnOf = found.map((c) => c?.index ?? -1);
  const convertedColumns = features.flatMap((f, i) => (found[i] && found[i].unit !== f.unit ? [{ column: table.columns[found[i].index]!, feature: f.name, unit: found[i].unit }] : []));
  const missingColumns = features.filter((_, i) => columnOf[i]! < 0).map((f) => f.name);
  for (const column of missingColumns) problems.push(problem('missing-column', source, 'is missing from the header; its values will be imputed', { column }));
  const zeroIsMissing = features.map((f) => options.missingAsZero?.includes(f.name) ?? false);
  const records: ValidRecord[] = [];
  table.rows.forEach((cells, index) => {
    const row = table.lines[index]!;
    const ragged = raggedness(table, cells);
    if (ragged) {
      problems.push(problem('ragged', source, ragged.detail, { row, index, column: ragged.column }));
      return;
    }
    let ok = true;
    const values = features.map((spec, i): NumericCell => {
      const c = columnOf[i]!;
      if (c < 0) return null;
      const cell = cells[c]!;
      const value = typeof cell === 'string' ? readNumber(cell) : cell;
      if (value === undefined) {
        problems.push(problem('not-a-number', source, `${JSON.stringify(cell)} is not a number`, { row, index, column: table.columns[c] }));
        ok = false;
        return null;
      }
      if (value === null || (zeroIsMissing[i] && value === 0)) return null;
      const unit = found[i]!.unit;
      const inModelUnit = unit === spec.unit ? value : toModelUnit(spec, value, unit);
      const bad = checkValue(spec, inModelUnit);
      if (bad) {
        const detail = unit === spec.unit ? bad.detail : `${value} ${unit} (${Number(inModelUnit.toPrecision(6))} ${spec.unit}) is outside the plausible range ${spec.min}–${spec.max} ${spec.unit}`;
        problems.push(problem(bad.kind, source, detail, { row, index, column: table.columns[c] }));
        ok = false;
      }
      return inModelUnit;
    });
    if (ok) records.push({ index, row, values });
  });
  return { records, problems, missingColumns, convertedColumns };
}
