/**
 * Studies for tests: a Framingham manifest over N seeded site identities, the shared data split
 * among the sites (evenly, or skewed by age), and the held-out rows every test scores on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { adamState, ternarize } from '../../src/core/federated/network.ts';
import { toZ32 } from '../../src/core/federated/quantize.ts';
import { applyRoundSum, keepBest, shapeOf, siteUpdate, studyInitialParameters, vectorLength, type ChosenRound } from '../../src/core/federated/update.ts';
import type { SiteDataset } from '../../src/core/federated/records.ts';
import { studyModel } from '../../src/train/federated.ts';
import { generateIdentity, type KeyPair } from '../../src/core/federated/agreement.ts';
import { parseManifest, STUDY_FORMAT, STUDY_VERSION, type PinnedStudy, type StudyManifest } from '../../src/core/federated/manifest.ts';
import { deriveRng } from '../../src/core/federated/prng.ts';
import { readCsv, type TextTable } from '../../src/core/data/csv.ts';
import { validateRows } from '../../src/core/data/validate.ts';
import { parseModel, type TernaryModel } from '../../src/core/model/format.ts';
import { quantizeRecord, referenceScore } from '../../src/core/model/reference.ts';
import { scoreClassifier } from '../../src/core/metrics.ts';
import { sharedDataDir } from '../../src/cli/paths.ts';
import { DEFAULT_MODELS_DIR } from './server-harness.ts';
import { withCurrentSmoker } from './current-smoker.ts';

export interface TestStudy extends PinnedStudy {
  identities: KeyPair[];
}

/**
 * The studies' base: the Framingham default's features and standardization, with the data file's
 * current-smoker column put back after age. The default leaves it out (cigarettes per day
 * carries it, models/specs/framingham-chd.json); a consortium's manifest declares its own
 * features, and these studies keep the fourteen clinical columns docs/federated.md measured,
 * the column standardized on the default's training rows like the others.
 */
function studyBase(): TernaryModel {
  const model = parseModel(JSON.parse(readFileSync(join(DEFAULT_MODELS_DIR, 'framingham-chd.json'), 'utf8')));
  if (model.features.some((f) => f.name === 'current_smoker')) return model;
  const table = readCsv(readFileSync(join(sharedDataDir(), 'framingham_chd.csv'), 'utf8'), 'framingham_chd.csv');
  const column = table.columns.indexOf('current_smoker');
  const held = new Set(model.training!.testRows as number[]);
  const values = table.rows.filter((_, r) => !held.has(r)).map((row) => Number(row[column]));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return withCurrentSmoker(model, { mean, std });
}

/** A Framingham manifest over N seeded site identities, on studyBase's features and standardization. */
export function framinghamStudy(options: { id?: string; sites?: number; threshold?: number; rounds?: number; privacy?: StudyManifest['privacy']; stepSeconds?: number; hidden?: number; samplingRate?: number; learningRate?: number; monotone?: boolean }): TestStudy {
  const base = studyBase();
  const n = options.sites ?? 5;
  const rng = deriveRng(new Uint8Array(32).fill(7), 'test-study/identities');
  const identities = Array.from({ length: n }, () => generateIdentity(rng));
  const manifest: StudyManifest = {
    format: STUDY_FORMAT,
    version: STUDY_VERSION,
    id: options.id ?? 'chd-private',
    title: '10-year coronary heart disease, trained privately',
    // The default model's specs; its monotone constraints only when asked for.
    features: base.features.map(({ name, label, unit, min, max, kind, loinc, monotone }) => ({ name, label, unit, min, max, kind, ...(loinc ? { loinc } : {}), ...(options.monotone && monotone ? { monotone } : {}) })),
    standardization: { mean: base.input.mean, std: base.input.std },
    label: 'label',
    prevalence: 0.152,
    classes: base.classes,
    network: { hidden: options.hidden ?? 4 },
    schedule: { rounds: options.rounds ?? 20, learningRate: options.learningRate ?? 0.1, samplingRate: options.samplingRate ?? 0.3, stepSeconds: options.stepSeconds ?? 5 },
    update: { clip: 5, scale: 256, bits: 32 },
    privacy: options.privacy === undefined ? null : options.privacy,
    threshold: options.threshold ?? Math.floor(n / 2) + 1,
    sites: identities.map((id, k) => ({ id: `hospital-${k + 1}`, name: `Hospital ${k + 1}`, identityKey: bytesToHex(id.publicKey) })),
  };
  return { ...parseManifest(manifest), identities };
}

