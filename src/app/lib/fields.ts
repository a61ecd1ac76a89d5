/**
 * A model card's features as form fields: units people read, ranges in words, and the check a
 * typed value must pass, with a message that says what to do.
 */
import type { FeatureSpec } from '../../core/model/format.ts';
import { decimalPoint, readNumber } from '../../core/data/csv.ts';

const UNIT_WORDS: Record<string, string> = {
  'mm[Hg]': 'mmHg',
  'kg/m2': 'kg/m²',
  '/min': 'per minute',
  '/d': 'per day',
  'u[IU]/mL': 'µIU/mL',
};

/** A UCUM unit as people write it. */
export function displayUnit(unit: string): string {
  return UNIT_WORDS[unit] ?? unit;
}

const number = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));

/** "18 to 110 years", "0 or 1" */
export function rangeText(spec: FeatureSpec): string {
  if (spec.kind === 'binary') return 'yes or no';
  const u = displayUnit(spec.unit);
  return `${number(spec.min)} to ${number(spec.max)}${u ? ` ${u}` : ''}`;
}

export interface FieldValue {
  value: number | null;
  /** What is wrong, as a sentence; absent when the text is a usable value or empty. */
  error?: string;
}

/** Reads a field's text: '' is "not known" (the model imputes it); otherwise a number in range. */
export function readField(spec: FeatureSpec, text: string): FieldValue {
  const t = decimalPoint(text.trim());
  if (t === '') return { value: null };
  const v = readNumber(t);
  if (v === undefined || v === null) return { value: null, error: `${spec.label} must be a number, like ${number(spec.min)}.` };
  if (spec.kind === 'binary' && v !== 0 && v !== 1) return { value: null, error: `${spec.label} must be yes or no.` };
  if (v < spec.min || v > spec.max) {
    const u = displayUnit(spec.unit);
    return { value: null, error: `${spec.label} must be from ${rangeText(spec)}; ${number(v)}${u ? ` ${u}` : ''} is outside that range.` };
  }
  return { value: v };
}

/** A value as the form shows it. */
export function fieldText(value: number | null): string {
  return value === null ? '' : number(value);
}

/** Writes the UCUM units in a message as people read them ("mm[Hg]" → "mmHg"). */
export function humanUnits(text: string): string {
  return text.replace(/(?<=\d) (mm\[Hg\]|kg\/m2|\/min|\/d|u\[IU\]\/mL)(?=\W|$)/g, (_, u: string) => ` ${displayUnit(u)}`);
}
