/**
 * FHIR R4 Bundle (a patient-portal export) → a model's record, value by value, with where
 * each value came from. Runs anywhere (no DOM): the patient screen uses it, tests run it in Node.
 *
 * What it reads, driven by the model card's features:
 *  - an Observation by the feature's LOINC code (or an equivalent one), the latest by its
 *    effective date, including components of blood-pressure panels (85354-9 and 55284-4),
 *    converted to the feature's unit (UCUM; mg/dL ⇄ mmol/L with the analyte's molar mass);
 *  - sex from Patient.gender, age in whole years from Patient.birthDate;
 *  - smoking from the tobacco smoking status observation (72166-2) and, for non-smokers,
 *    zero cigarettes a day;
 *  - hypertension, diabetes and stroke from Condition resources by SNOMED CT code;
 *  - blood-pressure medication from active MedicationRequests (RxNorm code or ingredient name).
 * A value it cannot find is `missing`; a yes/no it infers from the absence of a record is
 * `assumed`, so the screen can ask the person to check both.
 */
import type { FeatureSpec } from '../model/format.ts';
import { DataError } from './errors.ts';
import {
  ANTIHYPERTENSIVE_NAMES, ANTIHYPERTENSIVE_RXNORM, BP_PANELS, CONDITIONS, LOINC, LOINC_EQUIVALENTS, MOLAR_MASS, RXNORM,
  SMOKING_ANSWERS, SMOKING_STATUS_CODE, type ConditionConcept,
} from './fhir-codes.ts';
import { convertUnit } from './ucum.ts';

/** How a value was obtained. */
export type FillStatus = 'found' | 'derived' | 'assumed' | 'missing';

export interface Coding {
  system?: string;
  code: string;
  display?: string;
}

/** One feature's value from the bundle, with its provenance. */
export interface FilledValue {
  feature: string;
  value: number | null;
  status: FillStatus;
  /** When the source was recorded (FHIR date or dateTime as written). */
  date?: string;
  /** The code that matched. */
  code?: Coding;
  /** The resource it came from, "Observation/<id>". */
  source?: string;
  /** The value and unit as the bundle wrote them, when a unit conversion happened or could not. */
  original?: { value: number; unit: string };
  /** One sentence: how it was derived, or why it is missing. */
  note?: string;
}

export interface FhirPatient {
  id: string;
  birthDate?: string;
  gender?: string;
  deceased: boolean;
}

export interface FhirMapping {
  patient: FhirPatient;
  /** One per feature, in the card's order. */
  fills: FilledValue[];
  /** The record in model order (null where missing). */
  values: (number | null)[];
  warnings: string[];
}

export interface FhirOptions {
  /** Age is computed on this day (default: today). */
  asOf?: Date;
  /** File name for messages. */
  source?: string;
}

// ---------------------------------------------------------------- minimal FHIR shapes

interface CodeableConcept { coding?: Coding[]; text?: string }
interface Quantity { value?: number; unit?: string; code?: string; system?: string }
interface Resource { resourceType: string; id?: string; [k: string]: unknown }
interface ObservationLike extends Resource {
  status?: string;
  code?: CodeableConcept;
  subject?: { reference?: string };
  effectiveDateTime?: string;
  effectiveInstant?: string;
  effectivePeriod?: { start?: string; end?: string };
  issued?: string;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  component?: { code?: CodeableConcept; valueQuantity?: Quantity }[];
}

interface Indexed {
  patient: Resource & { gender?: string; birthDate?: string; deceasedBoolean?: boolean; deceasedDateTime?: string };
  patientRefs: Set<string>;
  byType: Map<string, Resource[]>;
  byUrl: Map<string, Resource>;
  /** The patient's Observations, neither entered in error nor cancelled, latest first. */
  observations: readonly ObservationLike[];
}

const round2 = (v: number) => Math.round(v * 100) / 100;
const ref = (r: Resource) => `${r.resourceType}/${r.id ?? '?'}`;
const codesOf = (c: CodeableConcept | undefined, system?: string) => (c?.coding ?? []).filter((x) => typeof x?.code === 'string' && (!system || !x.system || x.system === system));

