/**
 * The training lab's data: the person's CSV, read on this device (it is never sent), its
 * columns summarised, and the label and feature columns chosen. The bytes are kept so the
 * worker can read the file itself; the page only needs the header and a summary per column.
 */
import { readCsv, readNumber } from '../../../core/data/csv.ts';
import { plainMessage } from '../../lib/plain-error.ts';

export interface ColumnSummary {
  name: string;
  /** Every non-empty cell is a number. */
  numeric: boolean;
  /** Every non-empty cell is 0 or 1 (a possible label). */
  binary: boolean;
  /** Empty cells. */
  missing: number;
  /** The first cell that is not a number, for the explanation. */
  example?: string;
  /** Lowest and highest number in the column (numeric columns with a value). */
  lo?: number;
  hi?: number;
  /** Whole numbers only, with at most 12 distinct values, not just 0 and 1: probably codes. */
  coded: boolean;
}

export interface LoadedFile {
  name: string;
  size: number;
  bytes: ArrayBuffer;
  rows: number;
}

/** Column names that usually hold the outcome, in order of preference. */
const LABEL_NAMES = ['label', 'outcome', 'target', 'class', 'diagnosis', 'y'];

function summarise(columns: string[], rows: string[][]): ColumnSummary[] {
  return columns.map((name, c) => {
    let numeric = true;
    let binary = true;
    let missing = 0;
    let example: string | undefined;
    let lo = Infinity;
    let hi = -Infinity;
    const distinct = new Set<number>();
    let whole = true;
    for (const row of rows) {
      const cell = row[c] ?? '';
      const v = readNumber(cell);
      if (v === null) missing++;
      else if (v === undefined) {
        numeric = binary = false;
        example ??= cell;
      } else {
        if (v !== 0 && v !== 1) binary = false;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (!Number.isInteger(v)) whole = false;
        if (distinct.size <= 12) distinct.add(v);
      }
    }
    const range = numeric && lo <= hi ? { lo, hi } : {};
    return { name, numeric, binary: numeric && binary, missing, example, ...range, coded: numeric && !binary && whole && distinct.size > 2 && distinct.size <= 12 };
  });
}

export class LabData {
  #file = $state.raw<LoadedFile | undefined>();
  #columns = $state.raw<ColumnSummary[]>([]);
  #label = $state('');
  #features = $state.raw<string[]>([]);
  #error = $state('');

  get file() {
    return this.#file;
  }
  get columns(): readonly ColumnSummary[] {
    return this.#columns;
  }
  get label() {
    return this.#label;
  }
  get features(): readonly string[] {
    return this.#features;
  }
  get error() {
    return this.#error;
  }
  /** Columns that can be the label: 0/1 numbers. */
  get labelChoices(): readonly ColumnSummary[] {
    return this.#columns.filter((c) => c.binary);
  }
  /** Why the chosen columns cannot train yet, in words; '' when they can. */
  get problem(): string {
    if (!this.#file) return 'Choose a CSV file first.';
    if (!this.#label) return 'This file has no column of 0s and 1s to predict.';
    if (this.#features.length === 0) return 'Choose at least one feature column.';
    return '';
  }

  /** Reads a CSV file on this device and proposes a label and features. */
  async load(file: File): Promise<void> {
    this.#error = '';
    try {
      const bytes = await file.arrayBuffer();
      const table = readCsv(new TextDecoder('utf-8').decode(bytes), file.name);
      const columns = summarise(table.columns, table.rows);
      const binary = columns.filter((c) => c.binary);
      const label = LABEL_NAMES.map((n) => binary.find((c) => c.name.toLowerCase() === n)).find(Boolean) ?? binary.at(-1);
      this.#file = { name: file.name, size: file.size, bytes, rows: table.rows.length };
      this.#columns = columns;
      this.#label = label?.name ?? '';
      this.#features = columns.filter((c) => c.numeric && c.name !== label?.name).map((c) => c.name);
    } catch (e) {
      this.#error = plainMessage(e, `${file.name} could not be read as a CSV file`);
    }
  }

  setLabel(name: string): void {
    // The label is never also a feature; the previous label becomes a feature again.
    const previous = this.#label;
    const chosen = new Set([...this.#features, previous]);
    this.#label = name;
    this.#features = this.#columns.filter((c) => c.numeric && c.name !== name && chosen.has(c.name)).map((c) => c.name);
  }

  setFeature(name: string, on: boolean): void {
    const chosen = new Set(this.#features);
    if (on) chosen.add(name);
    else chosen.delete(name);
    // Keep the file's column order: it is the model's feature order.
    this.#features = this.#columns.filter((c) => chosen.has(c.name) && c.name !== this.#label).map((c) => c.name);
  }

  /** Chooses exactly these feature columns (those the file has as numbers, in the file's order). */
  chooseFeatures(names: readonly string[]): void {
    const chosen = new Set(names);
    this.#features = this.#columns.filter((c) => c.numeric && chosen.has(c.name) && c.name !== this.#label).map((c) => c.name);
  }

  /** A copy of the file's bytes to move to the worker (the original stays for the next run). */
  bytesForWorker(): ArrayBuffer {
    if (!this.#file) throw new Error('no file is loaded');
    return this.#file.bytes.slice(0);
  }
}
