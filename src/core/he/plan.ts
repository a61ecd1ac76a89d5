/**
 * An HE plan: everything both parties must agree on to run one model in one layout —
 * parameters, packing, where the circuit switches modulus. Its hash names it on the wire.
 * The plan is public (it goes into the model card); it reveals the feature count and the
 * padded hidden width, not the weights.
 */
import { z } from 'zod';
import { hashJson } from '../hash.ts';
import type { HeParameters } from './params.ts';
import type { LayoutName } from './layout.ts';
import type { CircuitShape } from './circuit.ts';

export const PLAN_FORMAT = 'cipherclinic/he-plan';
export const PLAN_VERSION = 1;

/** The defining part of a plan: deterministic for a model and a layout, and hashed. */
export interface PlanBody {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  modelHash: string;
  layout: LayoutName;
  params: HeParameters;
  circuit: CircuitShape;
  /** Largest |output| over all inputs; the plain modulus exceeds twice it. */
  outputBound: number;
  featureCount: number;
  /** Records one EncryptedInput carries at most. */
  recordsPerInput: number;
  /** Ciphertexts in one EncryptedInput. */
  ciphertextsPerInput: number;
  /** Rotation steps that need Galois keys (empty for batch). */
  galoisSteps: number[];
}

/** What the compiler observed when it ran the real circuit: informative, not hashed. */
export interface PlanReport {
  /** Smallest noise budget left in a decrypted result, bits. */
  noiseMarginBits: number;
  /** Margin the compiler required. */
  requiredMarginBits: number;
  evaluationKeyBytes: number;
  uploadBytesPerInput: number;
  downloadBytesPerResult: number;
  /** Candidates tried before this one, with the reason each was refused. */
  refused: { parameters: string; reason: string }[];
}

export interface HePlan extends PlanBody {
  hash: string;
  report: PlanReport;
}

export function planHash(body: PlanBody): string {
  return hashJson(body);
}

const PlanBodySchema = z.object({
  format: z.literal(PLAN_FORMAT),
  version: z.literal(PLAN_VERSION),
  modelHash: z.string(),
  layout: z.enum(['batch', 'single']),
  params: z.object({
    scheme: z.enum(['bfv', 'bgv']),
    polyModulusDegree: z.number().int(),
    coeffModulus: z.array(z.string().regex(/^\d+$/)),
    plainModulus: z.string().regex(/^\d+$/),
  }),
  circuit: z.object({
    layout: z.enum(['batch', 'single']),
    switchBeforeSquare: z.number().int().min(0),
    switchAfterSquare: z.number().int().min(0),
    single: z
      .object({ blocks: z.number().int(), unitStride: z.number().int(), groupSize: z.number().int(), steps: z.array(z.number().int()) })
      .optional(),
  }),
  outputBound: z.number(),
  featureCount: z.number().int(),
  recordsPerInput: z.number().int(),
  ciphertextsPerInput: z.number().int(),
  galoisSteps: z.array(z.number().int()),
});

/** Reads a plan received from elsewhere (a model card), checking its hash. */
export function parsePlan(json: unknown): HePlan {
  const { hash, report, ...rest } = (json ?? {}) as Record<string, unknown>;
  const parsed = PlanBodySchema.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`plan field ${issue.path.join('.')}: ${issue.message}`);
  }
  const body = parsed.data as PlanBody;
  const actual = planHash(body);
  if (hash !== actual) throw new Error(`plan hash ${String(hash)} does not match its content (${actual})`);
  return { ...body, hash: actual, report: report as PlanReport };
}
