/**
 * One person's record for one model, with real parts (tests/support/app-parts.ts): the form's
 * checks keep a record from being sent until it may be; a prediction's risk equals the
 * plaintext reference and is in the history before it is shown; offline, the record is queued
 * encrypted and its answer shown on the form once the service is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard } from '../../core/model/card.ts';
import type { TernaryModel } from '../../core/model/format.ts';
import { deleteAll, exportBackup, importBackup, listKeys, rotate, unreadableKeys } from '../../../workers/he/keyring.ts';
import { appParts, FRAMINGHAM_FIRST_ROW, loadModel, posts, reference, Service, setOnline } from '../../../tests/support/app-parts.ts';
import { ModelCatalog } from './catalog.svelte.ts';
import { KeyRing } from './keys.svelte.ts';
import { PatientSession } from './patient.svelte.ts';

const service = new Service();
let model: TernaryModel;
let card: ModelCard;

beforeAll(async () => {
  model = await loadModel('framingham-chd');
  await service.start();
  card = await service.card(model.id);
}, 240_000);
afterAll(() => service.stop());

let sessions = 0;
/** A session on stores of its own (outboxes of earlier sessions also send on 'online'). */
async function session() {
  const parts = appParts(`patient-${++sessions}`);
  const catalog = new ModelCatalog((w) => parts.notices.add(w));
  await catalog.load();
  const keys = new KeyRing({ listKeys, unreadableKeys, rotate, deleteAll, exportBackup, importBackup }, parts.registrations, (w) => parts.notices.add(w));
  const patient = new PatientSession({ ...parts, keys, catalog }, card);
  parts.outbox.ondeliver = (entry, prediction) => patient.receive(entry, prediction);
  await parts.outbox.start();
  return { ...parts, catalog, keys, patient };
}

function fill(patient: PatientSession, values: Record<string, number>): void {
  for (const f of card.features) patient.setText(f.name, values[f.name] === undefined ? '' : String(values[f.name]));
}

describe('patient session', () => {
  it('sends nothing from an empty form or a value out of range, and says why', async () => {
    const { patient } = await session();
    const before = posts('classify').length + posts('keys').length;
    expect(await patient.predict()).toBe(false);
    expect(patient.shortfall).toBeDefined();
    fill(patient, { ...FRAMINGHAM_FIRST_ROW, age: 150 });
    expect(await patient.predict()).toBe(false);
    expect(patient.problems.age).toMatch(/^Age must be from 18 to 110 years; 150 years is outside that range\.$/);
    expect(patient.result).toBeUndefined();
    expect(posts('classify').length + posts('keys').length).toBe(before);
  });

  it('predicts privately: the risk shown equals the reference, in the history first, the key noted', async () => {
    const { patient, history, keys } = await session();
    fill(patient, FRAMINGHAM_FIRST_ROW);
    const keysBefore = posts('keys').length;
    expect(await patient.predict()).toBe(true);
    const ref = reference(model, card.features.map((f) => FRAMINGHAM_FIRST_ROW[f.name] ?? null));
    expect(patient.result!.score).toBe(ref.score);
    expect(patient.result!.risk).toBeCloseTo(ref.risk, 12);
    expect(patient.error).toBe('');
    expect(history.items[0]!.risk).toBe(patient.result!.risk);
    expect(history.items[0]!.fingerprint).toBe(patient.result!.fingerprint);
    expect(posts('keys').length).toBe(keysBefore + 1);
    await keys.refresh();
    expect(keys.keys.map((k) => k.fingerprint)).toContain(patient.result!.fingerprint);
    // A changed value marks the result out of date, until the next prediction.
    expect(patient.changedSinceResult).toEqual([]);
    patient.setText('age', '61');
    expect(patient.changedSinceResult).toEqual(['Age']);
    expect(await patient.predict()).toBe(true);
    expect(patient.changedSinceResult).toEqual([]);
    expect(posts('keys').length).toBe(keysBefore + 1);
  });

  it('offline, queues the record encrypted and shows the answer once the service is back', async () => {
    const { patient, outbox } = await session();
    fill(patient, FRAMINGHAM_FIRST_ROW);
    const classifyBefore = posts('classify').length;
    setOnline(false);
    try {
      expect(await patient.predict()).toBe(true);
      expect(patient.queued).toBeDefined();
      expect(patient.result).toBeUndefined();
      expect(posts('classify').length).toBe(classifyBefore);
    } finally {
      setOnline(true);
    }
    await outbox.flush();
    expect(patient.queued).toBeUndefined();
    expect(patient.result!.score).toBe(reference(model, card.features.map((f) => FRAMINGHAM_FIRST_ROW[f.name] ?? null)).score);
    expect(patient.result!.queuedAt).toBeDefined();
    expect(patient.changedSinceResult).toEqual([]);
    expect(posts('classify').length).toBe(classifyBefore + 1);
  });
});
