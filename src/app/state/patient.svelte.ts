/**
 * One person's record for one model: the form's text, where imported values came from, the
 * checks, and the private prediction. Values stay on this device; only ciphertexts are sent.
 */
import { mapFhirBundle, type FhirPatient, type FilledValue } from '../../core/data/fhir.ts';
import { decimalPoint, readNumber } from '../../core/data/csv.ts';
import { fromModelUnit, toModelUnit } from '../../core/data/units.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { FeatureSpec } from '../../core/model/format.ts';
import { classLabel, type PlainRecord } from '../../core/model/reference.ts';
import { readExplanation, type Explanation, type VariantPlan } from '../../core/explain/index.ts';
import type { Prediction } from '../lib/he-bridge.ts';
import { ApiError } from '../lib/api.ts';
import { fieldText, readField } from '../lib/fields.ts';
import { answeredEntry, queuedFacts, recordFacts, type RecordFacts } from '../lib/history-facts.ts';
import { shortfallOf, type Shortfall } from '../lib/minimum.ts';
import type { QueuedPrediction } from '../lib/outbox.ts';
import { recordOf, variantsOf } from '../lib/requeue.ts';
import { keysWords, type Phase } from '../lib/predict.ts';
import type { Sender } from '../lib/sender.ts';
import type { EnteredValue, History } from './history.svelte.ts';
import type { ModelCatalog } from './catalog.svelte.ts';
import type { KeyRing } from './keys.svelte.ts';
import type { Outbox } from './outbox.svelte.ts';

/** What a patient's session works with: it is handed these, never the whole app. */
export interface PatientParts {
  sender: Pick<Sender, 'predict'>;
  history: Pick<History, 'add'>;
  keys: Pick<KeyRing, 'noteKey'>;
  /** Whether the service was reached (offline: the prediction is queued). */
  catalog: Pick<ModelCatalog, 'status'>;
  outbox: Pick<Outbox, 'queue'>;
}

export interface PatientResult extends Prediction {
  label: string;
  at: string;
  fingerprint: string;
  /** Labels of fields left blank, which the model filled with typical values. */
  imputed: string[];
  /** What each value contributed and the what-ifs, decrypted from the same answer (online or queued). */
  explanation?: Explanation;
  ms: number;
  /** When it was asked for, if it waited in the outbox for the service. */
  queuedAt?: string;
}

export interface ImportSummary {
  file: string;
  patient: FhirPatient;
  found: number;
  missing: string[];
  warnings: string[];
}

const PHASE_WORDS: Record<Phase, string> = {
  keys: 'Preparing your keys…',
  encrypting: 'Encrypting on this device…',
  evaluating: 'The service is computing on the encrypted record…',
  decrypting: 'Decrypting the answer on this device…',
  done: 'Done',
};

export class PatientSession {
  readonly card: ModelCard;
  readonly #parts: PatientParts;
  #text = $state<Record<string, string>>({});
  /**
   * Values typed in another unit than the model's (cholesterol in mmol/L): what was typed, in
   * which unit, and the record's text it was converted to once. Shown, and kept in History, while
   * the record still holds that value; an import or Clear puts the model's unit back.
   */
  #typedIn = $state<Record<string, { unit: string; text: string; modelText: string }>>({});
  #fills = $state.raw<Record<string, FilledValue>>({});
  #edited = $state<Record<string, boolean>>({});
  #imported = $state.raw<ImportSummary | undefined>();
  #importError = $state('');
  #running = $state(false);
  #progress = $state('');
  #result = $state.raw<PatientResult | undefined>();
  /** The form's text the result shown was computed from (undefined: not known, e.g. queued by another tab). */
  #resultInputs = $state.raw<Record<string, string> | undefined>();
  #queued = $state.raw<QueuedPrediction | undefined>();
  #queuedInputs: Record<string, string> | undefined;
  #error = $state('');
  #checked = $state(false);
  #source: 'form' | 'fhir' = 'form';

  constructor(parts: PatientParts, card: ModelCard) {
    this.#parts = parts;
    this.card = card;
  }

