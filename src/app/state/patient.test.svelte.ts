/**
 * One person's record for one model, with real parts (tests/support/app-parts.ts): the form's
 * checks keep a record from being sent until it may be; a prediction's risk equals the
 * plaintext reference and is in the history before it is shown; a value typed in mmol/L is
 * kept in History as typed and as the model read it; offline, the record is queued encrypted
 * with its explanation's variants in a ciphertext as large as a plain one, and its answer is
 * shown on the form, explanation included, and in History with the fields an online one has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard } from '../../core/model/card.ts';
import type { TernaryModel } from '../../core/model/format.ts';
import { deleteAll, exportBackup, importBackup, listKeys, rotate, unreadableKeys } from '../../../workers/he/keyring.ts';
import { appParts, FRAMINGHAM_FIRST_ROW, he, loadModel, posts, reference, Service, setOnline } from '../../../tests/support/app-parts.ts';
import { MG_DL_PER_MMOL_L } from '../../core/data/units.ts';
import { planVariants } from '../../core/explain/index.ts';
import { regionsOf } from '../lib/requeue.ts';
import { inputsText } from '../lib/history-csv.ts';
import { History } from './history.svelte.ts';
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
  parts.outbox.ondeliver = (entry, prediction, regionScores) => patient.receive(entry, prediction, regionScores);
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

  it('keeps a value typed in mmol/L in History as typed and as the model read it', async () => {
    const { patient, history } = await session();
    fill(patient, FRAMINGHAM_FIRST_ROW);
    const chol = card.features.find((f) => f.name === 'total_cholesterol')!;
    patient.chooseUnit(chol, 'mmol/L');
    // The value already there is shown in the chosen unit; the record keeps it.
    expect(patient.shown(chol)).toEqual({ text: String(Number((195 / MG_DL_PER_MMOL_L.cholesterol).toFixed(2))), unit: 'mmol/L' });
    expect(patient.text('total_cholesterol')).toBe('195');
    patient.typeValue(chol, '5,8');
    expect(patient.text('total_cholesterol')).toBe('224.286');
    expect(await patient.predict()).toBe(true);
    const record = card.features.map((f) => (f === chol ? 224.286 : (FRAMINGHAM_FIRST_ROW[f.name] ?? null)));
    expect(patient.result!.score).toBe(reference(model, record).score);
    // Read back from IndexedDB, as History shows it after a reload.
    const stored = new History();
    await stored.load();
    const entry = stored.items.find((e) => e.id === history.items[0]!.id)!;
    expect(entry.inputs!.find((v) => v.name === 'total_cholesterol')).toEqual({ name: 'total_cholesterol', label: chol.label, text: '224.286', unit: 'mg/dL', entered: { text: '5,8', unit: 'mmol/L' } });
    expect(entry.inputs!.find((v) => v.name === 'age')).toEqual({ name: 'age', label: 'Age', text: '39', unit: 'years' });
    expect(inputsText(entry)).toContain(`${chol.label} = 5,8 mmol/L (224.286 mg/dL)`);
    // Back in the model's unit, the value is kept and said in it.
    patient.chooseUnit(chol, 'mg/dL');
    expect(patient.shown(chol)).toEqual({ text: '224.286', unit: 'mg/dL' });
    expect(patient.entered.find((v) => v.name === 'total_cholesterol')).toEqual({ name: 'total_cholesterol', label: chol.label, text: '224.286', unit: 'mg/dL' });
  });

  it('offline, queues the record and its variants in one plain-sized ciphertext; the answer comes with its explanation and a full History entry', async () => {
    const { patient, outbox, history } = await session();
    fill(patient, FRAMINGHAM_FIRST_ROW);
    // Online first, for the entry and explanation a queued prediction must match.
    expect(await patient.predict()).toBe(true);
    const online = { result: patient.result!, entry: history.items[0]! };
    expect(online.result.explanation!.contributions.length).toBeGreaterThan(0);
    const classifyBefore = posts('classify').length;
    setOnline(false);
    let queued;
    try {
      expect(await patient.predict()).toBe(true);
      queued = patient.queued!;
      expect(queued).toBeDefined();
      expect(patient.result).toBeUndefined();
      expect(posts('classify').length).toBe(classifyBefore);
    } finally {
      setOnline(true);
    }
    // The variants ride in the record's one ciphertext, no larger than the record alone would be.
    const regions = regionsOf(card.plans.single!);
    expect(queued.variants).toBe(planVariants(card, card.features.map((f) => FRAMINGHAM_FIRST_ROW[f.name] ?? null), regions).records.length - 1);
    expect(queued.variants).toBeGreaterThan(10);
    const [plain] = await he.encryptRecords(card.plans.single!, card, queued.keyId, [card.features.map((f) => FRAMINGHAM_FIRST_ROW[f.name] ?? null)]);
    // (zstd-compressed: the same within a few bytes, as random coefficients compress alike.)
    expect(Math.abs(queued.contentBytes - plain!.contentBytes)).toBeLessThan(64);
    await outbox.flush();
    expect(patient.queued).toBeUndefined();
    expect(patient.result!.score).toBe(reference(model, card.features.map((f) => FRAMINGHAM_FIRST_ROW[f.name] ?? null)).score);
    expect(patient.result!.queuedAt).toBe(queued.queuedAt);
    expect(patient.result!.explanation).toEqual(online.result.explanation);
    expect(patient.changedSinceResult).toEqual([]);
    expect(posts('classify').length).toBe(classifyBefore + 1);
    // Its History entry holds what an online one holds, and when it was asked for.
    const entry = history.items.find((e) => e.id === queued.id)!;
    const { id: _a, at: _b, ...onlineFields } = online.entry;
    expect(entry).toEqual({ ...onlineFields, id: queued.id, at: entry.at, queuedAt: queued.queuedAt });
    expect(entry.modelHash).toBe(card.modelHash);
    expect(entry.outcome!.population).toMatch(/Framingham/);
    expect(entry.inputs).toHaveLength(card.features.length);
  });
});
