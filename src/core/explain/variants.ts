/**
 * Which variants of a person's record to ask about, beside the record itself, in the one
 * single-layout ciphertext a prediction sends (he/layout.ts: a ciphertext has n/R regions, a
 * record fills one). Pure: the page plans, the HE worker packs, and the reference checks the
 * same list.
 *
 * - Averages: each entered feature set to the population average (the training mean: the
 *   quantized input 0), so risk(record) − risk(variant) says what that value contributed.
 * - Sweeps: each modifiable feature (MODIFIABLE) across its range, one point per input level
 *   the model can tell apart (the 4-bit quantization gives at most 15 in a feature's range),
 *   with the values tied to it (TIED: smoking status follows cigarettes per day).
 *
 * Variants that quantize alike share a region (a feature already at the average needs no
 * second region, a sweep point at the person's own level is the record). When the regions do
 * not hold everything, sweeps are thinned evenly (ends and the person's own level kept), then
 * dropped, then averages are dropped, those of values nearest the average first (a value at the
 * average costs no region; one far from it is likelier to have moved the risk): with 30 values
 * and 8 regions (breast cancer), the 7 values farthest from the average are explained and the
 * plan says which were not (`unexplained`), for the page to tell. Region 0 is always the record.
 */
import type { FeatureSpec, InputQuantization } from '../model/format.ts';
import { qMax, quantizeRecord, type PlainRecord, type QuantizedRecord } from '../model/reference.ts';

/**
 * Features people can change by treatment or habit, in the order their what-ifs are shown:
 * blood pressure, cholesterol, smoking and weight (the cardiovascular prevention targets), then
 * glucose. A model gets a sweep for each of these it has as a number, at most MAX_SWEEPS, so a
 * phone shows a few charts, not a wall of them. Anything else (age, sex, a history of stroke)
 * is explained, never offered as a what-if.
 */
export const MODIFIABLE: readonly string[] = ['systolic_bp', 'total_cholesterol', 'cigs_per_day', 'bmi', 'glucose'];
export const MAX_SWEEPS = 4;

/**
 * Values a sweep sets together with the swept one, so that no point describes a person who
 * cannot exist: cigarettes per day above 0 make a current smoker, 0 a non-smoker.
 */
const TIED: Record<string, (value: number) => Record<string, number>> = {
  cigs_per_day: (value) => ({ current_smoker: value > 0 ? 1 : 0 }),
};

/** What a plan needs of a model: its card or its file alike. */
export type ExplainableModel = { features: readonly FeatureSpec[]; input: InputQuantization };

export interface AverageVariant {
  feature: number;
  /** The population average put in place of the person's value. */
  value: number;
  region: number;
}

export interface SweepPoint {
  value: number;
  region: number;
}

export interface Sweep {
  feature: number;
  /** Ascending in value. */
  points: SweepPoint[];
}

export interface VariantPlan {
  /** Quantized records to encrypt: region r holds records[r]; region 0 is the person's own. */
  records: QuantizedRecord[];
  /** The same records as values (what each region asks), for the reference and for people. */
  plain: PlainRecord[];
  averages: AverageVariant[];
  sweeps: Sweep[];
  /** Entered features whose average did not fit in the regions (feature order): not explained by this request. */
  unexplained: number[];
}

/** The features a model offers what-ifs for: MODIFIABLE order, numbers only, at most MAX_SWEEPS. */
export function modifiableFeatures(model: Pick<ExplainableModel, 'features'>): number[] {
  const out: number[] = [];
  for (const name of MODIFIABLE) {
    const i = model.features.findIndex((f) => f.name === name && f.kind !== 'binary');
    if (i >= 0 && out.length < MAX_SWEEPS) out.push(i);
  }
  return out;
}

/** The record a sweep point asks about: feature i at `value`, and what goes with it (TIED). */
export function sweepVariant(model: Pick<ExplainableModel, 'features'>, record: PlainRecord, i: number, value: number): PlainRecord {
  const variant = record.slice();
  variant[i] = value;
  const tied = TIED[model.features[i]!.name]?.(value) ?? {};
  model.features.forEach((f, k) => {
    if (f.name in tied) variant[k] = tied[f.name]!;
  });
  return variant;
}

