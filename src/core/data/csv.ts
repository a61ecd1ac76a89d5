/**
 * CSV text → tables. Two steps so that each caller chooses how strict to be:
 * `readCsv` checks only the file's structure (training and the clinic screen both need that),
 * `parseCsv` also insists on a rectangular, all-numeric table (training needs that; the clinic
 * screen instead validates row by row, see validate.ts).
 */
import Papa from 'papaparse';
import { DataError } from './errors.ts';

/** A cell as read: the text between the delimiters, trimmed. */
export type TextCell = string;
/** A numeric cell: null where the file left it empty. */
export type NumericCell = number | null;

/** A CSV file's data rows as text; rows may be ragged (validation reports that per row). */
export interface TextTable {
  /** File name, used in every message. */
  source: string;
  columns: string[];
  rows: TextCell[][];
  /** File line number of each data row (header = line 1), for messages. */
  lines: number[];
  /** The delimiter the file uses (',', ';' or a tab). */
  delimiter?: string;
  /** True when the file writes decimals with a comma ("5,2"); such cells are read as "5.2". */
  decimalComma?: boolean;
}

/** A rectangular table of numbers: what training reads. */
export interface NumericTable {
  source: string;
  columns: string[];
  rows: NumericCell[][];
  lines: number[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads one cell: '' → null, a decimal number → its value, anything else → undefined. */
export function readNumber(cell: TextCell): NumericCell | undefined {
  if (cell === '') return null;
  return NUMBER.test(cell) ? Number(cell) : undefined;
}

const DECIMAL_COMMA = /^[+-]?(\d+,\d+|,\d+)$/;

/**
 * A number written with a decimal comma ("5,2", "-0,5", ",5") in its decimal-point form; any other
 * text unchanged. The form and the CSV reader share it, so "1,5" means 1.5 everywhere.
 */
export function decimalPoint(cell: TextCell): TextCell {
  return DECIMAL_COMMA.test(cell) ? cell.replace(',', '.') : cell;
}

/**
 * The delimiter of a file, from its header line (the first line that is not blank): the one of
 * ',', ';' and tab that it holds most often outside quotes; ',' when it holds none. The header is
 * used, not the data, because a data row written with decimal commas ("52;5,2") holds more commas
 * than semicolons.
 */
export function detectDelimiter(text: string): string {
  const header = text.split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
  const unquoted = header.replace(/"[^"]*"/g, '');
  const count = (d: string) => unquoted.split(d).length - 1;
  let best = ',';
  for (const d of [';', '\t']) if (count(d) > count(best)) best = d;
  return best;
}

/** Counts line breaks (\n, \r\n or a lone \r) in text. */
function countLineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

/**
 * Reads CSV text into a text table. Throws DataError for a file that has no usable header or
 * no data rows, and for missing or duplicate column names. Blank lines are skipped.
 */
export function readCsv(text: string, source: string): TextTable {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: { cells: string[]; line: number }[] = [];
  let line = 1;
  let cursor = 0;
  const delimiter = detectDelimiter(body);
  Papa.parse<string[]>(body, {
    delimiter,
    skipEmptyLines: false,
    step: (result) => {
      const cells = result.data.map((c) => c.trim());
      if (cells.some((c) => c !== '')) records.push({ cells, line });
      line += countLineBreaks(body.slice(cursor, result.meta.cursor));
      cursor = result.meta.cursor;
    },
  });
  if (records.length === 0) throw new DataError(source, undefined, undefined, 'the file is empty (expected a header line and data rows)');
  const [header, ...data] = records;
  const columns = header!.cells;
  const seen = new Map<string, number>();
  columns.forEach((name, i) => {
    if (name === '') throw new DataError(source, header!.line, undefined, `column ${i + 1} of the header has no name`);
    const first = seen.get(name);
    if (first !== undefined) throw new DataError(source, header!.line, name, `appears twice in the header (columns ${first + 1} and ${i + 1})`);
    seen.set(name, i);
  });
  if (data.length === 0) throw new DataError(source, undefined, undefined, 'has a header but no data rows');
  // A file delimited by ';' or a tab can use the comma as its decimal mark (as spreadsheets do in
  // much of Europe): "52;5,2". A comma-delimited file cannot, so its cells are read as written.
  const decimalComma = delimiter !== ',' && data.some((r) => r.cells.some((c) => DECIMAL_COMMA.test(c)));
  const rows = decimalComma ? data.map((r) => r.cells.map(decimalPoint)) : data.map((r) => r.cells);
  return { source, columns, rows, lines: data.map((r) => r.line), delimiter, decimalComma };
}

/** The problem with a row's length, or undefined when it matches the header. */
export function raggedness(table: Pick<TextTable, 'columns'>, cells: readonly unknown[]): { column?: string; detail: string } | undefined {
  const n = table.columns.length;
  if (cells.length === n) return undefined;
  if (cells.length < n) {
    const missing = table.columns.slice(cells.length);
    return { column: missing[0], detail: `has ${cells.length} values but the header has ${n} columns (no value for ${missing.map((c) => JSON.stringify(c)).join(', ')})` };
  }
  return { detail: `has ${cells.length} values but the header has ${n} columns` };
}

/**
 * Converts a text table to numbers; throws DataError at the first ragged row or non-number.
 * With `keep`, only the columns it names are read (and returned, in the file's order): a file's
 * other columns (a patient id, a note) are not the model's business and need not be numbers.
 */
export function toNumericTable(table: TextTable, keep?: readonly string[]): NumericTable {
  const kept = table.columns.flatMap((name, c) => (keep === undefined || keep.includes(name) ? [c] : []));
  const rows = table.rows.map((cells, r) => {
    const line = table.lines[r];
    const ragged = raggedness(table, cells);
    if (ragged) throw new DataError(table.source, line, ragged.column, ragged.detail);
    return kept.map((c) => {
      const cell = cells[c]!;
      const value = readNumber(cell);
      if (value === undefined) throw new DataError(table.source, line, table.columns[c], `${JSON.stringify(cell)} is not a number`);
      return value;
    });
  });
  return { source: table.source, columns: kept.map((c) => table.columns[c]!), rows, lines: table.lines };
}

/** Parses CSV text into a rectangular numeric table (empty cells → null), of the `keep` columns only when given. Throws DataError. */
export function parseCsv(text: string, source: string, keep?: readonly string[]): NumericTable {
  return toNumericTable(readCsv(text, source), keep);
}
