/**
 * Worker operation for the training lab's encryption preview: compile a freshly trained
 * model's plans with the real compiler (SEAL parameters chosen and the circuit verified with
 * throwaway keys, never the ring's), as the server will when the model is published.
 */
import { compilePlan } from '../../src/core/he/compile.ts';
import type { LayoutName } from '../../src/core/he/layout.ts';
import type { HePlan } from '../../src/core/he/plan.ts';
import { parseModel } from '../../src/core/model/format.ts';

export interface CompiledPlans {
  plans: Partial<Record<LayoutName, HePlan>>;
  /** Why a layout has no plan, in words. */
  errors: Partial<Record<LayoutName, string>>;
  ms: number;
}

export async function compile(modelJson: unknown): Promise<CompiledPlans> {
  const t0 = performance.now();
  const model = parseModel(modelJson);
  const out: CompiledPlans = { plans: {}, errors: {}, ms: 0 };
  for (const layout of ['single', 'batch'] as const) {
    try {
      out.plans[layout] = await compilePlan(model, layout);
    } catch (e) {
      out.errors[layout] = (e as Error).message;
    }
  }
  out.ms = performance.now() - t0;
  return out;
}
