/**
 * The outbox and the one sender behind it, with real parts (tests/support/app-parts.ts: SEAL
 * doing the HE worker's verbs in this process, the real service on loopback, IndexedDB, the
 * real history). A prediction queued while the service cannot be reached is sent when it can,
 * exactly once, its keys registered then and only then; a service that forgot the keys gets the
 * same keys again; a stored record that cannot be read is set aside with a notice.
 */
import { createStore, get, set } from 'idb-keyval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planHash, PLAN_VERSION, type HePlan } from '../../core/he/plan.ts';
import { decodeMessage, encodeMessage } from '../../core/protocol/codec.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { TernaryModel } from '../../core/model/format.ts';
import type { PlainRecord } from '../../core/model/reference.ts';
import { useService } from '../lib/api.ts';
import { fieldText } from '../lib/fields.ts';
import type { QueuedPrediction } from '../lib/outbox.ts';
import { variantsOf } from '../lib/requeue.ts';
import type { EnteredValue } from '../lib/stored.ts';
import { History } from './history.svelte.ts';
import { Outbox } from './outbox.svelte.ts';
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
    // Delivered, so that no outbox waits with an entry while the tests below count requests.
    service.use();
    await outbox.flush();
    expect(outbox.items).toEqual([]);
  });
});

/**
 * A prediction queued under a plan the service no longer serves (a new version of the service
 * changed the model's encryption plan while it waited). The values as entered are kept with it,
 * so it is encrypted again under the current plan and answered exactly; without them it is kept,
 * marked failed, with words saying to make it again; never lost silently.
 */