/** The record an average asks about: feature i at the population average, nothing else changed. */
export function averageVariant(model: ExplainableModel, record: PlainRecord, i: number): PlainRecord {
  const variant = record.slice();
  variant[i] = model.input.mean[i]!;
  return variant;
}

/** The quantized input level of value x of feature i (model/reference.ts, one feature). */
function levelOf(model: ExplainableModel, i: number, x: number): number {
  const { mean, std, scale } = model.input;
  const Q = qMax(model.input);
  return Math.max(-Q, Math.min(Q, Math.round(((x - mean[i]!) / std[i]!) * scale)));
}

/**
 * A value of feature i at input level k, inside the feature's range, as round as keeps it at
 * that level: a chart reads "140 mm[Hg]", not "141.37".
 */
function valueAtLevel(model: ExplainableModel, i: number, k: number): number {
  const f = model.features[i]!;
  const centre = Math.max(f.min, Math.min(f.max, model.input.mean[i]! + (k * model.input.std[i]!) / model.input.scale));
  for (let decimals = 0; decimals <= 4; decimals++) {
    const x = Number(centre.toFixed(decimals));
    if (x >= f.min && x <= f.max && levelOf(model, i, x) === k) return x;
  }
  return centre;
}

/** Every level feature i takes over its range, each as a round value. */
function sweepValues(model: ExplainableModel, i: number): { level: number; value: number }[] {
  const f = model.features[i]!;
  const out = [];
  for (let k = levelOf(model, i, f.min); k <= levelOf(model, i, f.max); k++) out.push({ level: k, value: valueAtLevel(model, i, k) });
  return out;
}

/** At most m of the levels, evenly spaced with both ends, plus the person's own level. */
function thin<T extends { level: number }>(levels: T[], m: number, own: number): T[] {
  if (levels.length <= m) return levels;
  const keep = new Set<number>();
  for (let s = 0; s < m; s++) keep.add(Math.round((s * (levels.length - 1)) / Math.max(1, m - 1)));
  return levels.filter((l, idx) => keep.has(idx) || l.level === own);
}

/** The variants of `record` that fit in `regions` regions, record first. */
export function planVariants(model: ExplainableModel, record: PlainRecord, regions: number): VariantPlan {
  if (!Number.isInteger(regions) || regions < 1) throw new RangeError(`regions must be a positive integer, got ${regions}`);
  const own = quantizeRecord(model, record);
  const entered = model.features.map((_, i) => i).filter((i) => record[i] !== null && record[i] !== undefined);
  const swept = modifiableFeatures(model).map((i) => ({ feature: i, levels: sweepValues(model, i) }));
  const longest = Math.max(0, ...swept.map((s) => s.levels.length));
  // Which averages go first when not all fit: those at the average (free), then farthest from it.
  const distance = (i: number) => (own[i] === 0 ? Infinity : Math.abs(own[i]!));
  const ranked = entered.slice().sort((a, b) => distance(b) - distance(a) || a - b);

  const build = (averageCount: number, perSweep: number): VariantPlan => {
    const records: QuantizedRecord[] = [own];
    const plain: PlainRecord[] = [record];
    const regionOf = new Map<string, number>([[own.join(','), 0]]);
    const place = (variant: PlainRecord): number => {
      const q = quantizeRecord(model, variant);
      const key = q.join(',');
      let region = regionOf.get(key);
      if (region === undefined) {
        region = records.length;
        regionOf.set(key, region);
        records.push(q);
        plain.push(variant);
      }
      return region;
    };
    const chosen = new Set(ranked.slice(0, averageCount));
    const averages = entered.filter((i) => chosen.has(i)).map((i) => ({ feature: i, value: model.input.mean[i]!, region: place(averageVariant(model, record, i)) }));
    const sweeps = perSweep < 2 ? [] : swept.map(({ feature, levels }) => ({ feature, points: thin(levels, perSweep, own[feature]!).map(({ value }) => ({ value, region: place(sweepVariant(model, record, feature, value)) })) }));
    return { records, plain, averages, sweeps, unexplained: entered.filter((i) => !chosen.has(i)) };
  };

  for (let m = longest; m >= 2; m--) {
    const plan = build(entered.length, m);
    if (plan.records.length <= regions) return plan;
  }
  for (let a = entered.length; a >= 0; a--) {
    const plan = build(a, 0);
    if (plan.records.length <= regions) return plan;
  }
  return build(0, 0);
}
