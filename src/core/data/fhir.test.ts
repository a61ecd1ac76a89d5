/**
 * FHIR import over every bundle in the shared data (both Synthea generations, both
 * blood-pressure panel codes), plus small hand-made bundles for the cases those lack:
 * mmol/L units, current smokers, resolved and refuted diagnoses, medication references.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDir, sharedDataDir } from '../../cli/paths.ts';
import { parseModel } from '../model/format.ts';
import { featuresWithCurrentSmoker } from '../../../tests/support/current-smoker.ts';
import { ageInYears, mapFhirBundle, type FhirMapping } from './fhir.ts';
import { convertUnit } from './ucum.ts';
import { DataError } from './errors.ts';

const model = parseModel(JSON.parse(readFileSync(resolve(modelsDir, 'framingham-chd.json'), 'utf8')));
/** The default's features and the current-smoker column a model of the whole file has: the import reads both. */
const features = featuresWithCurrentSmoker(model);
const fhirDir = resolve(sharedDataDir(), 'fhir');
const files = readdirSync(fhirDir).filter((f) => f.endsWith('.json')).sort();
const asOf = new Date('2025-06-30T12:00:00Z');

type Entry = { fullUrl?: string; resource: Record<string, any> };
const read = (f: string) => JSON.parse(readFileSync(resolve(fhirDir, f), 'utf8')) as { entry: Entry[] };
const fill = (m: FhirMapping, name: string) => m.fills.find((f) => f.feature === name)!;
const loincOf = (r: Record<string, any>) => r.code?.coding?.[0]?.code as string | undefined;
const when = (r: Record<string, any>) => Date.parse(r.effectiveDateTime);

describe('the 15 shared bundles', () => {
  it('are all there', () => expect(files).toHaveLength(15));

  describe.each(files)('%s', (file) => {
    const bundle = read(file);
    const m = mapFhirBundle(bundle, features, { asOf, source: file });
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
    const obs = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === 'Observation');

    it('reads sex and age from the Patient', () => {
      expect(fill(m, 'male')).toMatchObject({ status: 'found', value: patient.gender === 'male' ? 1 : 0 });
      const [y, mo, d] = patient.birthDate.split('-').map(Number);
      const expected = 2025 - y - (mo > 6 || (mo === 6 && d > 30) ? 1 : 0);
      expect(fill(m, 'age')).toMatchObject({ status: 'derived', value: expected, date: patient.birthDate });
    });

    it('reads the latest value of each coded observation, with date, code and source', () => {
      for (const [name, code] of [['bmi', '39156-5'], ['total_cholesterol', '2093-3'], ['glucose', '2339-0']] as const) {
        const latest = obs.filter((o) => loincOf(o) === code).sort((a, b) => when(b) - when(a))[0]!;
        expect(fill(m, name), name).toMatchObject({
          status: 'found',
          value: Math.round(latest.valueQuantity.value * 100) / 100,
          date: latest.effectiveDateTime,
          code: { code, system: 'http://loinc.org' },
          source: `Observation/${latest.id}`,
        });
      }
    });

    it('reads systolic and diastolic pressure from the latest panel of either code', () => {
      const panels = obs.filter((o) => loincOf(o) === '85354-9' || loincOf(o) === '55284-4').sort((a, b) => when(b) - when(a));
      const latest = panels[0]!;
      const part = (code: string) => latest.component.find((c: any) => c.code.coding[0].code === code).valueQuantity.value as number;
      expect(fill(m, 'systolic_bp')).toMatchObject({ status: 'found', value: Math.round(part('8480-6') * 100) / 100, source: `Observation/${latest.id}`, date: latest.effectiveDateTime });
      expect(fill(m, 'diastolic_bp')).toMatchObject({ status: 'found', value: Math.round(part('8462-4') * 100) / 100, code: { code: '8462-4' } });
      expect(fill(m, 'systolic_bp').note).toContain(loincOf(latest));
    });

    it('reads the smoking status, and zero cigarettes for non-smokers', () => {
      const status = obs.filter((o) => loincOf(o) === '72166-2').sort((a, b) => when(b) - when(a))[0];
      expect(status).toBeDefined();
      // Synthea's bundles hold never and former smokers only: both are "not a current smoker".
      expect(fill(m, 'current_smoker')).toMatchObject({ status: 'found', value: 0, source: `Observation/${status!.id}` });
      expect(fill(m, 'cigs_per_day')).toMatchObject({ status: 'derived', value: 0 });
    });

    it('flags what it cannot find instead of inventing it', () => {
      const hasHeartRate = obs.some((o) => loincOf(o) === '8867-4');
      expect(fill(m, 'heart_rate').status).toBe(hasHeartRate ? 'found' : 'missing');
      if (!hasHeartRate) expect(fill(m, 'heart_rate')).toMatchObject({ value: null, note: expect.stringContaining('8867-4') });
    });

    it('gives a record in the card\'s order, with every found value inside the model\'s range', () => {
      expect(m.values).toEqual(m.fills.map((f) => f.value));
      expect(m.fills.map((f) => f.feature)).toEqual(features.map((f) => f.name));
      m.fills.forEach((f, i) => {
        if (f.value !== null) {
          expect(f.value).toBeGreaterThanOrEqual(features[i]!.min);
          expect(f.value).toBeLessThanOrEqual(features[i]!.max);
        }
      });
      expect(m.warnings).toEqual([]);
    });
  });

  it('finds the diagnoses and medications the bundles carry', () => {
    const by = (prefix: string) => mapFhirBundle(read(files.find((f) => f.startsWith(prefix))!), features, { asOf });
    expect(fill(by('Bryan_Breitenberg'), 'prevalent_stroke')).toMatchObject({ value: 1, status: 'found', code: { code: '230690007' } });
    expect(fill(by('Fabian_Murray'), 'diabetes')).toMatchObject({ value: 1, status: 'found', code: { code: '44054006' } });
    const ardath = by('Ardath226');
    expect(fill(ardath, 'prevalent_hypertension')).toMatchObject({ value: 1, code: { code: '59621000' } });
    expect(fill(ardath, 'bp_meds')).toMatchObject({ value: 1, status: 'found', code: { code: '314076' } });
    expect(fill(by('Brent_Beer'), 'bp_meds')).toMatchObject({ value: 0, status: 'assumed' });
    const all = files.map((f) => mapFhirBundle(read(f), features, { asOf }));
    expect(all.filter((m) => fill(m, 'prevalent_hypertension').value === 1).length).toBeGreaterThanOrEqual(5);
    expect(all.filter((m) => fill(m, 'bp_meds').value === 1).length).toBeGreaterThanOrEqual(5);
  });
});

