/**
 * What a History entry holds, made in one place for the patient, outbox and Clinic flows. A single
 * prediction's entry is made in two steps: its facts when the record is encrypted (the model, its
 * hash, the words its risk is told in, the values as entered with their units, any applicability
 * warning), then the answer when it is decrypted — at once online, or later for one that waited
 * in the outbox. Both flows go through `answeredEntry`, so their entries hold the same fields.
 */
import type { FhirPatient } from '../../core/data/fhir.ts';
import type { ModelCard } from '../../core/model/card.ts';
import { classLabel } from '../../core/model/reference.ts';
import type { EnteredValue, HistoryEntry } from '../state/history.svelte.ts';
import { recordWarning } from './applicability.ts';
import type { Prediction } from './he-bridge.ts';
import { cardOutcome } from './outcomes.ts';

type Card = Pick<ModelCard, 'id' | 'title' | 'classes' | 'outcome' | 'modelHash' | 'features' | 'population'>;

/** A single prediction's entry before its answer is known. */
export type RecordFacts = Pick<HistoryEntry, 'modelId' | 'modelTitle' | 'source' | 'origin' | 'modelHash' | 'outcome' | 'inputs' | 'warning'>;

/** What a queued prediction keeps of its facts beside the model and origin it holds itself. */
export type QueuedFacts = Omit<RecordFacts, 'modelId' | 'modelTitle' | 'source' | 'origin'>;

/** A record's facts split into what the outbox entry holds anyway and the rest. */
export function queuedFacts({ modelId: _id, modelTitle: _title, source: _source, origin: _origin, ...rest }: RecordFacts): QueuedFacts {
  return rest;
}

/** For a batch: the model and the words. */
export function batchFacts(card: Pick<Card, 'id' | 'classes' | 'outcome' | 'modelHash'>): Pick<HistoryEntry, 'modelHash' | 'outcome'> {
  return { modelHash: card.modelHash, outcome: cardOutcome(card) };
}

/**
 * For one record: `inputs` are the values as the person entered them (the text in the model's
 * unit, and what was typed when another unit was chosen); `record` the values the model reads.
 */
export function recordFacts(
  card: Card,
  from: Pick<HistoryEntry, 'source' | 'origin'>,
  inputs: readonly EnteredValue[],
  record: readonly (number | null)[],
  patient?: FhirPatient,
): RecordFacts {
  const warning = recordWarning(card, record, patient);
  return { modelId: card.id, modelTitle: card.title, ...from, ...batchFacts(card), inputs: inputs.map((v) => ({ ...v })), ...(warning ? { warning } : {}) };
}

/** The entry of a single prediction, answered: `queuedAt` when it waited in the outbox. */
export function answeredEntry(facts: RecordFacts, classes: readonly [string, string], prediction: Prediction, fingerprint: string, queuedAt?: string): Omit<HistoryEntry, 'id' | 'at'> {
  return { ...facts, risk: prediction.risk, label: classLabel(classes, prediction), fingerprint, ...(queuedAt ? { queuedAt } : {}) };
}
