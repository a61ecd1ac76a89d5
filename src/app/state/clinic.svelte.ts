/**
 * A clinician's patient list for one model: the CSV read and checked row by row on this
 * device, valid rows encrypted in the batch layout (thousands per ciphertext set), progress,
 * cancel, and a results table that sorts, filters and exports — all without a readable value
 * leaving the browser.
 */
import Papa from 'papaparse';
import { readCsv, type TextTable } from '../../core/data/csv.ts';
import { validateRows, type RowProblem } from '../../core/data/validate.ts';
import { batchFacts } from '../lib/history-facts.ts';
import { columnShortfallOf, columnShortfallText } from '../lib/minimum.ts';
import type { ModelCard } from '../../core/model/card.ts';
import { CancelledError } from '../lib/he-bridge.ts';
import { keysWords, type Phase } from '../lib/predict.ts';
import type { Sender } from '../lib/sender.ts';
import type { History } from './history.svelte.ts';
import type { KeyRing } from './keys.svelte.ts';

/** What a clinic batch works with: it is handed these, never the whole app. */
export interface ClinicParts {
  sender: Pick<Sender, 'predict'>;
  history: Pick<History, 'add'>;
  keys: Pick<KeyRing, 'noteKey'>;
}

export interface ResultRow {
  /** File line (header = 1). */
  line: number;
  /** The row's identifier column when the file has one that is not a feature. */
  id: string;
  /** The estimated risk (for people like those the model learned from), 0–1. */
  risk: number;
  label: string;
  positive: boolean;
  score: number;
  /** The features this row left blank, run with typical values in their place. */
  filled: string[];
}

export type SortKey = 'line' | 'id' | 'risk';

interface Loaded {
  name: string;
  table: TextTable;
  valid: number;
  /** Usable rows with every feature given. */
  complete: number;
  /** Usable rows with at least one blank feature, run with typical values in its place. */
  filledRows: number;
  problems: RowProblem[];
  /** Rows with at least one problem. */
  badRows: number;
  missingColumns: string[];
  /** Why the whole file was refused (it lacks columns the model needs). */
  refused?: string;
  idColumn: string | undefined;
}

const PHASE_WORDS: Record<Phase, string> = {
  keys: 'Preparing keys',
  encrypting: 'Encrypting',
  evaluating: 'Computing on ciphertexts',
  decrypting: 'Decrypting',
  done: 'Done',
};

/** A row's risk against the model's average: the words, never a class name (not a diagnosis). */
export const ABOVE = 'at or above average risk';
export const BELOW = 'below average risk';

const ID_COLUMNS = ['id', 'patient_id', 'patient', 'mrn', 'name', 'record'];

export class ClinicBatch {
  readonly #parts: ClinicParts;
  #card = $state.raw<ModelCard | undefined>();
  #loaded = $state.raw<Loaded | undefined>();
  #readError = $state('');
  #phase = $state<'idle' | 'ready' | 'running' | 'done' | 'cancelled' | 'error'>('idle');
  #progress = $state({ done: 0, total: 0, words: '' });
  #results = $state.raw<ResultRow[]>([]);
  #error = $state('');
  #elapsedMs = $state(0);
  #controller: AbortController | undefined;
  #records: { line: number; values: (number | null)[]; id: string; filled: string[] }[] = [];

  sortKey = $state<SortKey>('line');
  sortDir = $state<'asc' | 'desc'>('asc');
  filterText = $state('');
  filterClass = $state<'all' | 'positive' | 'negative'>('all');
  minRisk = $state(0);

  constructor(parts: ClinicParts) {
    this.#parts = parts;
  }

  get card() {
    return this.#card;
  }
  get loaded() {
    return this.#loaded;
  }
  get readError() {
    return this.#readError;
  }
  get phase() {
    return this.#phase;
  }
  get progress() {
    return this.#progress;
  }
  get results(): readonly ResultRow[] {
    return this.#results;
  }
  get error() {
    return this.#error;
  }
  get elapsedMs() {
    return this.#elapsedMs;
  }

