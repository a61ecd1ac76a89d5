/**
 * What the outbox does with a queued prediction before sending it, against its model's card:
 * send it as it is, encrypt it again from the values kept with it (the record read as the form
 * reads it, the variants planned for the current plan's regions), wait for the card, or keep it
 * marked with words to make it again. And the words of the key notice, in the unit that fits.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planVariants } from '../../core/explain/index.ts';
import { PLAN_VERSION, type HePlan } from '../../core/he/plan.ts';
import type { ModelCard } from '../../core/model/card.ts';
import { parseModel } from '../../core/model/format.ts';
import { keysWords } from './predict.ts';
import { recordOf, regionsOf, renewalOf } from './requeue.ts';
import type { EnteredValue } from './stored.ts';

const model = parseModel(JSON.parse(await readFile(resolve(import.meta.dirname, '../../../models/framingham-chd.json'), 'utf8')));
/** A single plan as far as these functions read it: its name, format, model and regions (Framingham: L = 119, 34 regions). */
const plan = (hash: string, version = PLAN_VERSION, modelHash = model.hash) =>
  ({ hash, version, modelHash, circuit: { layout: 'single', form: 'quadratic', regionLength: 119, regions: 34, floodBits: 66, result: { k0: 29, k1: 39 } } }) as unknown as HePlan;
const card = { ...model, modelHash: model.hash, plans: { single: plan('current') } } as unknown as ModelCard;

const values: Record<string, string> = { male: '1', age: '58', cigs_per_day: '15', current_smoker: '1', total_cholesterol: '250', systolic_bp: '146', glucose: '92' };
const inputs: EnteredValue[] = model.features.map((f) => ({ name: f.name, label: f.label, text: values[f.name] ?? '', unit: f.unit }));
const record = model.features.map((f) => (values[f.name] === undefined ? null : Number(values[f.name])));
/** A queued entry under plan `p`; `facts` null: queued by an early version, which kept none. */
const entry = (p: HePlan, facts: { inputs?: EnteredValue[] } | null = { inputs }) => ({ plan: p, modelId: model.id, ...(facts ? { facts } : {}) });

describe('a queued prediction before it is sent', () => {
  it('reads the record from the values as entered: text in the model\'s unit, blanks and missing names as typical values', () => {
    expect(recordOf(card, inputs)).toEqual(record);
    expect(recordOf(card, inputs.filter((v) => v.name !== 'age'))[model.features.findIndex((f) => f.name === 'age')]).toBeNull();
    expect(regionsOf(card.plans.single!)).toBe(34);
  });

  it('goes as it is under the card\'s current plan', () => {
    expect(renewalOf(entry(plan('current')), card, true)).toEqual({ status: 'current' });
  });

  it('is encrypted again under a new plan of the same model, its variants planned for the new regions', () => {
    const renewal = renewalOf(entry(plan('superseded')), card, true);
    expect(renewal.status).toBe('renew');
    if (renewal.status !== 'renew') return;
    expect(renewal.card).toBe(card);
    expect(renewal.record).toEqual(record);
    expect(renewal.variants).toEqual(planVariants(card, record, 34).plain.slice(1));
    expect(renewal.variants!.length).toBeLessThanOrEqual(33);
    // An earlier plan format is renewed the same way.
    expect(renewalOf(entry(plan('earlier', PLAN_VERSION - 1)), card, true).status).toBe('renew');
  });

  it('is kept, saying to make it again, when its values were not kept or its model changed', () => {
    expect(renewalOf(entry(plan('superseded'), null), card, true)).toEqual({ status: 'failed', message: 'the service now encrypts this model\'s predictions differently, and this prediction was queued by an earlier version of the app that did not keep its values to encrypt them again; make it again' });
    expect(renewalOf(entry(plan('superseded', PLAN_VERSION, 'another model')), card, true)).toEqual({ status: 'failed', message: 'the model changed or was removed while this prediction waited; make it again' });
  });

  it('without its model\'s card: a current-format plan goes (the service decides), an earlier one waits for the card, or fails once the service has none', () => {
    expect(renewalOf(entry(plan('superseded')), undefined, false)).toEqual({ status: 'current' });
    expect(renewalOf(entry(plan('earlier', PLAN_VERSION - 1)), undefined, false).status).toBe('wait');
    expect(renewalOf(entry(plan('earlier', PLAN_VERSION - 1)), undefined, true)).toEqual({ status: 'failed', message: 'the model changed or was removed while this prediction waited; make it again' });
  });
});

describe('the key notice', () => {
  it('says the size in the unit that fits: a single plan\'s public key in KB, megabytes when there are', () => {
    expect(keysWords(65_903)).toBe('This model needs 64.4 KB of keys, sent once');
    expect(keysWords(139_761)).toBe('This model needs 136.5 KB of keys, sent once');
    expect(keysWords(3_100_000)).toBe('This model needs 2.96 MB of keys, sent once');
  });
});
