/**
 * Expected cost of a compiled plan, from one round trip measured on this device: when the lab
 * compiles a model's plans, the HE worker encrypts, evaluates and decrypts one input under each
 * plan with throwaway keys (never the ring's) and times each stage. A full batch input costs
 * what one record's does (its records ride the slots of the same ciphertexts), so the cost a
 * record is the input's divided by the records it holds.
 *
 * Evaluation is timed in this browser; the service evaluates on its own machine (on the
 * project's 2-core machine in Node, 38–51 ms for the default models' single-record plans), so
 * the figure is what this device would take, and the estimate says so.
 */
import type { HePlan } from '../../core/he/plan.ts';

/** One input's round trip under a plan, as the HE worker measured it. */
export interface MeasuredRoundTrip {
  encryptMs: number;
  evaluateMs: number;
  decryptMs: number;
}

export interface LatencyEstimate {
  /** Client-side encryption of one input, evaluation, client decryption (ms). */
  encryptMs: number;
  evaluateMs: number;
  decryptMs: number;
  /** All three, per input and per record (batch inputs carry up to recordsPerInput records). */
  perInputMs: number;
  perRecordMs: number;
  recordsPerInput: number;
  /** Where the figures come from, in words. */
  basis: string;
  /** True when scaled from other figures rather than measured on this plan (never, today). */
  scaled: boolean;
}

/** Expected latency of a plan from its measured round trip, or undefined when none was measured. */
export function expectedLatency(plan: Pick<HePlan, 'recordsPerInput'>, measured: MeasuredRoundTrip | undefined): LatencyEstimate | undefined {
  if (!measured) return undefined;
  const { encryptMs, evaluateMs, decryptMs } = measured;
  if (![encryptMs, evaluateMs, decryptMs].every((v) => Number.isFinite(v) && v >= 0)) return undefined;
  const perInputMs = encryptMs + evaluateMs + decryptMs;
  return {
    encryptMs,
    evaluateMs,
    decryptMs,
    perInputMs,
    perRecordMs: perInputMs / plan.recordsPerInput,
    recordsPerInput: plan.recordsPerInput,
    basis: 'one input measured on this device with throwaway keys (evaluation too, which the service does on its own machine)',
    scaled: false,
  };
}
