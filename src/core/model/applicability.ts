/**
 * Whether a record is of someone like the people a model learned from. A model trained on women
 * aged 21 or more says nothing reliable about a man or a child, yet it still returns a number:
 * the app says so before predicting and beside the result. Only what a record can show is checked
 * (sex, age); `who` states the rest (heritage, place) for the person to judge.
 */
import type { Population } from './about.ts';
import type { FeatureSpec } from './format.ts';

/** What a record tells about the person: from the form's values or a FHIR Patient resource. */
export interface Person {
  sex?: 'female' | 'male';
  /** Age in years. */
  age?: number;
}

export interface Applicability {
  /** True when nothing in the record falls outside the population. */
  fits: boolean;
  /** What falls outside, in words ("this record is of a man"). */
  outside: string[];
}

/** Binary features that hold sex, 1 meaning male, in the default models' data. */
const MALE_FEATURES = ['male', 'is_male'];

/**
 * The person a record describes: age from a feature named `age` (years), sex from a 0/1 male
 * feature; `patient` (a FHIR Patient's gender and age) fills what the values do not hold.
 */
export function personOf(features: readonly FeatureSpec[], record: readonly (number | null | undefined)[], patient: { gender?: string; age?: number } = {}): Person {
  const valueOf = (name: string) => {
    const i = features.findIndex((f) => f.name === name);
    const v = i < 0 ? undefined : record[i];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const person: Person = {};
  const age = valueOf('age') ?? patient.age;
  if (age !== undefined) person.age = age;
  const male = MALE_FEATURES.map(valueOf).find((v) => v !== undefined);
  if (male === 1) person.sex = 'male';
  else if (male === 0) person.sex = 'female';
  else if (patient.gender === 'female' || patient.gender === 'male') person.sex = patient.gender;
  return person;
}

/** Checks a person against a model's declared population; an undeclared one fits everybody. */
export function checkApplicability(population: Population | undefined, person: Person): Applicability {
  const outside: string[] = [];
  if (population?.sex && person.sex && person.sex !== population.sex) outside.push(`this record is of a ${person.sex === 'male' ? 'man' : 'woman'}`);
  const age = population?.age;
  if (age && person.age !== undefined) {
    if (age.min !== undefined && person.age < age.min) outside.push(`this record gives age ${formatAge(person.age)}, younger than anyone it learned from (${age.min})`);
    if (age.max !== undefined && person.age > age.max) outside.push(`this record gives age ${formatAge(person.age)}, older than anyone it learned from (${age.max})`);
  }
  return { fits: outside.length === 0, outside };
}

const formatAge = (age: number) => String(Math.round(age * 10) / 10);

/** The warning shown before a prediction and beside its result; undefined when the record fits. */
export function applicabilityWarning(population: Population | undefined, person: Person): string | undefined {
  const check = checkApplicability(population, person);
  if (check.fits || !population) return undefined;
  return `This model learned from ${population.who}; ${check.outside.join(', and ')}. Its estimate may not apply to this person: it has not seen anyone like them, so the number it gives could be far off. Take it as no more than a rough indication, and discuss it with a clinician.`;
}