  text(name: string): string {
    return this.#text[name] ?? '';
  }
  /** A field as the form shows it: what was typed and its unit (the model's, unless another was chosen). */
  shown(spec: Pick<FeatureSpec, 'name' | 'unit'>): { text: string; unit: string } {
    const t = this.#typedIn[spec.name];
    return t && t.modelText === this.text(spec.name) ? { text: t.text, unit: t.unit } : { text: this.text(spec.name), unit: spec.unit };
  }
  /** The values as entered, for History and the printed result: in the model's unit, and as typed where another unit was chosen. */
  get entered(): EnteredValue[] {
    return this.card.features.map((f) => {
      const shown = this.shown(f);
      const entered = shown.unit !== f.unit ? { entered: { text: shown.text, unit: shown.unit } } : {};
      return { name: f.name, label: f.label, text: this.text(f.name), unit: f.unit, ...entered, ...(f.kind === 'binary' ? { binary: true } : {}) };
    });
  }
  fill(name: string): FilledValue | undefined {
    return this.#edited[name] ? undefined : this.#fills[name];
  }
  get imported() {
    return this.#imported;
  }
  get importError() {
    return this.#importError;
  }
  get running() {
    return this.#running;
  }
  get progress() {
    return this.#progress;
  }
  get result() {
    return this.#result;
  }
  /**
   * Labels of the fields whose text changed since the result shown was computed: non-empty means
   * the result is out of date (it is kept on screen, marked so, until the next prediction).
   */
  get changedSinceResult(): string[] {
    const inputs = this.#resultInputs;
    if (!this.#result || !inputs) return [];
    return this.card.features.filter((f) => (inputs[f.name] ?? '') !== this.text(f.name)).map((f) => f.label);
  }
  /** The prediction asked for last, while it waits in the outbox. */
  get queued() {
    return this.#queued;
  }
  get error() {
    return this.#error;
  }
  /** Errors are shown once the person tried to submit, or per field once typed into. */
  get checked() {
    return this.#checked;
  }

  /** Per-field problems, by feature name. */
  get problems(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.card.features) {
      const e = readField(f, this.text(f.name)).error;
      if (e) out[f.name] = e;
    }
    return out;
  }

  /** What the record lacks before this model may predict from it (undefined: nothing). */
  get shortfall(): Shortfall | undefined {
    return shortfallOf(this.card, this.card.features.map((f) => readField(f, this.text(f.name)).value));
  }

  setText(name: string, text: string): void {
    this.#text[name] = text;
    if (this.#fills[name]) this.#edited[name] = true;
  }

  /** Text typed into a field in the unit it shows: the record gets the value in the model's unit, converted here once. */
  typeValue(spec: FeatureSpec, text: string): void {
    const unit = this.shown(spec).unit;
    if (unit === spec.unit) {
      delete this.#typedIn[spec.name];
      this.setText(spec.name, text);
      return;
    }
    // The number converted (in range or not), or the text itself when it is no number (the check says why).
    const typed = readNumber(decimalPoint(text.trim()));
    const modelText = typeof typed === 'number' ? fieldText(toModelUnit(spec, typed, unit)) : text;
    this.#typedIn[spec.name] = { unit, text, modelText };
    this.setText(spec.name, modelText);
  }

  /** The unit a field is typed in: a value already there is shown in it; the record keeps the value it had. */
  chooseUnit(spec: FeatureSpec, unit: string): void {
    const value = readField(spec, this.text(spec.name)).value;
    const text = value === null ? this.text(spec.name) : String(Number(fromModelUnit(spec, value, unit).toFixed(2)));
    if (unit === spec.unit) delete this.#typedIn[spec.name];
    else this.#typedIn[spec.name] = { unit, text, modelText: this.text(spec.name) };
  }

  /** Reads a FHIR R4 Bundle file into the form, keeping each value's provenance. */
  async importFhir(file: File): Promise<void> {
    this.#importError = '';
    try {
      const json = JSON.parse(await file.text());
      const mapping = mapFhirBundle(json, this.card.features, { source: file.name });
      const text: Record<string, string> = {};
      const fills: Record<string, FilledValue> = {};
      for (const fill of mapping.fills) {
        text[fill.feature] = fieldText(fill.value);
        fills[fill.feature] = fill;
      }
      this.#text = text;
      this.#typedIn = {};
      this.#fills = fills;
      this.#edited = {};
      this.#source = 'fhir';
      this.#result = undefined;
      this.#resultInputs = undefined;
      const label = (name: string) => this.card.features.find((f) => f.name === name)?.label ?? name;
      this.#imported = {
        file: file.name,
        patient: mapping.patient,
        found: mapping.fills.filter((f) => f.status === 'found' || f.status === 'derived').length,
        missing: mapping.fills.filter((f) => f.status === 'missing').map((f) => label(f.feature)),
        warnings: mapping.warnings,
      };
    } catch (e) {
      // A failed import replaces what was there: no summary, values or result of an earlier file
      // stay beside the error, as if they came from this one.
      this.clear();
      this.#importError = e instanceof SyntaxError ? `${file.name} could not be read: it is not a JSON file, or it is cut short. A health record from a patient portal is a FHIR R4 Bundle in JSON.` : `${file.name} could not be read: ${(e as Error).message}`;
    }
  }

  clear(): void {
    this.#text = {};
    this.#typedIn = {};
    this.#fills = {};
    this.#edited = {};
    this.#imported = undefined;
    this.#importError = '';
    this.#result = undefined;
    this.#resultInputs = undefined;
    this.#error = '';
    this.#checked = false;
    this.#source = 'form';
  }