function index(bundle: unknown, source: string): Indexed {
  const b = bundle as { resourceType?: unknown; entry?: unknown };
  if (typeof bundle !== 'object' || bundle === null || b.resourceType !== 'Bundle') {
    const found = typeof bundle === 'object' && bundle !== null ? `resourceType is ${JSON.stringify(b.resourceType)}` : 'not a JSON object';
    throw new DataError(source, undefined, undefined, `is not a FHIR R4 Bundle (${found})`);
  }
  const entries = Array.isArray(b.entry) ? (b.entry as { fullUrl?: string; resource?: Resource }[]) : [];
  const byType = new Map<string, Resource[]>();
  const byUrl = new Map<string, Resource>();
  for (const e of entries) {
    const r = e?.resource;
    if (!r || typeof r.resourceType !== 'string') continue;
    if (!byType.has(r.resourceType)) byType.set(r.resourceType, []);
    byType.get(r.resourceType)!.push(r);
    if (e.fullUrl) byUrl.set(e.fullUrl, r);
    if (r.id) byUrl.set(`${r.resourceType}/${r.id}`, r);
  }
  const patients = byType.get('Patient') ?? [];
  if (patients.length === 0) throw new DataError(source, undefined, undefined, 'has no Patient resource, so it cannot be read as one person\'s record');
  if (patients.length > 1) throw new DataError(source, undefined, undefined, `holds ${patients.length} patients; import one person's bundle at a time`);
  const patient = patients[0]! as Indexed['patient'];
  const patientRefs = new Set<string>();
  for (const e of entries) if (e?.resource === patient && e.fullUrl) patientRefs.add(e.fullUrl);
  if (patient.id) patientRefs.add(`Patient/${patient.id}`).add(`urn:uuid:${patient.id}`);
  const observations = ((byType.get('Observation') ?? []) as ObservationLike[])
    .filter((o) => o.status !== 'entered-in-error' && o.status !== 'cancelled' && aboutPatient({ patientRefs }, o))
    .sort((a, b) => time(effectiveDate(b)) - time(effectiveDate(a)));
  return { patient, patientRefs, byType, byUrl, observations };
}

function aboutPatient(ix: Pick<Indexed, 'patientRefs'>, r: { subject?: { reference?: string } }): boolean {
  const s = r.subject?.reference;
  return !s || ix.patientRefs.has(s);
}

function effectiveDate(o: ObservationLike): string | undefined {
  return o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.start ?? o.issued;
}

const time = (d: string | undefined) => {
  const t = d ? Date.parse(d) : NaN;
  return Number.isNaN(t) ? -Infinity : t;
};

// ---------------------------------------------------------------- one rule per kind of feature

function fromObservation(ix: Indexed, feature: FeatureSpec, loinc: string): FilledValue {
  const accepted = LOINC_EQUIVALENTS[loinc] ?? [loinc];
  let refused: FilledValue | undefined;
  for (const o of ix.observations) {
    const direct = codesOf(o.code, LOINC).find((c) => accepted.includes(c.code));
    const candidates: { coding: Coding; q: Quantity | undefined; panel?: Coding }[] = [];
    if (direct) candidates.push({ coding: direct, q: o.valueQuantity });
    for (const part of o.component ?? []) {
      const c = codesOf(part.code, LOINC).find((x) => accepted.includes(x.code));
      if (c) candidates.push({ coding: c, q: part.valueQuantity, panel: codesOf(o.code, LOINC)[0] });
    }
    for (const { coding, q, panel } of candidates) {
      if (typeof q?.value !== 'number' || !Number.isFinite(q.value)) continue;
      const unit = q.code ?? q.unit ?? '';
      const conv = convertUnit(q.value, unit, feature.unit, MOLAR_MASS[coding.code]);
      const base = { feature: feature.name, date: effectiveDate(o), code: { system: LOINC, code: coding.code, display: coding.display }, source: ref(o) };
      if (!conv.ok) {
        refused ??= { ...base, value: null, status: 'missing', original: { value: q.value, unit }, note: `the latest value could not be used: ${conv.reason}` };
        continue;
      }
      const converted = unit !== feature.unit && conv.value !== q.value;
      const via = panel && BP_PANELS.includes(panel.code) ? `from the blood-pressure panel ${panel.code}` : '';
      return {
        ...base,
        value: round2(conv.value),
        status: 'found',
        ...(converted ? { original: { value: q.value, unit } } : {}),
        ...(via || converted ? { note: [via, converted ? `converted from ${q.value} ${unit}` : ''].filter(Boolean).join('; ') } : {}),
      };
    }
  }
  return refused ?? { feature: feature.name, value: null, status: 'missing', note: `no observation with LOINC ${accepted.join(' or ')} in this record` };
}

