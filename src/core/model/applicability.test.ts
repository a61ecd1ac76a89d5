import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDir } from '../../cli/paths.ts';
import { parseDatasetSpec } from '../data/spec.ts';
import { applicabilityWarning, checkApplicability, personOf } from './applicability.ts';

const spec = (id: string) => parseDatasetSpec(JSON.parse(readFileSync(join(modelsDir, 'specs', `${id}.json`), 'utf8')));
const pima = spec('pima-diabetes');
const framingham = spec('framingham-chd');
const pimaRecord = (age: number | null) => pima.features.map((f) => (f.name === 'age' ? age : null));

describe('applicability', () => {
  it('Pima declares women aged 21 or more', () => {
    expect(pima.population).toMatchObject({ sex: 'female', age: { min: 21 } });
    expect(pima.population?.who).toContain('women of Pima heritage aged 21 or more');
  });

  it('a man’s record (from FHIR) is outside the Pima population, in plain words', () => {
    const person = personOf(pima.features, pimaRecord(45), { gender: 'male' });
    expect(person).toEqual({ sex: 'male', age: 45 });
    expect(checkApplicability(pima.population, person)).toEqual({ fits: false, outside: ['this record is of a man'] });
    const warning = applicabilityWarning(pima.population, person)!;
    expect(warning).toMatch(/^This model learned from women of Pima heritage aged 21 or more; this record is of a man\./);
  });

  it('a woman of 30 fits; a girl of 16 does not; an unknown sex is not held against a record', () => {
    expect(checkApplicability(pima.population, personOf(pima.features, pimaRecord(30), { gender: 'female' })).fits).toBe(true);
    expect(checkApplicability(pima.population, personOf(pima.features, pimaRecord(30))).fits).toBe(true);
    const girl = checkApplicability(pima.population, personOf(pima.features, pimaRecord(16), { gender: 'female' }));
    expect(girl.outside).toEqual(['this record gives age 16, younger than anyone it learned from (21)']);
  });

  it('the form’s own values win over the FHIR patient: Framingham reads sex from its male feature', () => {
    const record = framingham.features.map((f) => (f.name === 'male' ? 1 : f.name === 'age' ? 75 : null));
    const person = personOf(framingham.features, record, { gender: 'female', age: 50 });
    expect(person).toEqual({ sex: 'male', age: 75 });
    const check = checkApplicability(framingham.population, person);
    expect(check.outside).toEqual(['this record gives age 75, older than anyone it learned from (70)']);
  });

  it('a model without a declared population fits everybody', () => {
    expect(checkApplicability(undefined, { sex: 'male', age: 3 }).fits).toBe(true);
    expect(applicabilityWarning(undefined, { sex: 'male', age: 3 })).toBeUndefined();
  });
});