/** The Framingham file; every fifth row is kept out of every site for the test's own scoring. */
export function framinghamTables(sites: number, skew: 'even' | 'age'): { siteTables: TextTable[]; test: TextTable } {
  const table = readCsv(readFileSync(join(sharedDataDir(), 'framingham_chd.csv'), 'utf8'), 'framingham_chd.csv');
  const pick = (keep: (k: number) => boolean): TextTable => ({ ...table, rows: table.rows.filter((_, k) => keep(k)), lines: table.lines.filter((_, k) => keep(k)) });
  const test = pick((k) => k % 5 === 0);
  const rest = table.rows.map((_, k) => k).filter((k) => k % 5 !== 0);
  const age = table.columns.indexOf('age');
  const order = skew === 'age' ? [...rest].sort((a, b) => Number(table.rows[a]![age]) - Number(table.rows[b]![age]) || a - b) : rest;
  const siteTables = Array.from({ length: sites }, (_, s) => {
    const mine = new Set(skew === 'age' ? order.slice(Math.floor((s * order.length) / sites), Math.floor(((s + 1) * order.length) / sites)) : order.filter((_, k) => k % sites === s));
    return { ...pick((k) => mine.has(k)), source: `hospital-${s + 1}.csv` };
  });
  return { siteTables, test };
}

/** Balanced accuracy and AUC of a model file on a table, through the plaintext reference. */
export function scoreModel(model: TernaryModel, table: TextTable, label = 'label'): { balancedAccuracy: number; auc: number } {
  const column = table.columns.indexOf(label);
  const { records } = validateRows(model.features, table);
  const y = records.map((r) => Number(table.rows[r.index]![column]));
  const p = records.map((r) => 1 / (1 + Math.exp(-(model.output.scale * referenceScore(model, quantizeRecord(model, r.values)) + model.output.bias))));
  const s = scoreClassifier(y, p);
  return { balancedAccuracy: s.balancedAccuracy, auc: s.auc };
}

/**
 * The study's arithmetic without the cryptography: each round every site's update (sampling,
 * clipping, rounding, noise, held-out counts) from its own seed, summed in Z_{2^32} as the
 * unmasking yields it, and the coordinator's step and choice of round. With all sites in every
 * round this is bit for bit what the coordinator over HTTP computes (secure aggregation reveals
 * exactly this sum); with one site holding the pooled data it is the same procedure trained
 * centrally.
 */
export function simulateStudy(study: TestStudy, sites: readonly SiteDataset[], seeds: readonly Uint8Array[]): TernaryModel {
  const { manifest } = study;
  const shape = shapeOf(manifest);
  const theta = studyInitialParameters(manifest, study.hash);
  const adam = adamState(theta.length);
  let best: ChosenRound | null = null;
  for (let round = 1; round <= manifest.schedule.rounds; round++) {
    const used = theta.slice();
    const weights = ternarize(theta, shape);
    const sum = new Uint32Array(vectorLength(manifest));
    sites.forEach((data, k) => {
      const update = toZ32(siteUpdate(manifest, weights, data.train, data.heldOut, deriveRng(seeds[k]!, `site-update/round-${round}`)));
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i]! + update[i]!) >>> 0;
    });
    best = keepBest(best, round, used, applyRoundSum(manifest, theta, adam, sum));
  }
  return studyModel(manifest, best!.theta, best!.threshold, { study: manifest.id, studyHash: study.hash, sites: sites.length, rounds: manifest.schedule.rounds, epsilon: null, delta: null, heldOut: null, selectedRound: best!.round });
}

/** The sites' rows pooled: their training rows together, their held-out rows together. */
export function pooled(sites: readonly SiteDataset[]): SiteDataset {
  return {
    train: { inputs: sites.flatMap((d) => d.train.inputs), labels: sites.flatMap((d) => d.train.labels) },
    heldOut: { inputs: sites.flatMap((d) => d.heldOut.inputs), labels: sites.flatMap((d) => d.heldOut.labels) },
    problems: [],
  };
}
