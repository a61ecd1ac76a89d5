/**
 * The lab's honest evaluation: the model on screen came from one split, and one split is one
 * draw. `repeat` trains the same request (file, features, directions, settings) on more
 * stratified splits, seeds 1..N, with `repeatedEvaluation` (the code `cipherclinic train
 * --repeats N` runs), and returns every split's scores, their summary and the targets. Nothing
 * trained here is kept: it measures the procedure, not the model.
 */
import { betterFloat, repeatedEvaluation, targets, targetsSentence, type RepeatedEvaluation } from '../../src/train/repeated.ts';
import { startBackend, type BackendChoice } from './backend.ts';
import { readDataset } from './dataset.ts';
import { trainOptionsOf, type TrainPhase, type TrainRequest } from './train.ts';

export interface RepeatRequest extends TrainRequest {
  /** Splits to train on (seeds 1..repeats). */
  repeats: number;
}

/** Where a repeated evaluation is: the split being trained and, within it, the last epoch reported. */
export interface RepeatProgress {
  split: number;
  splits: number;
  phase?: TrainPhase;
  epoch?: number;
  epochs?: number;
  elapsedMs: number;
}

export interface RepeatOutcome {
  backend: BackendChoice;
  evaluation: RepeatedEvaluation;
  /** The better float baseline, as the targets compare against it. */
  better: 'logistic' | 'float';
  targets: ReturnType<typeof targets>;
  /** The targets in the CLI's words. */
  sentence: string;
  totalMs: number;
}

export async function repeat(request: RepeatRequest, onProgress?: (p: RepeatProgress) => void): Promise<RepeatOutcome> {
  if (!Number.isInteger(request.repeats) || request.repeats < 2) throw new Error(`the number of splits must be a whole number of at least 2, not ${request.repeats}`);
  const data = readDataset(request);
  const chosen = await startBackend(request.backend);
  const t0 = performance.now();
  let split = 1;
  const report = (p: Omit<RepeatProgress, 'split' | 'splits' | 'elapsedMs'>) => onProgress?.({ ...p, split, splits: request.repeats, elapsedMs: performance.now() - t0 });
  report({});
  const evaluation = await repeatedEvaluation(
    data,
    { ...trainOptionsOf(request, chosen), onProgress: (e) => report({ phase: e.phase, epoch: e.epoch, epochs: e.epochs }) },
    {
      repeats: request.repeats,
      onSplit: (done) => {
        split = Math.min(done + 1, request.repeats);
        if (done < request.repeats) report({});
      },
    },
  );
  return { backend: chosen, evaluation, better: betterFloat(evaluation.summary), targets: targets(evaluation), sentence: targetsSentence(evaluation), totalMs: performance.now() - t0 };
}
