/**
 * The applicability check as the app runs it: the person a form (and the record it was imported
 * from) describes, checked against the population the model's card declares.
 */
import { ageInYears, type FhirPatient } from '../../core/data/fhir.ts';
import { applicabilityWarning, checkApplicability, personOf, type Person } from '../../core/model/applicability.ts';
import type { ModelCard } from '../../core/model/card.ts';

/** The person in a record: the form's values first, then the imported Patient's gender and age. */
export function personInRecord(card: Pick<ModelCard, 'features'>, values: readonly (number | null)[], patient?: FhirPatient): Person {
  const age = patient?.birthDate ? ageInYears(patient.birthDate, new Date()) : undefined;
  return personOf(card.features, values, { gender: patient?.gender, age });
}

/** The warning for a record, or undefined when it is of someone like the people the model learned from. */
export function recordWarning(card: Pick<ModelCard, 'features' | 'population'>, values: readonly (number | null)[], patient?: FhirPatient): string | undefined {
  return applicabilityWarning(card.population, personInRecord(card, values, patient));
}

/** How many rows of a batch are of people unlike those the model learned from, and why, most common first. */
export function batchOutside(card: Pick<ModelCard, 'features' | 'population'>, records: readonly (readonly (number | null)[])[]): { rows: number; reasons: { reason: string; rows: number }[] } {
  const counts = new Map<string, number>();
  let rows = 0;
  for (const values of records) {
    const { fits, outside } = checkApplicability(card.population, personOf(card.features, values));
    if (fits) continue;
    rows++;
    for (const reason of outside) {
      // "this record gives age 25, younger than anyone it learned from (32)" → "younger than 32"; "… of a man" → "men"
      const key = reason.replace(/^this record gives age [\d.]+, (younger|older) than anyone it learned from \(([\d.]+)\)$/, '$1 than $2').replace(/^this record is of a man$/, 'men').replace(/^this record is of a woman$/, 'women');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return { rows, reasons: [...counts].map(([reason, n]) => ({ reason, rows: n })).sort((a, b) => b.rows - a.rows) };
}