  /** The results after filtering and sorting. */
  view = $derived.by(() => {
    const text = this.filterText.trim().toLowerCase();
    const rows = this.#results.filter(
      (r) =>
        (this.filterClass === 'all' || (this.filterClass === 'positive') === r.positive) &&
        r.risk * 100 >= this.minRisk &&
        (!text || r.id.toLowerCase().includes(text) || String(r.line).includes(text) || r.label.toLowerCase().includes(text)),
    );
    const sign = this.sortDir === 'asc' ? 1 : -1;
    const key = this.sortKey;
    return rows.sort((a, b) => sign * (key === 'id' ? a.id.localeCompare(b.id, undefined, { numeric: true }) : a[key] - b[key]));
  });

  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.sortDir = this.sortDir === 'asc' ? 'desc' : 'asc';
    else {
      this.sortKey = key;
      this.sortDir = key === 'risk' ? 'desc' : 'asc';
    }
  }

  /** Reads and checks a CSV file against the model; valid rows are kept for the run. */
  async load(file: File, card: ModelCard): Promise<void> {
    this.cancel();
    this.#card = card;
    this.#readError = '';
    this.#loaded = undefined;
    this.#results = [];
    this.#phase = 'idle';
    try {
      const table = readCsv(await file.text(), file.name);
      const { records, problems, missingColumns } = validateRows(card.features, table, { missingAsZero: card.missingAsZero });
      const names = new Set(card.features.map((f) => f.name));
      const idColumn = table.columns.find((c) => ID_COLUMNS.includes(c.toLowerCase()) && !names.has(c));
      const idIndex = idColumn ? table.columns.indexOf(idColumn) : -1;
      this.#records = records.map((r) => ({
        line: r.row,
        values: [...r.values],
        id: idIndex >= 0 ? (table.rows[r.index]![idIndex] ?? '') : '',
        // A null value is one the model replaces with a typical value: a blank cell, a missing column.
        filled: card.features.filter((_, i) => r.values[i] === null).map((f) => f.name),
      }));
      const filledRows = this.#records.filter((r) => r.filled.length > 0).length;
      const complete = this.#records.length - filledRows;
      const badRows = new Set(problems.filter((p) => p.row !== undefined).map((p) => p.row)).size;
      // A file without the columns the model needs is refused whole: nothing is encrypted or sent.
      const shortfall = columnShortfallOf(card, missingColumns);
      if (shortfall) {
        this.#records = [];
        const refused = columnShortfallText(file.name, shortfall, card.features.length);
        this.#loaded = { name: file.name, table, valid: 0, complete: 0, filledRows: 0, problems, badRows, missingColumns, idColumn, refused };
        this.#phase = 'error';
        this.#error = refused;
        return;
      }
      this.#loaded = { name: file.name, table, valid: records.length, complete, filledRows, problems, badRows, missingColumns, idColumn };
      this.#phase = records.length > 0 ? 'ready' : 'error';
      if (records.length === 0) this.#error = 'No row of this file can be used; see the problems listed.';
    } catch (e) {
      this.#readError = (e as Error).message;
    }
  }

  /** Encrypts every valid row, has the service evaluate them, decrypts the results. */
  async run(): Promise<void> {
    const card = this.#card;
    if (!card || this.#records.length === 0 || this.#phase === 'running') return;
    this.#controller = new AbortController();
    const { signal } = this.#controller;
    this.#phase = 'running';
    this.#error = '';
    this.#results = [];
    const t0 = performance.now();
    const total = this.#records.length;
    this.#progress = { done: 0, total, words: PHASE_WORDS.keys };
    try {
      const { predictions, key } = await this.#parts.sender.predict(card, 'batch', this.#records.map((r) => r.values), {
        signal,
        onProgress: (p) => (this.#progress = { done: p.done, total, words: p.keyBytes ? keysWords(p.keyBytes) : PHASE_WORDS[p.phase] }),
      });
      this.#parts.keys.noteKey(key);
      this.#elapsedMs = performance.now() - t0;
      // Saved before it is shown: a table on screen is one a reload keeps in History.
      await this.#parts.history.add({
        modelId: card.id, modelTitle: card.title, source: 'csv', origin: this.#loaded?.name ?? 'CSV file', fingerprint: key.fingerprint,
        rows: predictions.length, positives: predictions.filter((p) => p.positive).length, label: card.classes[1],
        ...batchFacts(card),
      });
      this.#results = predictions.map((p, i) => ({ line: this.#records[i]!.line, id: this.#records[i]!.id, risk: p.risk, positive: p.positive, score: p.score, label: p.positive ? ABOVE : BELOW, filled: this.#records[i]!.filled }));
      this.#phase = 'done';
    } catch (e) {
      if (signal.aborted || e instanceof CancelledError) this.#phase = 'cancelled';
      else {
        this.#phase = 'error';
        this.#error = `The batch did not complete: ${(e as Error).message}`;
      }
    } finally {
      this.#controller = undefined;
    }
  }

  /** Stops the run: aborts requests and terminates the HE worker mid-computation. */
  cancel(): void {
    this.#controller?.abort(new CancelledError());
  }

  /** The results as CSV text, made here: the file's columns plus the prediction. */
  exportCsv(): string {
    const loaded = this.#loaded;
    if (!loaded) return '';
    const byLine = new Map(this.#results.map((r) => [r.line, r]));
    const { table } = loaded;
    const rows = table.rows.map((cells, i) => {
      const r = byLine.get(table.lines[i]!);
      // Ragged rows (never predicted) are cut or padded so the prediction stays in its column.
      const aligned = table.columns.map((_, c) => cells[c] ?? '');
      return [...aligned, r ? r.risk.toFixed(4) : '', r ? r.label : 'not predicted (see validation report)', r ? r.filled.join(' ') : ''];
    });
    // `filled`: the features a row left blank, which ran with typical values (space-separated).
    return Papa.unparse({ fields: [...table.columns, 'estimated_risk', 'risk_vs_average', 'filled'], data: rows }, { newline: '\n' });
  }
}