// ---------------------------------------------------------------- hand-made bundles

const P = 'urn:uuid:p1';
function bundle(...resources: Record<string, unknown>[]) {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: P, resource: { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1960-07-01' } },
      ...resources.map((r, i) => ({ fullUrl: `urn:uuid:r${i}`, resource: { id: `r${i}`, subject: { reference: P }, ...r } })),
    ],
  };
}
const quantity = (code: string, value: number, unit: string, date = '2024-01-01') => ({
  resourceType: 'Observation', status: 'final', effectiveDateTime: date,
  code: { coding: [{ system: 'http://loinc.org', code }] },
  valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
});
const condition = (code: string, clinical = 'active', verification = 'confirmed') => ({
  resourceType: 'Condition', onsetDateTime: '2020-01-01',
  clinicalStatus: { coding: [{ code: clinical }] }, verificationStatus: { coding: [{ code: verification }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code, display: code }] },
});

describe('hand-made bundles', () => {
  it('converts mmol/L glucose and cholesterol to mg/dL and kPa to mm[Hg]', () => {
    const m = mapFhirBundle(bundle(quantity('15074-8', 5.5, 'mmol/L'), quantity('14647-2', 5.2, 'mmol/L'), quantity('8480-6', 16, 'kPa')), features, { asOf });
    expect(fill(m, 'glucose')).toMatchObject({ status: 'found', value: 99.09, original: { value: 5.5, unit: 'mmol/L' }, code: { code: '15074-8' } });
    expect(fill(m, 'glucose').note).toContain('converted from 5.5 mmol/L');
    expect(fill(m, 'total_cholesterol').value).toBeCloseTo(201.08, 2); // 5.2 × 38.67
    expect(fill(m, 'systolic_bp').value).toBeCloseTo(120.01, 2);
  });

  it('takes the latest value and skips values entered in error', () => {
    const wrong = { ...quantity('39156-5', 50, 'kg/m2', '2024-06-01'), status: 'entered-in-error' };
    const m = mapFhirBundle(bundle(quantity('39156-5', 22, 'kg/m2', '2020-01-01'), quantity('39156-5', 24.5, 'kg/m2', '2023-05-01'), wrong), features, { asOf });
    expect(fill(m, 'bmi')).toMatchObject({ value: 24.5, date: '2023-05-01' });
  });

  it('refuses a unit it cannot convert rather than guessing, and says why', () => {
    const m = mapFhirBundle(bundle(quantity('2339-0', 5.5, 'mmol/mol')), features, { asOf });
    expect(fill(m, 'glucose')).toMatchObject({ status: 'missing', value: null, original: { value: 5.5, unit: 'mmol/mol' } });
    expect(fill(m, 'glucose').note).toMatch(/could not be used/);
  });

  it('reads a current smoker, and leaves the cigarettes a day for the person', () => {
    const smoker = { resourceType: 'Observation', status: 'final', effectiveDateTime: '2024-01-01', code: { coding: [{ system: 'http://loinc.org', code: '72166-2' }] }, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '449868002', display: 'Smokes tobacco daily' }] } };
    const m = mapFhirBundle(bundle(smoker), features, { asOf });
    expect(fill(m, 'current_smoker')).toMatchObject({ value: 1, status: 'found' });
    expect(fill(m, 'cigs_per_day')).toMatchObject({ value: null, status: 'missing' });
  });

  it('counts current hypertension and diabetes, any past stroke, and ignores refuted ones', () => {
    const m = mapFhirBundle(bundle(condition('38341003', 'resolved'), condition('44054006', 'active', 'refuted'), condition('230690007', 'resolved')), features, { asOf });
    expect(fill(m, 'prevalent_hypertension')).toMatchObject({ value: 0, status: 'assumed', note: expect.stringContaining('no longer active') });
    expect(fill(m, 'diabetes')).toMatchObject({ value: 0, status: 'assumed' });
    expect(fill(m, 'prevalent_stroke')).toMatchObject({ value: 1, status: 'found' });
    const m2 = mapFhirBundle(bundle(condition('73211009')), features, { asOf });
    expect(fill(m2, 'diabetes')).toMatchObject({ value: 1, status: 'found' });
    expect(fill(m2, 'prevalent_hypertension')).toMatchObject({ value: 0, status: 'assumed' });
  });

  it('finds blood-pressure drugs by code, by referenced Medication and by name; stopped ones do not count', () => {
    const byRef = bundle({ resourceType: 'Medication', code: { coding: [{ code: '999', display: 'Amlodipine 5 MG Oral Tablet' }] } }, { resourceType: 'MedicationRequest', status: 'active', authoredOn: '2024-01-01', medicationReference: { reference: 'urn:uuid:r0' } });
    expect(fill(mapFhirBundle(byRef, features, { asOf }), 'bp_meds')).toMatchObject({ value: 1, status: 'found', source: 'MedicationRequest/r1' });
    const stopped = bundle({ resourceType: 'MedicationRequest', status: 'stopped', medicationCodeableConcept: { coding: [{ code: '314076', display: 'lisinopril 10 MG Oral Tablet' }] } });
    expect(fill(mapFhirBundle(stopped, features, { asOf }), 'bp_meds')).toMatchObject({ value: 0, status: 'assumed', note: expect.stringContaining('stopped') });
    const other = bundle({ resourceType: 'MedicationRequest', status: 'active', medicationCodeableConcept: { coding: [{ code: '313782', display: 'Acetaminophen 325 MG Oral Tablet' }] } });
    expect(fill(mapFhirBundle(other, features, { asOf }), 'bp_meds')).toMatchObject({ value: 0, status: 'assumed' });
  });

  it('ignores resources about someone else', () => {
    const m = mapFhirBundle(bundle({ ...quantity('39156-5', 31, 'kg/m2'), subject: { reference: 'urn:uuid:other' } }), features, { asOf });
    expect(fill(m, 'bmi').status).toBe('missing');
  });

  it('warns about values outside the model\'s range', () => {
    const m = mapFhirBundle(bundle(quantity('39156-5', 95, 'kg/m2')), features, { asOf });
    expect(fill(m, 'bmi').value).toBe(95);
    expect(m.warnings.join(' ')).toMatch(/Body mass index: 95 kg\/m2 .* outside/);
  });

  it('refuses what is not one patient\'s bundle, naming the file', () => {
    expect(() => mapFhirBundle({ resourceType: 'Patient' }, features, { source: 'x.json' })).toThrow(new DataError('x.json', undefined, undefined, 'is not a FHIR R4 Bundle (resourceType is "Patient")'));
    expect(() => mapFhirBundle([], features, { source: 'x.json' })).toThrow(/not a FHIR R4 Bundle/);
    expect(() => mapFhirBundle({ resourceType: 'Bundle', entry: [] }, features)).toThrow(/no Patient/);
    const two = bundle();
    two.entry.push({ fullUrl: 'urn:uuid:p2', resource: { resourceType: 'Patient', id: 'p2', gender: 'male', birthDate: '1950-01-01' } });
    expect(() => mapFhirBundle(two, features)).toThrow(/2 patients/);
  });
});