function fromGender(ix: Indexed, feature: FeatureSpec): FilledValue {
  const g = ix.patient.gender;
  const base = { feature: feature.name, source: ref(ix.patient), code: { code: 'Patient.gender', display: g } };
  if (g === 'male' || g === 'female') return { ...base, value: g === 'male' ? 1 : 0, status: 'found' };
  return { ...base, value: null, status: 'missing', note: g ? `gender "${g}" does not say male or female, which this model needs` : 'the record has no gender' };
}

/** A FHIR date (YYYY, YYYY-MM or YYYY-MM-DD, or the date part of a dateTime) as a calendar day. */
function calendarDayOf(text: string): { y: number; m: number; d: number } | undefined {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(text);
  return m ? { y: Number(m[1]), m: Number(m[2] ?? 1), d: Number(m[3] ?? 1) } : undefined;
}

/**
 * Whole years between a FHIR date and a day. `asOf` is read as the device's own calendar day
 * (local time): on the evening before a birthday west of Greenwich the UTC day is already the
 * birthday, and the age would come out a year high. A string is a calendar date as written.
 */
export function ageInYears(birthDate: string, asOf: Date | string): number | undefined {
  const born = calendarDayOf(birthDate);
  const on = typeof asOf === 'string' ? calendarDayOf(asOf) : { y: asOf.getFullYear(), m: asOf.getMonth() + 1, d: asOf.getDate() };
  if (!born || !on) return undefined;
  let age = on.y - born.y;
  if (on.m < born.m || (on.m === born.m && on.d < born.d)) age--;
  return age;
}

function isoDay(asOf: Date): string {
  return `${asOf.getFullYear()}-${String(asOf.getMonth() + 1).padStart(2, '0')}-${String(asOf.getDate()).padStart(2, '0')}`;
}

function fromBirthDate(ix: Indexed, feature: FeatureSpec, asOf: Date): FilledValue {
  const p = ix.patient;
  const base = { feature: feature.name, source: ref(p), code: { code: 'Patient.birthDate', display: p.birthDate } };
  // A date of death is a calendar date as recorded; today is the device's calendar day.
  const end = p.deceasedDateTime ? p.deceasedDateTime.slice(0, 10) : isoDay(asOf);
  const age = p.birthDate ? ageInYears(p.birthDate, end) : undefined;
  if (age === undefined) return { ...base, value: null, status: 'missing', note: 'the record has no usable birth date' };
  return { ...base, value: age, status: 'derived', date: p.birthDate, note: `age on ${end} from the birth date ${p.birthDate}` };
}

function smokingStatus(ix: Indexed): { value: 0 | 1 | null; o: ObservationLike; answer: Coding } | undefined {
  for (const o of ix.observations) {
    if (!codesOf(o.code, LOINC).some((c) => c.code === SMOKING_STATUS_CODE)) continue;
    for (const answer of codesOf(o.valueCodeableConcept)) {
      if (answer.code in SMOKING_ANSWERS) return { value: SMOKING_ANSWERS[answer.code]!, o, answer };
    }
  }
  return undefined;
}

