/**
 * A queued prediction outlives the plan it was encrypted for: a new version of the service may
 * serve its model under another encryption plan (new parameters, a new circuit) while it waits,
 * and the service then refuses the old ciphertext. The values as entered are kept with the entry
 * (for its History entry), so the record is read from them again, exactly as the form read it,
 * and encrypted under the model's current plan, with its explanation's variants planned again.
 * An entry without its values (queued by an early version) is kept and says in words that the
 * prediction must be made again: never lost silently.
 */
import { planVariants, type VariantPlan } from '../../core/explain/index.ts';
import { PLAN_VERSION, type HePlan } from '../../core/he/plan.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { PlainRecord } from '../../core/model/reference.ts';
import { readField } from './fields.ts';
import type { QueuedPrediction } from './outbox.ts';
import type { EnteredValue } from './stored.ts';

/** The record a model reads from values as entered: each text in the model's unit, a blank one (or one missing) a typical value. */
export function recordOf(card: Pick<ModelCard, 'features'>, inputs: readonly EnteredValue[]): PlainRecord {
  const textOf = new Map(inputs.map((v) => [v.name, v.text]));
  return card.features.map((f) => readField(f, textOf.get(f.name) ?? '').value);
}

/** How many records a single plan's one ciphertext carries (its regions): the record and its variants. */
export function regionsOf(plan: Pick<HePlan, 'circuit'>): number {
  return plan.circuit.layout === 'single' ? plan.circuit.regions : 1;
}

/** The variants of a record that fit in the free regions of the card's single plan (none without one). */
export function variantsOf(card: ModelCard, record: PlainRecord): VariantPlan | undefined {
  const plan = card.plans.single;
  return plan ? planVariants(card, record, regionsOf(plan)) : undefined;
}

/** A plan in the format this version reads (an earlier version's entry may hold an older one). */
export const isCurrentFormat = (plan: Pick<HePlan, 'version'>): boolean => plan.version === PLAN_VERSION;

/** What to do with a queued prediction before it is sent, given its model's card as the service now describes it. */
export type Renewal =
  | { status: 'current' }
  | { status: 'renew'; card: ModelCard; record: PlainRecord; variants?: readonly PlainRecord[] }
  /** Its model's card is not known yet (the service was not reached): try again later. */
  | { status: 'wait'; message: string }
  /** It can never be sent; the person is told why. */
  | { status: 'failed'; message: string };

const MODEL_CHANGED = 'the model changed or was removed while this prediction waited; make it again';
const VALUES_LOST = 'the service now encrypts this model\'s predictions differently, and this prediction was queued by an earlier version of the app that did not keep its values to encrypt them again; make it again';

/**
 * Whether a queued prediction can go as it is, must be encrypted again under its model's current
 * plan, must wait for the card, or can never be sent. `catalogOnline`: the cards came from the
 * service now, every one it serves (a model missing from them is no longer offered).
 */
export function renewalOf(entry: Pick<QueuedPrediction, 'plan' | 'modelId' | 'facts'>, card: ModelCard | undefined, catalogOnline: boolean): Renewal {
  const current = isCurrentFormat(entry.plan);
  if (!card) {
    // A plan this version reads goes as it is: the service says whether it still serves it.
    if (current) return { status: 'current' };
    return catalogOnline ? { status: 'failed', message: MODEL_CHANGED } : { status: 'wait', message: 'this prediction must be encrypted again for the service\'s new encryption plan, which needs the model\'s description from the service' };
  }
  const plan = card.plans.single;
  if (current && plan?.hash === entry.plan.hash) return { status: 'current' };
  if (!plan || card.modelHash !== entry.plan.modelHash) return { status: 'failed', message: MODEL_CHANGED };
  const inputs = entry.facts?.inputs;
  if (!inputs) return { status: 'failed', message: VALUES_LOST };
  const record = recordOf(card, inputs);
  const variants = variantsOf(card, record)?.plain.slice(1);
  return { status: 'renew', card, record, ...(variants?.length ? { variants } : {}) };
}
