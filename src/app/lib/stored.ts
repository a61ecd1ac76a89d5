/**
 * What the page reads from the edge — IndexedDB records written by an earlier version of the
 * app (or damaged), and the model cards the service sends — checked against versioned schemas
 * before anything uses it. A record that does not match is dropped with a notice in plain
 * words; it never stops the app.
 */
import { z } from 'zod';
import { OutcomeSchema, MinimumSchema, PopulationSchema } from '../../core/model/about.ts';
import { CARD_FORMAT, CARD_VERSION, type ModelCard } from '../../core/model/card.ts';
import { FeatureSpecSchema, InputQuantizationSchema } from '../../core/model/format.ts';
import { parsePlan, PLAN_VERSION } from '../../core/he/plan.ts';

/** Where a dropped record is told about (the app shows these to the person). */
export type DropNotice = (words: string) => void;

/** Bytes as IndexedDB gives them back (a Uint8Array, or an ArrayBuffer from an older write). */
const bytes = z.union([z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'not bytes'), z.instanceof(ArrayBuffer).transform((b) => new Uint8Array(b))]);
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

/** A plan as the card carries it, its hash checked (the worker checks it again before use). */
const PlanSchema = z.looseObject({ hash: z.string() }).superRefine((plan, ctx) => {
  try {
    parsePlan(plan);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

/**
 * A model card as the service sends it. Fields this version does not know are kept (a newer
 * service may add some); the ones it uses must be there and well formed.
 */
export const CardSchema = z.looseObject({
  format: z.literal(CARD_FORMAT),
  version: z.literal(CARD_VERSION),
  id: z.string().min(1),
  title: z.string().min(1),
  description: z.string(),
  modelHash: z.string().min(1),
  classes: z.tuple([z.string(), z.string()]),
  features: z.array(FeatureSpecSchema).min(1),
  input: InputQuantizationSchema,
  output: z.looseObject({ scale: z.number(), bias: z.number(), prior: z.number().gt(0).lt(1).optional() }),
  missingAsZero: z.array(z.string()),
  metrics: z.record(z.string(), z.unknown()).optional(),
  outcome: OutcomeSchema.optional(),
  minimum: MinimumSchema.optional(),
  population: PopulationSchema.optional(),
  plans: z.looseObject({ single: PlanSchema.optional(), batch: PlanSchema.optional() }),
});

/**
 * A plan of an earlier format, as a prediction queued by an earlier version holds it: not
 * checked further (this version cannot use it), kept so that the prediction is encrypted again
 * under its model's current plan (lib/requeue.ts) instead of being set aside.
 */
const EarlierPlanSchema = z.looseObject({ hash: z.string(), modelHash: z.string(), version: z.number().int().min(1).max(PLAN_VERSION - 1) });

/** The cards kept on this device for offline use. */
export const SavedCardsSchema = z.object({
  v: z.literal(1).default(1),
  savedAt: isoDate,
  cards: z.array(z.unknown()),
});

/**
 * Evaluation keys made for a key pair and plan (public keys: about 65 KB for a single plan,
 * 140 KB for a batch plan), kept with the
 * service's expiry: sent when a prediction first needs them, and sent again, unchanged, when
 * the service has forgotten them — so a request encrypted earlier stays valid.
 */
export const RegistrationSchema = z.object({
  v: z.literal(1),
  keyId: z.string().min(1),
  planHash: z.string().min(1),
  fingerprint: z.string().min(1),
  createdAt: isoDate,
  body: bytes,
  contentHash: z.string(),
  contentBytes: z.number().int().min(0),
  /** When the service last confirmed them; absent until sent. */
  expiresAt: isoDate.optional(),
});
export type Registration = z.infer<typeof RegistrationSchema>;

/** One value as the person entered it (or an import filled it), as History and the outbox keep it. */
const EnteredValueSchema = z.object({
  /** Feature name, its label, the value's text in the model's unit ('' = left blank, a typical value was used). */
  name: z.string(),
  label: z.string(),
  text: z.string(),
  /** The model's unit, which `text` is in ('' for counts and yes/no). */
  unit: z.string(),
  /** What the person typed, when they chose another unit than the model's (cholesterol in mmol/L): shown back so. */
  entered: z.object({ text: z.string(), unit: z.string() }).optional(),
  /** A yes/no value, whose text is 1 or 0. */
  binary: z.boolean().optional(),
});
export type EnteredValue = z.infer<typeof EnteredValueSchema>;

/**
 * A prediction waiting to be sent. The record and its variants (the explanation's, packed in the
 * same ciphertext) exist only as ciphertext; beside it waits what its History entry will say
 * (lib/history-facts.ts), values as entered included, as History keeps them on this device.
 */
export const QueuedPredictionSchema = z.object({
  /** Version 1 was written without the field. */
  v: z.literal(1).default(1),
  /** Also the idempotency key and the history entry's id. */
  id: z.string().min(1),
  queuedAt: isoDate,
  modelId: z.string().min(1),
  modelTitle: z.string(),
  plan: z.union([PlanSchema, EarlierPlanSchema]),
  output: z.looseObject({ scale: z.number(), bias: z.number(), prior: z.number().gt(0).lt(1).optional() }),
  classes: z.tuple([z.string(), z.string()]),
  keyId: z.string().min(1),
  fingerprint: z.string().min(1),
  /** The classify message (MessagePack). */
  body: bytes,
  contentHash: z.string(),
  contentBytes: z.number().int().min(0),
  /** Labels of fields left blank (the model used typical values). */
  imputed: z.array(z.string()),
  source: z.enum(['form', 'fhir']),
  origin: z.string(),
  /**
   * Its History entry before the answer, beyond the model and origin above (predictions queued
   * by earlier versions lack it, or repeat those fields in it).
   */
  facts: z.looseObject({ modelHash: z.string().optional(), inputs: z.array(EnteredValueSchema).optional(), warning: z.string().optional() }).optional(),
  /** How many variants of the record ride in its ciphertext (core/explain), read back with its answer. */
  variants: z.number().int().min(0).optional(),
  attempts: z.number().int().min(0),
  /** Set when sending failed for good (the model changed meanwhile): the person is told. */
  failed: z.string().optional(),
});

/**
 * A past prediction as the History screen reads it: the fields it cannot show an entry without
 * are checked; the others are kept as they are (History's own type says what they hold). Entries
 * saved before the shown risk was called `risk` hold it as `probability`: read as `risk`.
 */
export const HistoryEntrySchema = z.looseObject({
  id: z.string().min(1),
  at: isoDate,
  modelId: z.string(),
  modelTitle: z.string(),
  source: z.enum(['form', 'fhir', 'csv']),
  origin: z.string(),
  fingerprint: z.string(),
  risk: z.number().min(0).max(1).optional(),
  probability: z.number().min(0).max(1).optional(),
  label: z.string().optional(),
  rows: z.number().int().min(0).optional(),
  positives: z.number().int().min(0).optional(),
}).transform(({ probability, ...entry }) => (probability !== undefined && entry.risk === undefined ? { ...entry, risk: probability } : entry));

/** The values that match `schema`; each one that does not is reported through `drop` (`what` names it in words). */
export function validRecords<S extends z.ZodType>(schema: S, values: readonly unknown[], what: (value: unknown) => string, drop: DropNotice): z.output<S>[] {
  const out: z.output<S>[] = [];
  for (const value of values) {
    const parsed = schema.safeParse(value);
    if (parsed.success) out.push(parsed.data);
    else drop(`${what(value)} was stored by an earlier or damaged version of this app and could not be read, so it was set aside.`);
  }
  return out;
}

/** The cards the service sent that this app can use; each one it cannot is told about. */
export function validCards(cards: readonly unknown[], drop: DropNotice): ModelCard[] {
  const out: ModelCard[] = [];
  for (const card of cards) {
    // Checked, then kept as sent: nested fields this version does not know stay for those that do.
    if (CardSchema.safeParse(card).success) out.push(card as ModelCard);
    else {
      const id = (card as { title?: unknown; id?: unknown } | null)?.title ?? (card as { id?: unknown } | null)?.id;
      drop(`The description of the model ${typeof id === 'string' ? `"${id}"` : 'sent by the service'} could not be read by this version of the app, so that model is not offered.`);
    }
  }
  return out;
}
