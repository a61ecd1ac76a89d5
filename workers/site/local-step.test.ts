/**
 * The site's local step where TensorFlow.js cannot run: here, in Node, there is no Worker to
 * start the training worker in, so the step must fall back to the command-line site's float64
 * arithmetic, give exactly its gradients, and say so (the site panel shows what it reports).
 */
import { describe, expect, it } from 'vitest';
import { ternarize } from '../../src/core/federated/network.ts';
import { siteDataset } from '../../src/core/federated/records.ts';
import { classWeights, float64Step, shapeOf, studyInitialParameters } from '../../src/core/federated/update.ts';
import { framinghamStudy, framinghamTables } from '../../tests/support/study.ts';
import { SiteLocalStep, type LocalBackend } from './local-step.ts';

describe('a local step without a training worker', () => {
  it('falls back to float64, gives its gradients exactly, and says why', async () => {
    expect((globalThis as { Worker?: unknown }).Worker).toBeUndefined();
    const study = framinghamStudy({ id: 'chd-fallback', rounds: 1 });
    const site = siteDataset(study.manifest, framinghamTables(3, 'even').siteTables[0]!, new Uint8Array(32).fill(7));
    const weights = ternarize(studyInitialParameters(study.manifest, study.hash), shapeOf(study.manifest));
    const [negative, positive] = classWeights(study.manifest);
    const records = { inputs: site.train.inputs.slice(0, 16), labels: site.train.labels.slice(0, 16) };
    const recordWeights = Float64Array.from(records.labels, (l) => (l === 1 ? positive : negative));

    const reports: LocalBackend[] = [];
    const local = new SiteLocalStep((b) => reports.push(b));
    const rows = await local.step(weights, records, recordWeights);
    const expected = float64Step(weights, records, recordWeights);
    expect(rows).toHaveLength(16);
    rows.forEach((row, k) => expect(Array.from(row)).toEqual(Array.from(expected[k]!)));
    expect(reports.at(-1)!.name).toBe('float64');
    expect(reports.at(-1)!.reason).toMatch(/^TensorFlow\.js could not run here \(.+\): float64 JavaScript in the site worker/);
    expect(reports.at(-1)!.ms).toBeGreaterThanOrEqual(0);
    // It does not try again on the next step: same answer, float64 still.
    const again = await local.step(weights, records, recordWeights);
    expect(Array.from(again[0]!)).toEqual(Array.from(expected[0]!));
    expect(reports.every((r) => r.name === 'float64')).toBe(true);
    local.dispose();
  });
});