describe('a queued prediction whose plan the service no longer serves', () => {
  const entered = (): EnteredValue[] => card.features.map((f, i) => ({ name: f.name, label: f.label, text: fieldText(record[i] ?? null), unit: f.unit }));
  const cards = (status: 'online' | 'offline' = 'online') => ({ byId: (id: string) => (id === card.id ? card : undefined), status, complete: true, load: async () => undefined });

  /**
   * A prediction queued now, then stored as an earlier version would have left it for `plan`:
   * its request and its kept evaluation keys naming that plan, which the service does not serve.
   */
  async function queuedUnder(name: string, plan: HePlan, facts: QueuedPrediction['facts']) {
    const parts = appParts(name);
    const variants = variantsOf(card, record)!.plain.slice(1);
    const entry = await parts.sender.encryptForLater(card, record, { imputed: [], source: 'form', origin: 'entered by hand', ...(facts ? { facts } : {}) }, { variants });
    const registrations = createStore(`${name}-registrations`, 'registrations');
    const kept = (await get<{ body: Uint8Array }>(`${entry.fingerprint}:${entry.plan.hash}`, registrations))!;
    await set(`${entry.fingerprint}:${plan.hash}`, { ...kept, planHash: plan.hash, body: encodeMessage({ ...decodeMessage(kept.body, 'keys'), planHash: plan.hash }) }, registrations);
    const old = { ...entry, plan, body: encodeMessage({ ...decodeMessage(entry.body, 'classify'), planHash: plan.hash }) };
    await parts.store.save(old);
    return { ...parts, old };
  }

  /** A plan of the same model the service does not serve: the current one with one field changed, its hash made again. */
  const superseded = (): HePlan => {
    const { hash: _hash, report, ...body } = card.plans.single!;
    const changed = { ...body, outputBound: body.outputBound + 1 };
    return { ...changed, hash: planHash(changed), report };
  };

  it('is encrypted again under the current plan from the values kept with it, answered exactly, into the same History entry', async () => {
    const facts = { modelHash: card.modelHash, inputs: entered() };
    const { store, sender, old } = await queuedUnder('requeue', superseded(), facts);
    const history = new History();
    const outbox = new Outbox({ sender, store, history, cards: cards() });
    const delivered: { id: string; score: number; regions: number }[] = [];
    outbox.ondeliver = (entry, prediction, regionScores) => delivered.push({ id: entry.id, score: prediction.score, regions: regionScores?.length ?? 0 });
    const classifyBefore = posts('classify').length;
    await outbox.start();
    await outbox.flush();

    expect(delivered.map(({ id, score }) => ({ id, score }))).toEqual([{ id: old.id, score: reference(model, record).score }]);
    // The explanation's variants were planned again and rode in the new ciphertext.
    expect(delivered[0]!.regions).toBe(1 + (old.variants ?? 0));
    expect(await store.list()).toEqual([]);
    // Sent once, under the current plan, with the entry's id as the idempotency key.
    const sentNow = posts('classify').slice(classifyBefore);
    expect(sentNow.map((r) => r.status)).toEqual([200]);
    const [entry] = history.items;
    expect(entry!.id).toBe(old.id);
    expect(entry!.queuedAt).toBe(old.queuedAt);
    expect(entry!.inputs).toEqual(facts.inputs);
    expect(entry!.risk).toBeCloseTo(reference(model, record).risk, 12);
  });

  it('whose id already went with another, answered body: sent once more under a key derived from its plan, and answered', async () => {
    const { store, sender, old } = await queuedUnder('reused-key', superseded(), { modelHash: card.modelHash, inputs: entered() });
    // What the entry's first request left with the service: an answer, under the entry's id, for another body.
    const earlier = await sender.encryptForLater(card, record, { imputed: [], source: 'form', origin: 'entered by hand' });
    expect((await sender.sendQueued({ ...earlier, id: old.id })).status).toBe('delivered');
    const outbox = new Outbox({ sender, store, history: new History(), cards: cards() });
    const delivered: number[] = [];
    outbox.ondeliver = (_e, p) => delivered.push(p.score);
    const classifyBefore = posts('classify').length;
    await outbox.start();
    await outbox.flush();
    expect(delivered).toEqual([reference(model, record).score]);
    expect(posts('classify').slice(classifyBefore).map((r) => r.status)).toEqual([422, 200]);
    expect(await store.list()).toEqual([]);
  });

  it('refused by the service while the page\'s card still named its plan: the cards are read again and it is encrypted again', async () => {
    const stale = superseded();
    const { store, sender, old } = await queuedUnder('stale-card', stale, { modelHash: card.modelHash, inputs: entered() });
    // The page's card is older than the service: it still names the superseded plan, until read again.
    let shown: ModelCard = { ...card, plans: { ...card.plans, single: stale } };
    let loads = 0;
    const catalog = { byId: () => shown, status: 'online' as const, complete: true, load: async () => void ((shown = card), loads++) };
    const history = new History();
    const outbox = new Outbox({ sender, store, history, cards: catalog });
    const delivered: number[] = [];
    outbox.ondeliver = (_e, p) => delivered.push(p.score);
    const keysBefore = posts('keys').length;
    await outbox.start();
    await outbox.flush();
    expect(loads).toBe(1);
    // The earlier keys were refused (their plan is not served); the current plan's went, then the request.
    expect(posts('keys').slice(keysBefore).map((r) => r.status)).toEqual([404, 201]);
    expect(delivered).toEqual([reference(model, record).score]);
    expect(history.items.map((h) => h.id)).toEqual([old.id]);
  });

  it('without cards, the service\'s refusal is kept as a failure in words, and the entry stays', async () => {
    const { store, sender, old } = await queuedUnder('refused', superseded(), { modelHash: card.modelHash, inputs: entered() });
    const outbox = new Outbox({ sender, store, history: new History() });
    await outbox.start();
    await outbox.flush();
    expect(outbox.items.map((e) => e.id)).toEqual([old.id]);
    expect(outbox.items[0]!.failed).toBe('the service no longer uses the encryption plan this prediction was made for; make it again');
    expect((await store.list())[0]!.failed).toBe(outbox.items[0]!.failed);
  });

  it('queued without its values (an early version kept none), it stays, saying in words to make it again', async () => {
    const { store, sender, old } = await queuedUnder('no-values', superseded(), undefined);
    const classifyBefore = posts('classify').length;
    const outbox = new Outbox({ sender, store, history: new History(), cards: cards() });
    await outbox.start();
    await outbox.flush();
    expect(posts('classify').length).toBe(classifyBefore);
    const [kept] = await store.list();
    expect(kept!.id).toBe(old.id);
    expect(kept!.failed).toBe('the service now encrypts this model\'s predictions differently, and this prediction was queued by an earlier version of the app that did not keep its values to encrypt them again; make it again');
  });

  it.skipIf(PLAN_VERSION < 2)('made under an earlier plan format, it is read (not set aside) and encrypted again', async () => {
    const earlier = { ...card.plans.single!, version: PLAN_VERSION - 1, hash: 'an earlier plan' } as unknown as HePlan;
    const { store, sender, old, notices } = await queuedUnder('earlier-format', earlier, { modelHash: card.modelHash, inputs: entered() });
    expect((await store.list()).map((e) => e.plan.hash)).toEqual(['an earlier plan']);
    // Its model's card not known yet (the service not reached): it waits, untouched.
    const waiting = new Outbox({ sender, store, history: new History(), cards: { ...cards('offline'), byId: () => undefined } });
    await waiting.start();
    await waiting.flush();
    expect(waiting.lastError).toMatch(/encrypted again/);
    expect((await store.list())[0]!.failed).toBeUndefined();
    // The service reached while it still compiles its models: a card missing then may still come.
    const starting = new Outbox({ sender, store, history: new History(), cards: { ...cards('online'), complete: false, byId: () => undefined } });
    await starting.start();
    await starting.flush();
    expect((await store.list())[0]!.failed).toBeUndefined();
    const history = new History();
    const outbox = new Outbox({ sender, store, history, cards: cards() });
    const delivered: number[] = [];
    outbox.ondeliver = (_e, p) => delivered.push(p.score);
    await outbox.start();
    await outbox.flush();
    expect(delivered).toEqual([reference(model, record).score]);
    expect(history.items.map((h) => h.id)).toEqual([old.id]);
    expect(notices.items).toEqual([]);
  });
});