function fromSmoking(ix: Indexed, feature: FeatureSpec, cigarettes: boolean): FilledValue {
  const s = smokingStatus(ix);
  if (!s || s.value === null) {
    return { feature: feature.name, value: null, status: 'missing', note: s ? `the smoking status is "${s.answer.display ?? s.answer.code}"` : `no tobacco smoking status (LOINC ${SMOKING_STATUS_CODE}) in this record` };
  }
  const base = { feature: feature.name, date: effectiveDate(s.o), code: s.answer, source: ref(s.o) };
  if (!cigarettes) return { ...base, value: s.value, status: 'found', note: `smoking status: ${s.answer.display ?? s.answer.code}` };
  if (s.value === 0) return { ...base, value: 0, status: 'derived', note: `0 because the smoking status is "${s.answer.display ?? s.answer.code}"` };
  return { ...base, value: null, status: 'missing', note: 'a current smoker: the record does not say how many cigarettes a day' };
}

function fromConditions(ix: Indexed, feature: FeatureSpec, concept: ConditionConcept): FilledValue {
  const rule = CONDITIONS[concept];
  const conditions = (ix.byType.get('Condition') ?? []) as (Resource & { code?: CodeableConcept; clinicalStatus?: CodeableConcept; verificationStatus?: CodeableConcept; onsetDateTime?: string; recordedDate?: string; subject?: { reference?: string } })[];
  const matches = conditions
    .filter((c) => aboutPatient(ix, c))
    .filter((c) => !codesOf(c.verificationStatus).some((v) => v.code === 'refuted' || v.code === 'entered-in-error'))
    .map((c) => ({ c, coding: codesOf(c.code).find((x) => rule.codes.has(x.code)) }))
    .filter((m) => m.coding)
    .sort((a, b) => time(b.c.onsetDateTime ?? b.c.recordedDate) - time(a.c.onsetDateTime ?? a.c.recordedDate));
  const current = matches.find(({ c }) => rule.history || !codesOf(c.clinicalStatus).some((s) => ['inactive', 'resolved', 'remission'].includes(s.code)));
  if (current) {
    const status = codesOf(current.c.clinicalStatus)[0]?.code;
    return {
      feature: feature.name, value: 1, status: 'found', date: current.c.onsetDateTime ?? current.c.recordedDate, code: current.coding, source: ref(current.c),
      note: `diagnosis "${current.coding!.display ?? current.coding!.code}"${status ? ` (${status})` : ''}`,
    };
  }
  const past = matches[0];
  return {
    feature: feature.name, value: 0, status: 'assumed',
    note: past ? `the only ${rule.words} diagnosis ("${past.coding!.display}") is no longer active` : `no ${rule.words} diagnosis in this record; check this if the record is incomplete`,
  };
}

function medicationCoding(ix: Indexed, mr: Resource & { medicationCodeableConcept?: CodeableConcept; medicationReference?: { reference?: string } }): Coding | undefined {
  const concept = mr.medicationCodeableConcept ?? ((mr.medicationReference?.reference && ix.byUrl.get(mr.medicationReference.reference)) as { code?: CodeableConcept } | undefined)?.code;
  return codesOf(concept).find((c) => ANTIHYPERTENSIVE_RXNORM.has(c.code) || ANTIHYPERTENSIVE_NAMES.test(c.display ?? '')) ??
    (concept?.text && ANTIHYPERTENSIVE_NAMES.test(concept.text) ? { code: concept.text, display: concept.text } : undefined);
}

function fromMedications(ix: Indexed, feature: FeatureSpec): FilledValue {
  const requests = ((ix.byType.get('MedicationRequest') ?? []) as (Resource & { status?: string; authoredOn?: string; subject?: { reference?: string } })[])
    .filter((r) => aboutPatient(ix, r))
    .map((r) => ({ r, coding: medicationCoding(ix, r) }))
    .filter((m) => m.coding)
    .sort((a, b) => time(b.r.authoredOn) - time(a.r.authoredOn));
  const active = requests.find((m) => m.r.status === 'active' || m.r.status === 'on-hold');
  if (active) {
    return { feature: feature.name, value: 1, status: 'found', date: active.r.authoredOn, code: { system: RXNORM, ...active.coding! }, source: ref(active.r), note: `active prescription: ${active.coding!.display ?? active.coding!.code}` };
  }
  const past = requests[0];
  return {
    feature: feature.name, value: 0, status: 'assumed',
    note: past ? `blood-pressure medication "${past.coding!.display}" was stopped` : 'no active blood-pressure medication in this record; check this if the record is incomplete',
  };
}

