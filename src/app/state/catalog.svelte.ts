/**
 * The model cards the service offers, remembered in IndexedDB so the screens work offline
 * (forms, FHIR import and CSV validation need only the card), and the model the person chose.
 */
import { get, set } from 'idb-keyval';
import type { LayoutName } from '../../core/he/layout.ts';
import type { ModelCard } from '../../core/model/card.ts';
import { fetchCards } from '../lib/api.ts';
import { SavedCardsSchema, validCards, validRecords, type DropNotice } from '../lib/stored.ts';
import { cardStore } from '../lib/stores.ts';

/**
 * The model a person sees before choosing one: Framingham, whose values a patient knows or
 * imports from a health record. Without it, the model with the most LOINC-coded features (the
 * most a FHIR import can fill); never by list order, which put breast cancer first (30
 * image-analysis values no patient has).
 */
export const DEFAULT_MODEL_ID = 'framingham-chd';

function defaultCard(cards: readonly ModelCard[]): ModelCard | undefined {
  const coded = (c: ModelCard) => c.features.filter((f) => f.loinc).length / Math.max(1, c.features.length);
  return cards.find((c) => c.id === DEFAULT_MODEL_ID) ?? [...cards].sort((a, b) => coded(b) - coded(a))[0];
}

const OFFLINE_MESSAGE = 'The service cannot be reached, so the models saved on this device are shown. Predictions made now are encrypted and queued on this device, and sent when the service can be reached.';

export class ModelCatalog {
  #cards = $state.raw<ModelCard[]>([]);
  #selectedId = $state<string | undefined>();
  #status = $state<'loading' | 'online' | 'offline' | 'error'>('loading');
  /** Whether the service listed every model it serves (false while it still compiles them at start). */
  #complete = $state(false);
  #savedAt = $state<string | undefined>();
  #message = $state('');
  #chosen = $state(false);
  readonly #drop: DropNotice;

  /** `drop` is told about cards, sent or saved, that this version cannot read. */
  constructor(drop: DropNotice) {
    this.#drop = drop;
  }

  get cards(): readonly ModelCard[] {
    return this.#cards;
  }
  get complete(): boolean {
    return this.#complete;
  }

  get status() {
    return this.#status;
  }
  /** When the cards in use were fetched, if they came from this device's copy. */
  get savedAt() {
    return this.#savedAt;
  }
  get message() {
    return this.#message;
  }
  /** True once the person picked a model (now or on an earlier visit), not just the default. */
  get chosen() {
    return this.#chosen;
  }
  /**
   * The model in use for a layout: the chosen one when it offers that layout, else the default
   * among those that do. The picker, the screens and the key chip all ask here, so they agree.
   */
  selectedFor(layout: LayoutName): ModelCard | undefined {
    const chosen = this.#cards.find((c) => c.id === this.#selectedId) ?? defaultCard(this.#cards);
    return chosen?.plans[layout] ? chosen : defaultCard(this.#cards.filter((c) => c.plans[layout]));
  }
  byId(id: string): ModelCard | undefined {
    return this.#cards.find((c) => c.id === id);
  }

  select(id: string): void {
    this.#selectedId = id;
    this.#chosen = true;
    void set('selected', id, cardStore);
  }

  /** Fetches the cards; falls back to the saved ones when the service cannot be reached. */
  async load(): Promise<void> {
    this.#status = 'loading';
    if (this.#selectedId === undefined) {
      const selected = await get<unknown>('selected', cardStore);
      this.#selectedId = typeof selected === 'string' ? selected : undefined;
      this.#chosen ||= this.#selectedId !== undefined;
    }
    try {
      const sent = await fetchCards();
      const { cachedAt } = sent;
      const cards = validCards(sent.cards, this.#drop);
      this.#cards = cards;
      this.#complete = sent.complete && !cachedAt;
      if (cachedAt) {
        // The service worker answered from its cache: the service itself was not reached.
        this.#savedAt = cachedAt;
        this.#status = 'offline';
        this.#message = OFFLINE_MESSAGE;
        return;
      }
      this.#savedAt = undefined;
      this.#status = 'online';
      this.#message = '';
      await set('cards', { v: 1, savedAt: new Date().toISOString(), cards }, cardStore);
    } catch (e) {
      const stored = await get<unknown>('cards', cardStore);
      const [saved] = stored === undefined ? [] : validRecords(SavedCardsSchema, [stored], () => 'The list of models saved on this device', this.#drop);
      const cards = saved ? validCards(saved.cards, this.#drop) : [];
      if (saved && cards.length) {
        this.#cards = cards;
        this.#savedAt = saved.savedAt;
        this.#status = 'offline';
        this.#message = OFFLINE_MESSAGE;
      } else {
        this.#status = 'error';
        this.#message = `The list of models could not be loaded (${(e as Error).message}). Check the connection and reload.`;
      }
    }
  }
}
