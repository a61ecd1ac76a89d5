/**
 * The variant planner on the default models' cards: every region asks what it says it asks,
 * nothing overflows the ciphertext, sweeps cover each modifiable feature's range level by level,
 * and the risks read back are the model's own decoding of each region.
 */
import { readFile, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseModel, type TernaryModel } from '../model/format.ts';
import { decodeRisk, qMax, quantizeRecord, referenceScore, type PlainRecord } from '../model/reference.ts';
import { averageVariant, modifiableFeatures, planVariants, readExplanation, sweepVariant } from './index.ts';
import { withCurrentSmoker } from '../../../tests/support/current-smoker.ts';

const modelsDir = resolve(import.meta.dirname, '../../../models');
const models: TernaryModel[] = await Promise.all(
  (await readdir(modelsDir)).filter((f) => f.endsWith('.json')).sort().map(async (f) => parseModel(JSON.parse(await readFile(resolve(modelsDir, f), 'utf8')))),
);
const byId = (id: string) => models.find((m) => m.id === id)!;

/** Records anywhere in each feature's range, some values missing. */
function records(model: TernaryModel) {
  return fc.tuple(...model.features.map((f) => fc.option(f.kind === 'binary' ? fc.constantFrom(0, 1) : fc.double({ min: f.min, max: f.max, noNaN: true }), { freq: 6 }))) as fc.Arbitrary<PlainRecord>;
}

describe('modifiable features', () => {
  it('are blood pressure, cholesterol, smoking and BMI for Framingham; BMI and glucose for Pima; none for the others', () => {
    const names = (id: string) => modifiableFeatures(byId(id)).map((i) => byId(id).features[i]!.name);
    expect(names('framingham-chd')).toEqual(['systolic_bp', 'total_cholesterol', 'cigs_per_day', 'bmi']);
    expect(names('pima-diabetes')).toEqual(['bmi', 'glucose']);
    expect(names('breast-cancer')).toEqual([]);
    expect(names('liver-patient')).toEqual([]);
  });
});

