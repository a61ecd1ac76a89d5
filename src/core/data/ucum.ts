/**
 * The few UCUM units clinical records use for the values our models read, and conversion
 * between them. Not a general UCUM parser: a unit is known here or the conversion is refused
 * with a reason, so a value is never silently read in the wrong unit.
 *
 * Mass and molar concentrations convert into each other only with the analyte's molar mass
 * (glucose 180.16 g/mol: 1 mmol/L = 18.016 mg/dL; cholesterol 386.65 g/mol: 1 mmol/L = 38.67 mg/dL).
 */

type Dimension = 'mass/volume' | 'substance/volume' | 'activity/volume' | 'pressure' | 'per-time' | 'mass/area' | 'time' | 'count/time' | 'one';

interface UnitInfo {
  dimension: Dimension;
  /** Factor to the dimension's base: g/L, mol/L, U/L, mm[Hg], /min, kg/m2, a (year), /d, 1. */
  factor: number;
}

const MASS: Record<string, number> = { g: 1, mg: 1e-3, ug: 1e-6, ng: 1e-9 };
const SUBSTANCE: Record<string, number> = { mol: 1, mmol: 1e-3, umol: 1e-6, nmol: 1e-9 };
const VOLUME: Record<string, number> = { L: 1, dL: 0.1, mL: 1e-3, l: 1, dl: 0.1, ml: 1e-3 };

const SIMPLE: Record<string, UnitInfo> = {
  'mm[Hg]': { dimension: 'pressure', factor: 1 },
  mmHg: { dimension: 'pressure', factor: 1 },
  kPa: { dimension: 'pressure', factor: 7.500617 },
  '/min': { dimension: 'per-time', factor: 1 },
  '/s': { dimension: 'per-time', factor: 60 },
  '/h': { dimension: 'per-time', factor: 1 / 60 },
  'kg/m2': { dimension: 'mass/area', factor: 1 },
  'kg/m^2': { dimension: 'mass/area', factor: 1 },
  a: { dimension: 'time', factor: 1 },
  years: { dimension: 'time', factor: 1 },
  mo: { dimension: 'time', factor: 1 / 12 },
  'U/L': { dimension: 'activity/volume', factor: 1 },
  '[IU]/L': { dimension: 'activity/volume', factor: 1 },
  'IU/L': { dimension: 'activity/volume', factor: 1 },
  'U/mL': { dimension: 'activity/volume', factor: 1000 },
  '/d': { dimension: 'count/time', factor: 1 },
  '/wk': { dimension: 'count/time', factor: 1 / 7 },
  '': { dimension: 'one', factor: 1 },
  '1': { dimension: 'one', factor: 1 },
};

/** Drops UCUM annotations ({beats}/min → /min, {cigarettes}/d → /d) and spaces. */
export function normalizeUnit(unit: string): string {
  let u = unit.replace(/\{[^}]*\}/g, '').replace(/\s+/g, '');
  if (u.startsWith('1/')) u = u.slice(1);
  if (u.startsWith('μ') || u.startsWith('µ')) u = 'u' + u.slice(1);
  return u;
}

/** What a unit measures and its factor to the base unit, or undefined for units not known here. */
export function unitInfo(unit: string): UnitInfo | undefined {
  const u = normalizeUnit(unit);
  const simple = SIMPLE[u];
  if (simple) return simple;
  const slash = u.indexOf('/');
  if (slash <= 0) return undefined;
  const num = u.slice(0, slash);
  const den = u.slice(slash + 1);
  const v = VOLUME[den];
  if (v === undefined) return undefined;
  if (MASS[num] !== undefined) return { dimension: 'mass/volume', factor: MASS[num]! / v };
  if (SUBSTANCE[num] !== undefined) return { dimension: 'substance/volume', factor: SUBSTANCE[num]! / v };
  return undefined;
}

export type Conversion = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Converts `value` from one unit to another. `molarMass` (g/mol) lets mass and molar
 * concentrations convert into each other; without it that conversion is refused.
 */
export function convertUnit(value: number, from: string, to: string, molarMass?: number): Conversion {
  if (normalizeUnit(from) === normalizeUnit(to)) return { ok: true, value };
  const a = unitInfo(from);
  const b = unitInfo(to);
  if (!a) return { ok: false, reason: `the unit "${from}" is not one this app can convert` };
  if (!b) return { ok: false, reason: `the unit "${to}" is not one this app can convert` };
  if (a.dimension === b.dimension) return { ok: true, value: (value * a.factor) / b.factor };
  const molar = new Set([a.dimension, b.dimension]);
  if (molar.has('mass/volume') && molar.has('substance/volume')) {
    if (!molarMass) return { ok: false, reason: `converting "${from}" to "${to}" needs the substance's molar mass` };
    const base = value * a.factor; // g/L or mol/L
    const converted = a.dimension === 'substance/volume' ? base * molarMass : base / molarMass;
    return { ok: true, value: converted / b.factor };
  }
  return { ok: false, reason: `"${from}" and "${to}" measure different things` };
}
