/**
 * Clinical codes the FHIR import recognises: which LOINC codes measure the same thing as a
 * model feature's code, the molar masses for unit conversion, smoking-status answers, SNOMED CT
 * diagnoses and RxNorm blood-pressure drugs. Code lists are public terminology, nothing more.
 */

import { MOLAR_MASS_OF } from './units.ts';

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

/**
 * LOINC codes accepted for a feature's LOINC code, preferred first. Glucose in blood and in
 * serum/plasma are close enough for these models (the Framingham spec says so); molar variants
 * are converted with the analyte's molar mass.
 */
export const LOINC_EQUIVALENTS: Record<string, readonly string[]> = {
  '2339-0': ['2339-0', '2345-7', '15074-8', '14749-6', '41653-7'],
  '2345-7': ['2345-7', '2339-0', '14749-6', '15074-8'],
  '2093-3': ['2093-3', '14647-2'],
  '8867-4': ['8867-4'],
  '39156-5': ['39156-5'],
  '8480-6': ['8480-6'],
  '8462-4': ['8462-4'],
};

/**
 * Molar mass (g/mol) of the analyte a LOINC code measures, for mg/dL ⇄ mmol/L. Glucose and
 * cholesterol use the factors the form and the Clinic use (units.ts), so one value in mmol/L
 * gives the same mg/dL whichever way it came in.
 */
export const MOLAR_MASS: Record<string, number> = {
  '2339-0': MOLAR_MASS_OF.glucose,
  '2345-7': MOLAR_MASS_OF.glucose,
  '15074-8': MOLAR_MASS_OF.glucose,
  '14749-6': MOLAR_MASS_OF.glucose,
  '41653-7': MOLAR_MASS_OF.glucose,
  '2093-3': MOLAR_MASS_OF.cholesterol,
  '14647-2': MOLAR_MASS_OF.cholesterol,
  '2085-9': MOLAR_MASS_OF.cholesterol,
  '18262-6': MOLAR_MASS_OF.cholesterol,
  '2571-8': 885.7,
  '1975-2': 584.66,
  '1968-7': 584.66,
};

/** Blood-pressure panels whose components carry systolic 8480-6 and diastolic 8462-4. */
export const BP_PANELS: readonly string[] = ['85354-9', '55284-4'];

/** Tobacco smoking status (LOINC 72166-2) answers: 1 = smokes now, 0 = does not, null = unknown. */
export const SMOKING_STATUS_CODE = '72166-2';
export const SMOKING_ANSWERS: Record<string, 0 | 1 | null> = {
  // SNOMED CT
  '449868002': 1, // Smokes tobacco daily / current every day smoker
  '428041000124106': 1, // Occasional tobacco smoker / current some day smoker
  '77176002': 1, // Smoker
  '65568007': 1, // Cigarette smoker
  '428071000124103': 1, // Current heavy tobacco smoker
  '428061000124105': 1, // Current light tobacco smoker
  '230059006': 1, // Occasional cigarette smoker
  '266919005': 0, // Never smoked tobacco
  '8517006': 0, // Ex-smoker / former smoker
  '266927001': null, // Tobacco smoking consumption unknown
  // LOINC answer list LL2201-3
  'LA18976-3': 1,
  'LA18977-1': 1,
  'LA18981-3': 1,
  'LA18982-1': 1,
  'LA18979-7': 1, // smoker, current status unknown
  'LA15920-4': 0, // former
  'LA18978-9': 0, // never
  'LA18980-5': null, // unknown if ever smoked
};

export type ConditionConcept = 'hypertension' | 'diabetes' | 'stroke';

export interface ConditionRule {
  /** SNOMED CT codes that count. */
  codes: ReadonlySet<string>;
  /** What a person reads. */
  words: string;
  /** A past event counts (a resolved stroke is still a previous stroke); otherwise it must be current. */
  history: boolean;
}

export const CONDITIONS: Record<ConditionConcept, ConditionRule> = {
  hypertension: {
    codes: new Set(['38341003', '59621000', '1201005', '10725009', '78975002', '371125006', '31992008', '194783001', '697929007']),
    words: 'hypertension',
    history: false,
  },
  diabetes: {
    // Type 2 (44054006), diabetes mellitus (73211009), type 1 (46635009) and common variants; prediabetes (15777000) is not diabetes.
    codes: new Set(['44054006', '73211009', '46635009', '190330002', '190331003', '313436004', '427089005', '368581000119106', '127013003', '90781000119102', '157141000119108']),
    words: 'diabetes',
    history: false,
  },
  stroke: {
    codes: new Set(['230690007', '422504002', '432504007', '274100004', '230691006', '195189003', '230713003', '116288000']),
    words: 'stroke',
    history: true,
  },
};

/** Blood-pressure drugs as they appear in the bundles (RxNorm clinical drugs). */
export const ANTIHYPERTENSIVE_RXNORM: ReadonlySet<string> = new Set([
  '310798', // Hydrochlorothiazide 25 MG Oral Tablet
  '316049', // Hydrochlorothiazide 25 MG
  '314076', // lisinopril 10 MG Oral Tablet
  '897718', // Verapamil Hydrochloride 40 MG
  '308136', // amlodipine 2.5 MG Oral Tablet
  '197361', // amlodipine 5 MG Oral Tablet
  '866924', // metoprolol succinate ER 25 MG
  '866412', // metoprolol succinate ER 100 MG
  '979480', // losartan 100 MG
  '979485', // losartan 25 MG
  '979492', // losartan 50 MG
  '197381', // atenolol 100 MG
  '200031', // carvedilol 6.25 MG
]);

/** Blood-pressure drug ingredients, matched in a medication's name when its code is not listed. */
export const ANTIHYPERTENSIVE_NAMES =
  /\b(hydrochlorothiazide|chlorthalidone|indapamide|lisinopril|enalapril|ramipril|captopril|benazepril|quinapril|perindopril|fosinopril|losartan|valsartan|irbesartan|candesartan|olmesartan|telmisartan|amlodipine|nifedipine|felodipine|diltiazem|verapamil|metoprolol|atenolol|bisoprolol|carvedilol|propranolol|nebivolol|labetalol|clonidine|hydralazine|spironolactone|doxazosin|prazosin|terazosin|methyldopa)\b/i;
