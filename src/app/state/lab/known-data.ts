/**
 * The data sets the default models come from (`models/specs/*.json`). When the lab loads one of
 * those files (same file name, same label column), it trains the way `cipherclinic train --spec`
 * does: the spec's features, what they mean and the directions of risk it declares (with their
 * reasons and sources), the columns where a 0 means "not measured", and the training settings
 * the spec chose by measurement (input bits, distillation, input weights, how many runs, a sum of runs). Only
 * the file name, label, features, missing-as-zero columns and `training` part are read.
 */
import type { DatasetSpec } from '../../../core/data/spec.ts';
import type { FeatureSpec } from '../../../core/model/format.ts';

/** Each spec as the repository holds it (a few kilobytes each). */
const specs = import.meta.glob<DatasetSpec>('../../../../models/specs/*.json', { eager: true, import: 'default' });

/** A spec's settings for the file the lab loaded. */
export interface KnownDataset {
  /** The spec's path in the repository, e.g. models/specs/framingham-chd.json. */
  spec: string;
  file: string;
  label: string;
  /** The spec's features, in its order: the columns the default model reads, and what they mean. */
  features: FeatureSpec[];
  /** Columns where a 0 in the file means the value was not measured. */
  missingAsZero: string[];
  inputBits?: 4 | 5;
  /** The teacher's weight in the TernaryNet's training targets (src/train/teacher.ts). */
  distill?: number;
  /** Per-feature input weights from the teacher's coefficients (src/train/input-weights.ts). */
  inputWeights?: NonNullable<DatasetSpec['training']>['inputWeights'];
  /** TernaryNet runs trained and compared (the first of TERNARY_CANDIDATES; undefined: all 8). */
  runs?: 1 | 4 | 8;
  /** TernaryNet runs summed into the model (src/train/ensemble.ts). */
  ensemble?: number;
  /** The measurement that chose the training settings, in the spec's words ('' when it sets none). */
  why: string;
}

const KNOWN: KnownDataset[] = Object.entries(specs).map(([path, spec]) => ({
  spec: `models/specs/${path.split('/').pop()}`,
  file: spec.data,
  label: spec.label,
  features: spec.features,
  missingAsZero: spec.missingAsZero ?? [],
  inputBits: spec.training?.inputBits,
  distill: spec.training?.distill,
  inputWeights: spec.training?.inputWeights,
  runs: spec.training?.runs,
  ensemble: spec.training?.ensemble,
  why: spec.training?.why ?? '',
}));

/** The spec whose data file this is (same file name, same label column). */
export function knownDataset(fileName: string, label: string): KnownDataset | undefined {
  return KNOWN.find((k) => k.file === fileName && k.label === label);
}
