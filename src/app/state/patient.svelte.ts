/**
 * One person's record for one model: the form's text, where imported values came from, the
 * checks, and the private prediction. Values stay on this device; only ciphertexts are sent.
 */
import { mapFhirBundle, type FhirPatient, type FilledValue } from '../../core/data/fhir.ts';
import type { ModelCard } from '../../core/model/card.ts';
import { classLabel } from '../../core/model/reference.ts';
import { singleRegions } from '../../core/he/layout.ts';
import { planVariants, readExplanation, type Explanation } from '../../core/explain/index.ts';
import type { Prediction } from '../lib/he-bridge.ts';
import { ApiError } from '../lib/api.ts';
import { fieldText, readField } from '../lib/fields.ts';
import { recordFacts } from '../lib/history-facts.ts';
import { shortfallOf, type Shortfall } from '../lib/minimum.ts';
import type { QueuedPrediction } from '../lib/outbox.ts';
import { keysWords, type Phase } from '../lib/predict.ts';
import type { Sender } from '../lib/sender.ts';
import type { History } from './history.svelte.ts';
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
  /** What each value contributed and the what-ifs, decrypted from the same answer (absent for a queued one). */
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
    this.#running = true;
    this.#error = '';
    this.#result = undefined;
    this.#queued = undefined;
    const t0 = performance.now();
    // Without the service, the record is encrypted now and sent when the service is back.
    if (!navigator.onLine || this.#parts.catalog.status === 'offline') return this.#queue(record, imputed, inputs);
    try {
      // Variants of the record ride in the free regions of its one ciphertext (core/explain).
      const single = card.plans.single?.circuit.single;
      const variants = single ? planVariants(card, record, singleRegions(single, card.plans.single!.params.polyModulusDegree)) : undefined;
      const { predictions, key, regionScores } = await this.#parts.sender.predict(card, 'single', [record], {
        onProgress: (p) => (this.#progress = p.keyBytes ? `${keysWords(p.keyBytes)}. Making and sending them…` : PHASE_WORDS[p.phase]),
        ...(variants ? { variants: variants.plain.slice(1) } : {}),
      });
      this.#parts.keys.noteKey(key);
      const p = predictions[0]!;
      const label = classLabel(card.classes, p);
      const ms = performance.now() - t0;
      // Saved before it is shown: a result on screen is one a reload keeps in History.
      await this.#parts.history.add({
        modelId: card.id, modelTitle: card.title, source: this.#source, risk: p.risk, label,
        origin: this.#imported && this.#source === 'fhir' ? this.#imported.file : 'entered by hand', fingerprint: key.fingerprint,
        ...recordFacts(card, (name) => this.text(name), record, this.#imported?.patient),
      });
      const explanation = variants && regionScores ? readExplanation(variants, card.output, regionScores) : undefined;
      this.#result = { ...p, label, at: new Date().toISOString(), fingerprint: key.fingerprint, imputed, ms, ...(explanation ? { explanation } : {}) };
      this.#resultInputs = inputs;
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'network') return this.#queue(record, imputed, inputs);
      this.#error = `The prediction did not complete: ${(e as Error).message}`;
      return false;
    } finally {
      this.#running = false;
      this.#progress = '';
    }
  }

  async #queue(record: (number | null)[], imputed: string[], inputs: Record<string, string>): Promise<boolean> {
    this.#running = true;
    this.#progress = 'Encrypting on this device, to send when the service can be reached…';
    try {
      const origin = this.#imported && this.#source === 'fhir' ? this.#imported.file : 'entered by hand';
      this.#queued = await this.#parts.outbox.queue(this.card, record, { imputed, source: this.#source, origin });
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

  /** A queued prediction's answer, delivered when the service was reached again. */
  receive(entry: QueuedPrediction, prediction: Prediction): void {
    const mine = this.#queued?.id === entry.id;
    if (mine) this.#queued = undefined;
    this.#resultInputs = mine ? this.#queuedInputs : undefined;
    const label = classLabel(entry.classes, prediction);
    this.#result = { ...prediction, label, at: new Date().toISOString(), fingerprint: entry.fingerprint, imputed: entry.imputed, ms: Date.now() - Date.parse(entry.queuedAt), queuedAt: entry.queuedAt };
  }
}
