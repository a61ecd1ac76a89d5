/**
 * The model cards, with real parts (tests/support/app-parts.ts): fetched from the real service
 * and checked, saved on the device for offline use, used from there when the service cannot be
 * reached, and a saved list this version cannot read set aside with a notice (never a crash).
 */
import { set } from 'idb-keyval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useService } from '../lib/api.ts';
import { cardStore } from '../lib/stores.ts';
import { Service, UNREACHABLE } from '../../../tests/support/app-parts.ts';
import { DEFAULT_MODEL_ID, ModelCatalog } from './catalog.svelte.ts';

const service = new Service();
beforeAll(() => service.start(), 240_000);
afterAll(() => service.stop());

describe('model catalog', () => {
  it('fetches and checks the cards, keeps them for offline use, and uses them when the service is away', async () => {
    const notices: string[] = [];
    const online = new ModelCatalog((w) => notices.push(w));
    await online.load();
    expect(online.status).toBe('online');
    expect(online.cards.map((c) => c.id).sort()).toEqual(['breast-cancer', 'framingham-chd', 'liver-patient', 'pima-diabetes']);
    expect(online.selectedFor('single')?.id).toBe(DEFAULT_MODEL_ID);
    online.select('pima-diabetes');

    useService(UNREACHABLE);
    try {
      const offline = new ModelCatalog((w) => notices.push(w));
      await offline.load();
      expect(offline.status).toBe('offline');
      expect(offline.message).toMatch(/^The service cannot be reached, so the models saved on this device are shown\./);
      expect(offline.cards.map((c) => c.id)).toEqual(online.cards.map((c) => c.id));
      expect(offline.savedAt).toBeDefined();
      // The choice made on an earlier visit is kept.
      expect(offline.chosen).toBe(true);
      expect(offline.selectedFor('single')?.id).toBe('pima-diabetes');
      expect(notices).toEqual([]);

      // A saved list this version cannot read: set aside with a notice, and the screen says why it has no models.
      await set('cards', { savedAt: 'yesterday', cards: 'not a list' }, cardStore);
      const damaged = new ModelCatalog((w) => notices.push(w));
      await damaged.load();
      expect(damaged.status).toBe('error');
      expect(damaged.cards).toEqual([]);
      expect(damaged.message).toMatch(/^The list of models could not be loaded \(the service could not be reached\)/);
      expect(notices).toEqual(['The list of models saved on this device was stored by an earlier or damaged version of this app and could not be read, so it was set aside.']);

      // A saved card that is not a card is dropped on its own; the readable ones are still offered.
      notices.length = 0;
      await set('cards', { v: 1, savedAt: new Date().toISOString(), cards: [...online.cards, { id: 'broken', title: 'Broken model' }] }, cardStore);
      const partly = new ModelCatalog((w) => notices.push(w));
      await partly.load();
      expect(partly.cards.map((c) => c.id)).toEqual(online.cards.map((c) => c.id));
      expect(notices).toEqual(['The description of the model "Broken model" could not be read by this version of the app, so that model is not offered.']);
    } finally {
      service.use();
    }
  });
});
