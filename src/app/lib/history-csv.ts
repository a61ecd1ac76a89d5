/**
 * History as a CSV file, made on this device: one row per prediction, with what it was made
 * from, the model (id and hash) and the risk in the words it was shown in.
 */
import Papa from 'papaparse';
import type { EnteredValue, HistoryEntry } from '../state/history.svelte.ts';
import { displayUnit } from './fields.ts';

/** `date_time`: when the answer was decrypted; `queued_at`: when it was asked for, if it waited offline. */
export const HISTORY_COLUMNS = [
  'date_time', 'queued_at', 'model_id', 'model_title', 'model_hash', 'source', 'origin', 'estimated_risk', 'risk_of', 'population',
  'rows', 'rows_at_or_above_average', 'inputs', 'warning', 'key_fingerprint',
] as const;

const withUnit = (text: string, unit: string) => `${text}${unit ? ` ${displayUnit(unit)}` : ''}`;

/**
 * One value as people read it: "61 years", "yes", "not given (a typical value was used)"; one
 * typed in another unit than the model's is said as typed, then as the model read it:
 * "5.8 mmol/L (224.286 mg/dL)".
 */
export function valueText(v: EnteredValue): string {
  const text = v.text.trim();
  if (text === '') return 'not given (a typical value was used)';
  if (v.binary && (text === '1' || text === '0')) return text === '1' ? 'yes' : 'no';
  if (v.entered && v.entered.unit !== v.unit) return `${withUnit(v.entered.text.trim(), v.entered.unit)} (${withUnit(text, v.unit)})`;
  return withUnit(text, v.unit);
}

/** "Age = 54 years; Smoker = yes; Glucose = not given (a typical value was used)". */
export function inputsText(entry: Pick<HistoryEntry, 'inputs'>): string {
  return (entry.inputs ?? []).map((v) => `${v.label} = ${valueText(v)}`).join('; ');
}

/** The CSV text; `outcomeOf` gives the words of an entry saved before entries kept them. */
export function historyCsv(items: readonly HistoryEntry[], outcomeOf: (e: HistoryEntry) => { risk: string; population: string }): string {
  const data = items.map((e) => {
    const outcome = e.outcome ?? outcomeOf(e);
    return [
      e.at, e.queuedAt ?? '', e.modelId, e.modelTitle, e.modelHash ?? '', e.source, e.origin,
      e.risk === undefined ? '' : e.risk.toFixed(4), `estimated risk ${outcome.risk}`, outcome.population,
      e.rows ?? '', e.positives ?? '', inputsText(e), e.warning ?? '', e.fingerprint,
    ];
  });
  // escapeFormulae: a file name or value starting with = + - @ is not run as a formula by a spreadsheet.
  return Papa.unparse({ fields: [...HISTORY_COLUMNS], data }, { newline: '\n', escapeFormulae: true });
}
