/**
 * The outbox and the one sender behind it, with real parts (tests/support/app-parts.ts: SEAL
 * doing the HE worker's verbs in this process, the real service on loopback, IndexedDB, the
 * real history). A prediction queued while the service cannot be reached is sent when it can,
 * exactly once, its keys registered then and only then; a service that forgot the keys gets the
 * same keys again; a stored record that cannot be read is set aside with a notice.
 */
import { createStore, set } from 'idb-keyval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard } from '../../core/model/card.ts';
import type { TernaryModel } from '../../core/model/format.ts';
import type { PlainRecord } from '../../core/model/reference.ts';
import { useService } from '../lib/api.ts';
import { appParts, FRAMINGHAM_FIRST_ROW, loadModel, posts, reference, sent, Service, setOnline, UNREACHABLE } from '../../../tests/support/app-parts.ts';

let service = new Service();
let model: TernaryModel;
let card: ModelCard;
let record: PlainRecord = [];

beforeAll(async () => {
  model = await loadModel('framingham-chd');
  record = model.features.map((f) => FRAMINGHAM_FIRST_ROW[f.name] ?? null);
  await service.start();
  card = await service.card(model.id);
}, 240_000);
afterAll(() => service.stop());

describe('outbox', () => {
  it('sends a prediction queued while the service was away once it is back, exactly once, keys with it', async () => {
    const { outbox, store, history } = appParts('queued');
    const delivered: { id: string; score: number }[] = [];
    outbox.ondeliver = (entry, prediction) => delivered.push({ id: entry.id, score: prediction.score });
    await outbox.start();
    const before = sent.length;

    useService(UNREACHABLE);
    const entry = await outbox.queue(card, record, { imputed: [], source: 'form', origin: 'entered by hand' });
    await outbox.flush();
    expect(outbox.waiting.map((e) => e.id)).toEqual([entry.id]);
    expect(outbox.lastError).toMatch(/could not be reached/);
    expect(sent.length).toBe(before);
    // Kept as ciphertext, with one attempt counted.
    const [stored] = await store.list();
    expect(stored!.body.byteLength).toBeGreaterThan(1000);
    expect(stored!.attempts).toBe(1);

    service.use();
    setOnline(true);
    await outbox.flush();
    expect(delivered).toEqual([{ id: entry.id, score: reference(model, record).score }]);
    expect(outbox.items).toEqual([]);
    expect(await store.list()).toEqual([]);
    expect(history.items.map((h) => h.id)).toEqual([entry.id]);
    expect(posts('keys').length).toBe(1);
    expect(posts('classify').filter((r) => r.status === 200).length).toBe(1);

    // Flushing again sends nothing more.
    await outbox.flush();
    expect(posts('classify').length).toBe(1);
    expect(delivered).toHaveLength(1);
  });

  it('sends the same evaluation keys again to a service that forgot them, once, and the request is answered', async () => {
    const { sender } = appParts('queued');
    const keysBefore = posts('keys');
    const classifyBefore = posts('classify').length;
    // A new service (its key store empty) answers unknown_key; the kept keys go again, unchanged.
    await service.stop();
    service = new Service();
    await service.start();
    const said: number[] = [];
    const { predictions } = await sender.predict(card, 'single', [record], { onProgress: (p) => void (p.keyBytes && said.push(p.keyBytes)) });
    expect(predictions.map((p) => p.score)).toEqual([reference(model, record).score]);
    expect(predictions[0]!.risk).toBeCloseTo(reference(model, record).risk, 12);
    const keys = posts('keys');
    expect(keys.length).toBe(keysBefore.length + 1);
    expect(keys.at(-1)!.content!.hash).toBe(keysBefore.at(-1)!.content!.hash);
    expect(said).toEqual([keys.at(-1)!.content!.bytes]);
    expect(posts('classify').slice(classifyBefore).map((r) => r.status === 200)).toEqual([false, true]);
  });

  it('sets aside a stored prediction it cannot read, with a notice, and keeps the rest', async () => {
    const { outbox, notices } = appParts('damaged');
    await set('prediction:broken', { id: 'broken', queuedAt: 'yesterday', body: 'not bytes' }, createStore('damaged-outbox', 'outbox'));
    useService(UNREACHABLE);
    await outbox.start();
    await outbox.queue(card, record, { imputed: [], source: 'form', origin: 'entered by hand' });
    await outbox.flush();
    expect(outbox.items.map((e) => e.id)).not.toContain('broken');
    expect(outbox.items).toHaveLength(1);
    expect(notices.items).toEqual(['A prediction waiting to be sent was stored by an earlier or damaged version of this app and could not be read, so it was set aside.']);
    service.use();
  });
});