describe.each(models.map((m) => [m.id, m] as const))('%s', (_id, model) => {
  // Regions of each default single plan: n = 4096 coefficients, a record's features and their
  // pairwise products (L = d + d(d+1)/2) in each region: Pima 93, liver 63, Framingham 34, breast 8.
  const d = model.features.length;
  const regions = Math.floor(4096 / (d + (d * (d + 1)) / 2));

  it('plans regions that ask what they say, within the ciphertext', () => {
    fc.assert(
      fc.property(records(model), (record) => {
        const plan = planVariants(model, record, regions);
        expect(plan.records.length).toBeLessThanOrEqual(regions);
        expect(plan.records[0]).toEqual(quantizeRecord(model, record));
        // Each region's quantized record is its plain record, and no two regions ask the same.
        plan.plain.forEach((p, r) => expect(quantizeRecord(model, p)).toEqual(plan.records[r]));
        expect(new Set(plan.records.map((q) => q.join(','))).size).toBe(plan.records.length);
        const entered = record.flatMap((v, i) => (v === null ? [] : [i]));
        // Every entered value is explained or said to be unexplained; all are explained when they fit.
        expect([...plan.averages.map((a) => a.feature), ...plan.unexplained].sort((a, b) => a - b)).toEqual(entered);
        const own = plan.records[0]!;
        const costly = entered.filter((i) => own[i] !== 0).length;
        if (costly < regions) expect(plan.unexplained).toEqual([]);
        // What is left out is never nearer the average than what is kept, and a value at the average is always kept.
        for (const u of plan.unexplained) {
          expect(own[u]).not.toBe(0);
          for (const a of plan.averages) if (own[a.feature] !== 0) expect(Math.abs(own[a.feature]!)).toBeGreaterThanOrEqual(Math.abs(own[u]!));
        }
        // A region shared by equal variants asks, after quantization, what each of them asks.
        for (const a of plan.averages) {
          expect(a.value).toBe(model.input.mean[a.feature]);
          const asked = averageVariant(model, record, a.feature);
          asked.forEach((v, i) => expect(v).toBe(i === a.feature ? a.value : record[i]));
          expect(plan.records[a.region]).toEqual(quantizeRecord(model, asked));
        }
        expect(plan.sweeps.map((s) => s.feature)).toEqual(modifiableFeatures(model));
        for (const s of plan.sweeps) {
          const f = model.features[s.feature]!;
          const levels = s.points.map((p) => plan.records[p.region]![s.feature]!);
          // Levels ascending, from the range's lowest level to its highest: every level when the
          // regions hold them all (5-bit Framingham's 4 × 31 levels do not fit 64 regions: thinned).
          levels.slice(1).forEach((l, k) => expect(l).toBeGreaterThan(levels[k]!));
          const room = regions - 1 - plan.averages.length >= modifiableFeatures(model).length * (2 * qMax(model.input) + 1);
          if (room) expect(levels).toEqual(Array.from({ length: levels.length }, (_, k) => levels[0]! + k));
          expect(levels[0]).toBe(quantizeRecord(model, model.features.map((_, i) => (i === s.feature ? f.min : null)))[s.feature]);
          expect(levels.at(-1)).toBe(quantizeRecord(model, model.features.map((_, i) => (i === s.feature ? f.max : null)))[s.feature]);
          for (const p of s.points) {
            expect(p.value >= f.min && p.value <= f.max).toBe(true);
            const asked = sweepVariant(model, record, s.feature, p.value);
            expect(asked[s.feature]).toBe(p.value);
            expect(plan.records[p.region]).toEqual(quantizeRecord(model, asked));
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads each region as the model decodes it', () => {
    fc.assert(
      fc.property(records(model), (record) => {
        const plan = planVariants(model, record, regions);
        const scores = plan.records.map((q) => referenceScore(model, q));
        const read = readExplanation(plan, model.output, scores);
        expect(read.risk).toBe(decodeRisk(model.output, scores[0]!));
        for (const c of read.contributions) {
          expect(c.change).toBeCloseTo(read.risk - decodeRisk(model.output, referenceScore(model, quantizeRecord(model, averageVariant(model, record, c.feature)))), 12);
        }
        for (const w of read.whatIfs) {
          for (const p of w.points) expect(p.risk).toBe(decodeRisk(model.output, referenceScore(model, quantizeRecord(model, sweepVariant(model, record, w.feature, p.value)))));
        }
      }),
      { numRuns: 30 },
    );
  });
});

it('sweeps cigarettes per day with smoking status tied to it: 0 a non-smoker, more a smoker', () => {
  const model = withCurrentSmoker(byId('framingham-chd'), { mean: 0.5, std: 0.5 });
  const cigs = model.features.findIndex((f) => f.name === 'cigs_per_day');
  const smoker = model.features.findIndex((f) => f.name === 'current_smoker');
  const record = model.features.map((f) => (f.name === 'current_smoker' || f.name === 'cigs_per_day' ? 0 : model.input.mean[model.features.indexOf(f)]!));
  const sweep = planVariants(model, record, 64).sweeps.find((s) => s.feature === cigs)!;
  expect(sweep.points[0]!.value).toBe(0);
  for (const p of sweep.points) expect(sweepVariant(model, record, cigs, p.value)[smoker]).toBe(p.value > 0 ? 1 : 0);
  // Other sweeps and the averages leave smoking status as entered.
  expect(sweepVariant(model, record, model.features.findIndex((f) => f.name === 'bmi'), 40)[smoker]).toBe(0);
  expect(averageVariant(model, record, cigs)[smoker]).toBe(0);
});

it('thins sweeps evenly, keeping both ends and the own level, when regions run short', () => {
  const model = byId('framingham-chd');
  const record = model.input.mean.map((m, i) => (model.features[i]!.kind === 'binary' ? 1 : m + model.input.std[i]! / model.input.scale));
  // 256 regions hold every level of the four sweeps (at most 4 × 31 at 5 bits) beside the 14 averages.
  const full = planVariants(model, record, 256);
  for (const s of full.sweeps) {
    const levels = s.points.map((p) => full.records[p.region]![s.feature]!);
    expect(levels).toEqual(Array.from({ length: levels.length }, (_, k) => levels[0]! + k));
  }
  const tight = planVariants(model, record, 32);
  expect(tight.records.length).toBeLessThanOrEqual(32);
  expect(tight.averages).toHaveLength(model.features.length);
  tight.sweeps.forEach((s, k) => {
    const all = full.sweeps[k]!.points.map((p) => p.value);
    const kept = s.points.map((p) => p.value);
    expect(kept.length).toBeLessThan(all.length);
    expect(kept[0]).toBe(all[0]);
    expect(kept.at(-1)).toBe(all.at(-1));
    expect(s.points.some((p) => p.region === 0)).toBe(true);
  });
  // With one region, only the record itself, and every value said to be unexplained.
  const one = planVariants(model, record, 1);
  expect(one.records).toHaveLength(1);
  expect(one.averages).toEqual([]);
  expect(one.sweeps).toEqual([]);
  expect(one.unexplained).toEqual(model.features.map((_, i) => i));
});

it('explains the breast cancer values farthest from the average in its 8 regions, and says which it could not', () => {
  const model = byId('breast-cancer');
  // Feature i is i/2 standard deviations above its mean, alternately (levels grow with i, capped at qMax).
  const record = model.input.mean.map((m, i) => m + ((i % 2 ? 1 : -1) * (i / 2) * model.input.std[i]!) / model.input.scale);
  const plan = planVariants(model, record, 8);
  expect(plan.records).toHaveLength(8);
  expect(plan.sweeps).toEqual([]);
  const own = plan.records[0]!;
  // Values at the average (features 0 and 1 quantize to level 0) are explained for free; the 7 other regions go to the 7 farthest values.
  const all = model.features.map((_, i) => i);
  const atAverage = all.filter((i) => own[i] === 0);
  expect(atAverage.length).toBeGreaterThan(0);
  const farthest = all.filter((i) => own[i] !== 0).sort((a, b) => Math.abs(own[b]!) - Math.abs(own[a]!) || a - b).slice(0, 7);
  expect(plan.averages.map((a) => a.feature)).toEqual([...atAverage, ...farthest].sort((a, b) => a - b));
  expect(plan.unexplained).toHaveLength(30 - atAverage.length - 7);
  const read = readExplanation(plan, model.output, plan.records.map((q) => referenceScore(model, q)));
  expect(read.unexplained).toEqual(plan.unexplained);
  expect(read.contributions).toHaveLength(atAverage.length + 7);
});
