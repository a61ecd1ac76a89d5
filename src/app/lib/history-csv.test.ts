import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../state/history.svelte.ts';
import { HISTORY_COLUMNS, historyCsv, inputsText } from './history-csv.ts';

const single: HistoryEntry = {
  id: 'a', at: '2026-01-02T10:00:00.000Z', modelId: 'framingham-chd', modelTitle: 'Heart disease', source: 'form', risk: 0.1234, label: 'x',
  origin: '=HYPERLINK("x")', fingerprint: 'abcd', modelHash: 'f'.repeat(64),
  inputs: [{ name: 'age', label: 'Age', text: '54', unit: 'years' }, { name: 'glucose', label: 'Glucose', text: '', unit: 'mg/dL' }, { name: 'male', label: 'Male', text: '1', unit: '', binary: true }],
  outcome: { risk: 'of coronary heart disease within ten years', expects: 'to develop it', population: '4,240 adults' },
};
const batch: HistoryEntry = { id: 'b', at: '2026-01-03T10:00:00.000Z', modelId: 'old-model', modelTitle: 'Old', source: 'csv', rows: 50, positives: 12, origin: 'p.csv', fingerprint: 'ef' };

describe('History as CSV', () => {
  it('one row per entry, with inputs, model hash and the words of the risk', () => {
    const text = historyCsv([single, batch], () => ({ risk: 'of “y”', population: 'the people in its training data' }));
    const parsed = Papa.parse<string[]>(text.trim()).data;
    expect(parsed[0]).toEqual([...HISTORY_COLUMNS]);
    const row = Object.fromEntries(HISTORY_COLUMNS.map((c, i) => [c, parsed[1]![i]]));
    expect(row).toMatchObject({ model_id: 'framingham-chd', model_hash: 'f'.repeat(64), estimated_risk: '0.1234', risk_of: 'estimated risk of coronary heart disease within ten years', population: '4,240 adults' });
    expect(row.inputs).toBe('Age = 54 years; Glucose = not given (a typical value was used); Male = yes');
    // A spreadsheet does not run a cell as a formula.
    expect(row.origin).toBe(`'=HYPERLINK("x")`);
    const old = Object.fromEntries(HISTORY_COLUMNS.map((c, i) => [c, parsed[2]![i]]));
    expect(old).toMatchObject({ rows: '50', rows_at_or_above_average: '12', risk_of: 'estimated risk of “y”', estimated_risk: '', inputs: '' });
  });

  it('writes units as people read them, a value typed in another unit as typed and as the model read it', () => {
    expect(inputsText({ inputs: [{ name: 'sbp', label: 'Systolic', text: '120', unit: 'mm[Hg]' }] })).toBe('Systolic = 120 mmHg');
    const chol = { name: 'total_cholesterol', label: 'Total cholesterol', text: '224.286', unit: 'mg/dL', entered: { text: '5.8', unit: 'mmol/L' } };
    expect(inputsText({ inputs: [chol] })).toBe('Total cholesterol = 5.8 mmol/L (224.286 mg/dL)');
    const queued = { ...single, queuedAt: '2026-01-02T09:00:00.000Z', inputs: [chol] };
    const [header, row] = Papa.parse<string[]>(historyCsv([queued], () => ({ risk: '', population: '' })).trim()).data;
    const cells = Object.fromEntries(header!.map((c, i) => [c, row![i]]));
    expect(cells).toMatchObject({ date_time: single.at, queued_at: '2026-01-02T09:00:00.000Z', inputs: 'Total cholesterol = 5.8 mmol/L (224.286 mg/dL)' });
  });
});
