/**
 * Worker operation for the training lab's encryption preview: compile a freshly trained
 * model's plans with the real compiler (SEAL parameters chosen and the circuit verified with
 * throwaway keys, never the ring's), as the server will when the model is published, and time
 * one input's round trip under each plan on this device (the preview's expected latency).
 */
import { compilePlan } from '../../src/core/he/compile.ts';
import { encryptedScores } from '../../src/core/he/roundtrip.ts';
import type { LayoutName } from '../../src/core/he/layout.ts';
import type { HePlan } from '../../src/core/he/plan.ts';
import { parseModel } from '../../src/core/model/format.ts';

export interface CompiledPlans {
  plans: Partial<Record<LayoutName, HePlan>>;
  /** One input's round trip under each plan, timed here with throwaway keys (absent if it could not run). */
  timings: Partial<Record<LayoutName, { encryptMs: number; evaluateMs: number; decryptMs: number }>>;
  /** Why a layout has no plan, in words. */
  errors: Partial<Record<LayoutName, string>>;
  ms: number;
}

export async function compile(modelJson: unknown): Promise<CompiledPlans> {
  const t0 = performance.now();
  const model = parseModel(modelJson);
  const out: CompiledPlans = { plans: {}, timings: {}, errors: {}, ms: 0 };
  for (const layout of ['single', 'batch'] as const) {
    try {
      out.plans[layout] = await compilePlan(model, layout);
    } catch (e) {
      out.errors[layout] = (e as Error).message;
    }
  }
  out.ms = performance.now() - t0;
  // Timed after compiling (which `ms` counts alone): a record of typical values, one input.
  for (const [layout, plan] of Object.entries(out.plans) as [LayoutName, HePlan][]) {
    try {
      const { timings } = await encryptedScores(model, plan, [new Int32Array(model.features.length)]);
      out.timings[layout] = { encryptMs: timings.encryptMs, evaluateMs: timings.evaluateMs, decryptMs: timings.decryptMs };
    } catch {
      // No estimate rather than a wrong one; the plan itself was verified by the compiler.
    }
  }
  return out;
}
