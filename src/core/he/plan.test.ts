/**
 * Plans as they travel in model cards: a compiled plan of either layout reads back equal, and a
 * plan of the former version, a circuit of the other layout or a changed field is refused with
 * the field named.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from './compile.ts';
import { parsePlan, planHash, PLAN_VERSION, type HePlan } from './plan.ts';
import { syntheticModel } from '../../../tests/support/synthetic.ts';

const model = syntheticModel(6, 5, 3, 'plan-model');
const plans: Partial<Record<'batch' | 'single', HePlan>> = {};

beforeAll(async () => {
  plans.batch = await compilePlan(model, 'batch');
  plans.single = await compilePlan(model, 'single');
});

/** A plan body edited and re-hashed, so that only the schema can refuse it. */
function edited(plan: HePlan, edit: (body: Record<string, unknown>) => void): unknown {
  const { hash: _hash, report, ...body } = structuredClone(plan) as HePlan & Record<string, unknown>;
  edit(body);
  return { ...body, hash: planHash(body as never), report };
}

describe('plan format', () => {
  it.each(['batch', 'single'] as const)('reads a compiled %s plan back as it was', (layout) => {
    const plan = plans[layout]!;
    expect(plan.version).toBe(PLAN_VERSION);
    expect(plan.galoisSteps).toEqual([]);
    expect(plan.keys).toEqual(layout === 'batch' ? { relin: true, publicKey: false } : { relin: false, publicKey: true });
    expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('refuses former versions, mixed layouts and changed fields, naming the field', () => {
    const single = plans.single!;
    expect(() => parsePlan(edited(single, (b) => (b.version = 1)))).toThrow(/plan field version/);
    expect(() => parsePlan(edited(single, (b) => (b.circuit = plans.batch!.circuit)))).toThrow(/circuit.layout/);
    expect(() => parsePlan(edited(single, (b) => delete (b as { keys?: unknown }).keys))).toThrow(/plan field keys/);
    expect(() => parsePlan(edited(single, (b) => ((b.circuit as { result: { k1: number } }).result.k1 = 99)))).toThrow(/plan field circuit.result.k1/);
    expect(() => parsePlan({ ...single, outputBound: single.outputBound + 1 })).toThrow(/does not match its content/);
  });
});
