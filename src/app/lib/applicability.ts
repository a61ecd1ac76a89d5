/**
 * The applicability check as the app runs it: the person a form (and the record it was imported
 * from) describes, checked against the population the model's card declares.
 */
import { ageInYears, type FhirPatient } from '../../core/data/fhir.ts';
import { applicabilityWarning, personOf, type Person } from '../../core/model/applicability.ts';
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
