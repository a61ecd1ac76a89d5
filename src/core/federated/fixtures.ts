/**
 * A small study for tests, benchmarks and in-process simulations: N sites with identities
 * derived from a seed, so that every run sees the same keys and the same study hash.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { generateIdentity, type KeyPair } from './agreement.ts';
import { parseManifest, STUDY_FORMAT, STUDY_VERSION, type PinnedStudy, type StudyManifest } from './manifest.ts';
import { deriveRng } from './prng.ts';

export interface ExampleStudy extends PinnedStudy {
  /** Identity key pairs, index k − 1 for site k. */
  identities: KeyPair[];
}

export interface ExampleStudyOptions {
  sites?: number;
  threshold?: number;
  seed?: Uint8Array;
  privacy?: StudyManifest['privacy'];
  rounds?: number;
  samplingRate?: number;
}

/** A valid manifest over two Framingham-like features, with seeded site identities. */
export function exampleStudy(options: ExampleStudyOptions = {}): ExampleStudy {
  const n = options.sites ?? 5;
  const t = options.threshold ?? Math.floor(n / 2) + 1;
  const rng = deriveRng(options.seed ?? new Uint8Array(32), 'example-study/identities');
  const identities = Array.from({ length: n }, () => generateIdentity(rng));
  const manifest: StudyManifest = {
    format: STUDY_FORMAT,
    version: STUDY_VERSION,
    id: 'example-chd',
    title: 'Example: 10-year coronary heart disease',
    features: [
      { name: 'age', label: 'Age', unit: 'a', min: 20, max: 100, kind: 'number' },
      { name: 'sysBP', label: 'Systolic blood pressure', unit: 'mm[Hg]', min: 70, max: 300, kind: 'number' },
    ],
    label: 'TenYearCHD',
    classes: ['no CHD in 10 years', 'CHD in 10 years'],
    network: { hidden: 4 },
    schedule: { rounds: options.rounds ?? 50, learningRate: 0.5, samplingRate: options.samplingRate ?? 0.05, stepSeconds: 30 },
    update: { clip: 1, scale: 64, bits: 32 },
    privacy: options.privacy === undefined ? { epsilon: 3, delta: 1e-5, noiseMultiplier: 1.1 } : options.privacy,
    threshold: t,
    sites: identities.map((id, k) => ({ id: `site-${k + 1}`, name: `Hospital ${k + 1}`, identityKey: bytesToHex(id.publicKey) })),
  };
  return { ...parseManifest(manifest), identities };
}
