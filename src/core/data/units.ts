/**
 * Units people may choose for a lab value where clinics differ: cholesterol and glucose in
 * mg/dL (the models' unit, as in their training data) or mmol/L (SI, as most of Europe reports
 * them). A value is converted into the model's unit exactly once, where it is read (form field,
 * CSV cell, FHIR Observation), and only then checked against the range and quantized.
 *
 * Factors (mg/dL per mmol/L), the conventional clinical ones:
 * - cholesterol 38.67: NCEP Adult Treatment Panel III, Third Report, NIH Publication 02-5215
 *   (2002), "to convert cholesterol from mg/dL to mmol/L multiply by 0.02586" (1/0.02586 = 38.67);
 *   the molar mass of cholesterol, C27H46O, is 386.65 g/mol.
 * - glucose 18.016: the molar mass of glucose, C6H12O6, 180.16 g/mol (IUPAC standard atomic
 *   weights), i.e. 1 mmol/L = 180.16 mg/L = 18.016 mg/dL.
 */
import type { FeatureSpec } from '../model/format.ts';

export type Analyte = 'cholesterol' | 'glucose';

/** mg/dL per mmol/L. */
export const MG_DL_PER_MMOL_L: Record<Analyte, number> = { cholesterol: 38.67, glucose: 18.016 };

/** Molar masses (g/mol) that give exactly those factors, for conversions by molar mass (FHIR). */
export const MOLAR_MASS_OF: Record<Analyte, number> = { cholesterol: 386.7, glucose: 180.16 };

export const MMOL_L = 'mmol/L';
export const MG_DL = 'mg/dL';

/** The analyte a feature measures in mg/dL, if it is one whose unit clinics differ on. */
export function analyteOf(feature: Pick<FeatureSpec, 'name' | 'unit'>): Analyte | undefined {
  if (feature.unit !== MG_DL) return undefined;
  if (/cholesterol/i.test(feature.name)) return 'cholesterol';
  if (/glucose/i.test(feature.name)) return 'glucose';
  return undefined;
}

/** The units a feature's value may be entered in: its own first; one entry if there is no choice. */
export function unitChoices(feature: Pick<FeatureSpec, 'name' | 'unit'>): string[] {
  return analyteOf(feature) ? [MG_DL, MMOL_L] : [feature.unit];
}

/** True when `unit` is one the feature's value may be given in. */
export function acceptsUnit(feature: Pick<FeatureSpec, 'name' | 'unit'>, unit: string): boolean {
  return unitChoices(feature).some((u) => u.toLowerCase() === unit.toLowerCase());
}

/** A value given in `unit` as the model's unit (mg/dL). The one conversion on the way in. */
export function toModelUnit(feature: Pick<FeatureSpec, 'name' | 'unit'>, value: number, unit: string): number {
  const analyte = analyteOf(feature);
  if (!analyte || unit.toLowerCase() === feature.unit.toLowerCase()) return value;
  if (unit.toLowerCase() !== MMOL_L.toLowerCase()) throw new Error(`${feature.name} cannot be given in ${unit}`);
  return value * MG_DL_PER_MMOL_L[analyte];
}

/** A value in the model's unit as `unit`: for showing a range or an imported value in the chosen unit. */
export function fromModelUnit(feature: Pick<FeatureSpec, 'name' | 'unit'>, value: number, unit: string): number {
  const analyte = analyteOf(feature);
  if (!analyte || unit.toLowerCase() === feature.unit.toLowerCase()) return value;
  return value / MG_DL_PER_MMOL_L[analyte];
}

/**
 * The column holding a feature in a CSV header, and the unit its values are in: the feature's
 * own name (its model unit), or the name with a unit suffix, `total_cholesterol_mmol_l`,
 * `total_cholesterol (mmol/L)` or `total_cholesterol [mmol/L]`.
 */
export function findColumn(columns: readonly string[], feature: Pick<FeatureSpec, 'name' | 'unit'>): { index: number; unit: string } | undefined {
  const exact = columns.indexOf(feature.name);
  if (exact >= 0) return { index: exact, unit: feature.unit };
  for (const unit of unitChoices(feature)) {
    const slug = unit.toLowerCase().replace(/\W+/g, '_');
    const names = [`${feature.name}_${slug}`, `${feature.name} (${unit})`, `${feature.name} [${unit}]`, `${feature.name}[${unit}]`].map((n) => n.toLowerCase());
    const index = columns.findIndex((c) => names.includes(c.trim().toLowerCase()));
    if (index >= 0) return { index, unit };
  }
  return undefined;
}
