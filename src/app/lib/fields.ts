/**
 * A model card's features as form fields: units people read, ranges in words, and the check a
 * typed value must pass, with a message that says what to do.
 */
import type { FeatureSpec } from '../../core/model/format.ts';
import { decimalPoint, readNumber } from '../../core/data/csv.ts';
import { fromModelUnit, toModelUnit } from '../../core/data/units.ts';

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

/** A limit in another unit, to 2 significant decimals: "2.6" mmol/L for 100 mg/dL. */
const inUnit = (spec: FeatureSpec, v: number, unit: string) => (unit === spec.unit ? number(v) : String(Number(fromModelUnit(spec, v, unit).toFixed(1))));

/** "18 to 110 years", "0 or 1"; in `unit` when the value is entered in another unit than the model's. */
export function rangeText(spec: FeatureSpec, unit = spec.unit): string {
  if (spec.kind === 'binary') return 'yes or no';
  const u = displayUnit(unit);
  return `${inUnit(spec, spec.min, unit)} to ${inUnit(spec, spec.max, unit)}${u ? ` ${u}` : ''}`;
}

export interface FieldValue {
  value: number | null;
  /** What is wrong, as a sentence; absent when the text is a usable value or empty. */
  error?: string;
}

/**
 * Reads a field's text: '' is "not known" (the model imputes it); otherwise a number in range.
 * `unit` is the unit the person chose (mmol/L for cholesterol, say): the value is converted to
 * the model's unit here, once, and the range is checked there but told in the chosen unit.
 */
export function readField(spec: FeatureSpec, text: string, unit = spec.unit): FieldValue {
  const t = decimalPoint(text.trim());
  if (t === '') return { value: null };
  const typed = readNumber(t);
  if (typed === undefined || typed === null) return { value: null, error: `${spec.label} must be a number, like ${inUnit(spec, spec.min, unit)}.` };
  if (spec.kind === 'binary' && typed !== 0 && typed !== 1) return { value: null, error: `${spec.label} must be yes or no.` };
  const v = toModelUnit(spec, typed, unit);
  if (v < spec.min || v > spec.max) {
    const u = displayUnit(unit);
    return { value: null, error: `${spec.label} must be from ${rangeText(spec, unit)}; ${number(typed)}${u ? ` ${u}` : ''} is outside that range.` };
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