// ---------------------------------------------------------------- which rule a feature takes

type Rule =
  | { kind: 'sex' } | { kind: 'age' } | { kind: 'smoker' } | { kind: 'cigarettes' } | { kind: 'bp-meds' }
  | { kind: 'condition'; concept: ConditionConcept } | { kind: 'observation'; loinc: string } | { kind: 'none' };

const BY_NAME: Record<string, Rule> = {
  male: { kind: 'sex' }, is_male: { kind: 'sex' }, sex_male: { kind: 'sex' },
  age: { kind: 'age' },
  current_smoker: { kind: 'smoker' }, smoker: { kind: 'smoker' },
  cigs_per_day: { kind: 'cigarettes' },
  bp_meds: { kind: 'bp-meds' },
  prevalent_hypertension: { kind: 'condition', concept: 'hypertension' }, hypertension: { kind: 'condition', concept: 'hypertension' },
  prevalent_stroke: { kind: 'condition', concept: 'stroke' }, stroke: { kind: 'condition', concept: 'stroke' },
  diabetes: { kind: 'condition', concept: 'diabetes' },
};

/** How the import fills a feature: by its name for the special ones, else by its LOINC code. */
export function fhirRuleFor(feature: Pick<FeatureSpec, 'name' | 'loinc'>): Rule {
  if (feature.loinc === SMOKING_STATUS_CODE) return { kind: 'smoker' };
  return BY_NAME[feature.name] ?? (feature.loinc ? { kind: 'observation', loinc: feature.loinc } : { kind: 'none' });
}

/**
 * Maps a parsed FHIR R4 Bundle onto a model's features. Throws DataError when the JSON is not
 * a Bundle with exactly one Patient; otherwise never throws: what cannot be read is `missing`.
 */
export function mapFhirBundle(bundle: unknown, features: readonly FeatureSpec[], options: FhirOptions = {}): FhirMapping {
  const source = options.source ?? 'the bundle';
  const asOf = options.asOf ?? new Date();
  const ix = index(bundle, source);
  const fills = features.map((f): FilledValue => {
    const rule = fhirRuleFor(f);
    switch (rule.kind) {
      case 'sex': return fromGender(ix, f);
      case 'age': return fromBirthDate(ix, f, asOf);
      case 'smoker': return fromSmoking(ix, f, false);
      case 'cigarettes': return fromSmoking(ix, f, true);
      case 'bp-meds': return fromMedications(ix, f);
      case 'condition': return fromConditions(ix, f, rule.concept);
      case 'observation': return fromObservation(ix, f, rule.loinc);
      case 'none': return { feature: f.name, value: null, status: 'missing', note: 'patient records do not carry this value; enter it yourself' };
    }
  });
  const p = ix.patient;
  const deceased = Boolean(p.deceasedBoolean || p.deceasedDateTime);
  const warnings: string[] = [];
  if (deceased) warnings.push('This record belongs to a deceased patient; age is taken at the date of death.');
  fills.forEach((fill, i) => {
    const f = features[i]!;
    if (fill.value !== null && (fill.value < f.min || fill.value > f.max)) {
      warnings.push(`${f.label}: ${fill.value}${f.unit ? ` ${f.unit}` : ''} from the record is outside the range this model accepts (${f.min}–${f.max}).`);
    }
  });
  return {
    patient: { id: p.id ?? '', birthDate: p.birthDate, gender: p.gender, deceased },
    fills,
    values: fills.map((f) => f.value),
    warnings,
  };
}