describe('helpers', () => {
  it('computes age in whole years', () => {
    // Days are the device's calendar days (local time), whatever its time zone.
    expect(ageInYears('1960-07-01', new Date(2025, 5, 30, 23, 30))).toBe(64);
    expect(ageInYears('1960-07-01', new Date(2025, 6, 1, 0, 30))).toBe(65);
    expect(ageInYears('1960', new Date(2025, 6, 1))).toBe(65);
    // A recorded date (a date of death) is read as written.
    expect(ageInYears('1960-07-01', '2025-06-30T23:30:00-08:00')).toBe(64);
    expect(ageInYears('n/a', new Date())).toBeUndefined();
  });

  it('converts UCUM units it knows and refuses the rest', () => {
    expect(convertUnit(100, 'mg/dL', 'g/L')).toEqual({ ok: true, value: 1 });
    expect(convertUnit(72, '{beats}/min', '/min')).toEqual({ ok: true, value: 72 });
    expect(convertUnit(1, 'mmol/L', 'mg/dL')).toMatchObject({ ok: false });
    const g = convertUnit(180.156, 'mg/dL', 'mmol/L', 180.156);
    expect(g.ok && g.value).toBeCloseTo(10, 9);
    expect(convertUnit(1, 'kg/m2', 'mg/dL')).toMatchObject({ ok: false, reason: expect.stringContaining('different things') });
    expect(convertUnit(1, 'furlong', 'mg/dL')).toMatchObject({ ok: false, reason: expect.stringContaining('furlong') });
  });
});
