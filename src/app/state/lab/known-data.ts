/**
 * The data sets the default models come from (`models/specs/*.json`) and the training settings
 * their specs choose by measurement. When the lab loads one of those files, it trains with the
 * spec's settings (the input bits, distillation and input weights), as `cipherclinic train --spec` does. Only the file
 * name, the label and the `training` part of each spec are read.
 */
import type { DatasetSpec } from '../../../core/data/spec.ts';

/** Each spec as the repository holds it (a few kilobytes each; the lab reads the file name, label and training settings). */
const specs = import.meta.glob<DatasetSpec>('../../../../models/specs/*.json', { eager: true, import: 'default' });

/** A spec's settings for the file the lab loaded. */
export interface KnownDataset {
  /** The spec's path in the repository, e.g. models/specs/framingham-chd.json. */
  spec: string;
  file: string;
  label: string;
  inputBits?: 4 | 5;
  /** The teacher's weight in the TernaryNet's training targets (src/train/teacher.ts). */
  distill?: number;
  /** Per-feature input weights from the teacher's coefficients (src/train/input-weights.ts). */
  inputWeights?: NonNullable<DatasetSpec['training']>['inputWeights'];
  /** The measurement that chose the settings, in the spec's words. */
  why: string;
}

const KNOWN: KnownDataset[] = Object.entries(specs).flatMap(([path, spec]) =>
  spec.training ? [{ spec: `models/specs/${path.split('/').pop()}`, file: spec.data, label: spec.label, inputBits: spec.training.inputBits, distill: spec.training.distill, inputWeights: spec.training.inputWeights, why: spec.training.why }] : [],
);

/** The spec whose data file this is (same file name, same label column), if it sets training settings. */
export function knownDataset(fileName: string, label: string): KnownDataset | undefined {
  return KNOWN.find((k) => k.file === fileName && k.label === label);
}
