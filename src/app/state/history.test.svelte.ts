/**
 * The history as stored in IndexedDB (fake-indexeddb's in-memory implementation): an entry this
 * version cannot read is not shown, and the person is told in words; the rest load newest first.
 */
import { set } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { historyStore } from '../lib/stores.ts';
import { History } from './history.svelte.ts';

describe('history', () => {
  it('shows the entries it can read, newest first, and tells of one it cannot', async () => {
    const notices: string[] = [];
    await set('a', { id: 'a', at: '2026-11-30T09:00:00.000Z', modelId: 'framingham-chd', modelTitle: 'Framingham', source: 'form', probability: 0.12, label: 'CHD', origin: 'entered by hand', fingerprint: 'ab12' }, historyStore);
    await set('b', { id: 'b', at: '2026-12-01T09:00:00.000Z', modelId: 'pima-diabetes', modelTitle: 'Pima', source: 'csv', rows: 40, positives: 9, origin: 'patients.csv', fingerprint: 'cd34' }, historyStore);
    await set('damaged', { id: 'damaged', at: 'not a date', probability: 7 }, historyStore);

    const history = new History((w) => notices.push(w));
    await history.load();
    expect(history.items.map((e) => e.modelId)).toEqual(['pima-diabetes', 'framingham-chd']);
    // Saved when the shown risk was stored as `probability`: read as the risk.
    expect(history.items[1]!.risk).toBe(0.12);
    expect(history.items[1]).not.toHaveProperty('probability');
    expect(notices).toEqual(['One past prediction stored on this device could not be read by this version of the app, so it is not shown in History.']);
  });
});