  /** Encrypts, sends, decrypts. Returns false (and shows why) when the form has problems. */
  async predict(): Promise<boolean> {
    this.#checked = true;
    if (Object.keys(this.problems).length > 0 || this.shortfall) return false;
    const card = this.card;
    const record = card.features.map((f) => readField(f, this.text(f.name)).value);
    const imputed = card.features.filter((_, i) => record[i] === null).map((f) => f.label);
    const inputs = Object.fromEntries(card.features.map((f) => [f.name, this.text(f.name)]));
    const origin = this.#imported && this.#source === 'fhir' ? this.#imported.file : 'entered by hand';
    const facts = recordFacts(card, { source: this.#source, origin }, this.entered, record, this.#imported?.patient);
    this.#error = '';
    // Variants of the record ride in the free regions of its one ciphertext (core/explain), online or queued.
    let variants: VariantPlan | undefined;
    try {
      variants = this.#variantsOf(record);
    } catch (e) {
      this.#error = `The prediction did not complete: ${(e as Error).message}`;
      return false;
    }
    this.#running = true;
    this.#result = undefined;
    this.#queued = undefined;
    const t0 = performance.now();
    // Without the service, the record is encrypted now and sent when the service is back.
    if (!navigator.onLine || this.#parts.catalog.status === 'offline') return this.#queue(record, imputed, inputs, facts, variants);
    try {
      const { predictions, key, regionScores } = await this.#parts.sender.predict(card, 'single', [record], {
        onProgress: (p) => (this.#progress = p.keyBytes ? `${keysWords(p.keyBytes)}. Making and sending them…` : PHASE_WORDS[p.phase]),
        ...(variants ? { variants: variants.plain.slice(1) } : {}),
      });
      this.#parts.keys.noteKey(key);
      const p = predictions[0]!;
      const label = classLabel(card.classes, p);
      const ms = performance.now() - t0;
      // Saved before it is shown: a result on screen is one a reload keeps in History.
      await this.#parts.history.add(answeredEntry(facts, card.classes, p, key.fingerprint));
      const explanation = variants && regionScores ? readExplanation(variants, card.output, regionScores) : undefined;
      this.#result = { ...p, label, at: new Date().toISOString(), fingerprint: key.fingerprint, imputed, ms, ...(explanation ? { explanation } : {}) };
      this.#resultInputs = inputs;
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'network') return this.#queue(record, imputed, inputs, facts, variants);
      this.#error = `The prediction did not complete: ${(e as Error).message}`;
      return false;
    } finally {
      this.#running = false;
      this.#progress = '';
    }
  }

  /** The variants that fit in the free regions of the single plan's one ciphertext (none without a single plan). */
  #variantsOf(record: PlainRecord): VariantPlan | undefined {
    return variantsOf(this.card, record);
  }

  async #queue(record: PlainRecord, imputed: string[], inputs: Record<string, string>, facts: RecordFacts, variants: VariantPlan | undefined): Promise<boolean> {
    this.#running = true;
    this.#progress = 'Encrypting on this device, to send when the service can be reached…';
    try {
      const meta = { imputed, source: this.#source, origin: facts.origin, facts: queuedFacts(facts) };
      this.#queued = await this.#parts.outbox.queue(this.card, record, meta, variants ? { variants: variants.plain.slice(1) } : {});
      this.#queuedInputs = inputs;
      return true;
    } catch (e) {
      this.#error = `The prediction could not be queued: ${(e as Error).message}`;
      return false;
    } finally {
      this.#running = false;
      this.#progress = '';
    }
  }

  /**
   * A queued prediction's answer, delivered when the service was reached again, with its
   * explanation read from the variants that rode in its ciphertext: planned again from the values
   * kept for its History entry (the same card, so the same plan; checked by the region count).
   */
  receive(entry: QueuedPrediction, prediction: Prediction, regionScores?: number[]): void {
    const mine = this.#queued?.id === entry.id;
    if (mine) this.#queued = undefined;
    this.#resultInputs = mine ? this.#queuedInputs : undefined;
    const label = classLabel(entry.classes, prediction);
    const explanation = this.#explanationOf(entry, regionScores);
    this.#result = {
      ...prediction, label, at: new Date().toISOString(), fingerprint: entry.fingerprint, imputed: entry.imputed,
      ms: Date.now() - Date.parse(entry.queuedAt), queuedAt: entry.queuedAt, ...(explanation ? { explanation } : {}),
    };
  }

  #explanationOf(entry: QueuedPrediction, regionScores: number[] | undefined): Explanation | undefined {
    const inputs = entry.facts?.inputs;
    if (!regionScores || !inputs || entry.plan.modelHash !== this.card.modelHash) return undefined;
    const variants = this.#variantsOf(recordOf(this.card, inputs));
    if (!variants || variants.records.length !== 1 + (entry.variants ?? 0)) return undefined;
    return readExplanation(variants, this.card.output, regionScores);
  }
}
