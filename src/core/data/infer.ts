/**
 * Feature specs for a CSV that comes without one (a model builder's own file): names from the
 * header, plausible ranges from the data widened by half the observed range, binary columns
 * recognised. The builder can edit labels and units before publishing.
 */
import type { FeatureSpec } from '../model/format.ts';
import type { NumericTable } from './csv.ts';

/** A readable label from a column name: "systolic_bp" → "Systolic bp". */
export function labelFromName(name: string): string {
  const words = name.replace(/[_\-.]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A model id from a data file's name: "Heart Disease.csv" → "heart-disease" ("model" when nothing is left). */
export function idFromFileName(name: string): string {
  return name.replace(/\.csv$/i, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
}

/** The plausible range the lab proposes for a column from its lowest and highest value: widened by half the observed range, never below 0 for a column without negatives. */
export function plausibleRange(lo: number, hi: number): { min: number; max: number } {
  const pad = (hi - lo) / 2;
  return { min: lo >= 0 ? Math.max(0, lo - pad) : lo - pad, max: hi + pad };
}

export function inferFeatureSpecs(table: NumericTable, features: readonly string[]): FeatureSpec[] {
  return features.map((name) => {
    const c = table.columns.indexOf(name);
    const values = table.rows.map((r) => r[c]).filter((v): v is number => typeof v === 'number');
    // A loop, not Math.min(...values): spreading a long column overflows the stack.
    const lo = values.length ? values.reduce((a, b) => (b < a ? b : a)) : 0;
    const hi = values.length ? values.reduce((a, b) => (b > a ? b : a)) : 1;
    const binary = values.length > 0 && values.every((v) => v === 0 || v === 1);
    const range = plausibleRange(lo, hi);
    return {
      name,
      label: labelFromName(name),
      unit: '',
      min: binary ? 0 : range.min,
      max: binary ? 1 : range.max,
      kind: binary ? 'binary' : 'number',
    };
  });
}
