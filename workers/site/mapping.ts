/**
 * Which CSV column feeds each of a study's inputs. Hospitals name columns their own way
 * ("SBP (mmHg)" for systolic_bp): a feature or the label is matched to the column written alike
 * (letters and digits, case ignored) or named like the feature's label, and the person picks any
 * other. Pure functions: the page proposes a mapping, the site worker applies it.
 */
import type { TextTable } from '../../src/core/data/csv.ts';
import type { StudyManifest } from '../../src/core/federated/manifest.ts';

/** Feature (or label) name → the CSV column read for it. */
export type ColumnMapping = Record<string, string>;

const normal = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The study's inputs and its label, as the mapping names them. */
export function mappedNames(manifest: Pick<StudyManifest, 'features' | 'label'>): { name: string; label?: string }[] {
  return [...manifest.features.map((f) => ({ name: f.name, label: f.label })), { name: manifest.label }];
}

/** Proposes a column for each input the header has under the same name, written alike. */
export function proposeMapping(manifest: Pick<StudyManifest, 'features' | 'label'>, columns: readonly string[]): ColumnMapping {
  const mapping: ColumnMapping = {};
  for (const f of mappedNames(manifest)) {
    const column = columns.find((c) => normal(c) === normal(f.name)) ?? (f.label ? columns.find((c) => normal(c) === normal(f.label!)) : undefined);
    if (column) mapping[f.name] = column;
  }
  return mapping;
}

/**
 * The table with each mapped column renamed to its input's name (the rows untouched). A column
 * that bears an input's name but is not the one mapped to it is hidden, so the mapping decides.
 */
export function applyMapping(table: TextTable, manifest: Pick<StudyManifest, 'features' | 'label'>, mapping: ColumnMapping): TextTable {
  const rename = new Map<string, string>();
  for (const { name } of mappedNames(manifest)) {
    const column = mapping[name];
    if (column && table.columns.includes(column)) rename.set(column, name);
  }
  const taken = new Set(rename.values());
  const columns = table.columns.map((c) => rename.get(c) ?? (taken.has(c) ? `(not used) ${c}` : c));
  return { ...table, columns };
}
