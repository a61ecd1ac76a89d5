/**
 * What a History entry keeps beside its risk, made in one place for the patient, outbox and
 * Clinic flows: the model's hash, the words its risk was told in, and for one record the values
 * as entered (with their units) and any applicability warning shown with it.
 */
import type { FhirPatient } from '../../core/data/fhir.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { EnteredValue, HistoryEntry } from '../state/history.svelte.ts';
import { recordWarning } from './applicability.ts';
import { cardOutcome } from './outcomes.ts';

type Card = Pick<ModelCard, 'id' | 'classes' | 'outcome' | 'modelHash' | 'features' | 'population'>;

/** For a batch: the model and the words. */
export function batchFacts(card: Card): Pick<HistoryEntry, 'modelHash' | 'outcome'> {
  return { modelHash: card.modelHash, outcome: cardOutcome(card) };
}

/** For one record: `textOf` gives a feature's text as the form holds it (in the model's unit). */
export function recordFacts(card: Card, textOf: (name: string) => string, record: readonly (number | null)[], patient?: FhirPatient): Pick<HistoryEntry, 'modelHash' | 'outcome' | 'inputs' | 'warning'> {
  const inputs: EnteredValue[] = card.features.map((f) => ({ name: f.name, label: f.label, text: textOf(f.name), unit: f.unit, ...(f.kind === 'binary' ? { binary: true } : {}) }));
  const warning = recordWarning(card, record, patient);
  return { ...batchFacts(card), inputs, ...(warning ? { warning } : {}) };
}
