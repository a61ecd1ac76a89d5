/**
 * An HE plan: everything both parties must agree on to run one model in one layout —
 * parameters, packing, the circuit's shape, which keys the server needs and how results come
 * back. Its hash names it on the wire. The plan is public (it goes into the model card); it
 * reveals the feature count, not the weights.
 */
import { z } from 'zod';
import { hashJson } from '../hash.ts';
import type { HeParameters } from './params.ts';
import type { LayoutName } from './layout.ts';
import { firstIssue } from '../schema-issue.ts';

export const PLAN_FORMAT = 'cipherclinic/he-plan';
export const PLAN_VERSION = 2;

/** Batch: feature-major slots, additions, one square; where the circuit switches modulus. */
export interface BatchCircuit {
  layout: 'batch';
  /** Modulus switches after the first layer (before the square). */
  switchBeforeSquare: number;
  /** Modulus switches after the square. */
  switchAfterSquare: number;
}

/**
 * Single: the model as a quadratic form (quadratic.ts), one plaintext product on coefficient-
 * encoded feature vectors, the result re-randomized and flooded, then sent sparse.
 */
export interface QuadraticCircuit {
  layout: 'single';
  form: 'quadratic';
  /** L: coefficients one record occupies; its output lands at the region's last one. */
  regionLength: number;
  /** k ≤ ⌊n / L⌋ records (a record and its variants) per ciphertext: fewer when the flood over all would not fit. */
  regions: number;
  /** f: the result's c0 is flooded with uniform noise in [−2^f, 2^f) at the output positions. */
  floodBits: number;
  /** Bits per coefficient of the sparse result: c0 at the k positions (k0), c1 whole (k1). */
  result: { k0: number; k1: number };
}

export type CircuitShape = BatchCircuit | QuadraticCircuit;

/** The public keys the server needs besides the ciphertexts. */
export interface PlanKeys {
  relin: boolean;
  publicKey: boolean;
}

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
  /** Rotation steps that need Galois keys (none today: empty in both layouts). */
  galoisSteps: number[];
  keys: PlanKeys;
}

/** What the compiler observed when it ran the real circuit: informative, not hashed. */
export interface PlanReport {
  /**
   * Smallest noise budget left in a decrypted result, bits. Single plans: after flooding and
   * packing, as the client decrypts it.
   */
  noiseMarginBits: number;
  /** Single plans: smallest budget of the plaintext product, before flooding. */
  noiseMarginBeforeFloodBits?: number;
  /** Single plans: ⌈log2 b⌉ of the deterministic bound b on the product's noise. */
  noiseBoundBits?: number;
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
  circuit: z.discriminatedUnion('layout', [
    z.object({ layout: z.literal('batch'), switchBeforeSquare: z.number().int().min(0), switchAfterSquare: z.number().int().min(0) }).strict(),
    z
      .object({
        layout: z.literal('single'),
        form: z.literal('quadratic'),
        regionLength: z.number().int().min(1),
        regions: z.number().int().min(1),
        floodBits: z.number().int().min(0),
        result: z.object({ k0: z.number().int().min(1).max(64), k1: z.number().int().min(1).max(64) }).strict(),
      })
      .strict(),
  ]),
  outputBound: z.number(),
  featureCount: z.number().int(),
  recordsPerInput: z.number().int(),
  ciphertextsPerInput: z.number().int(),
  galoisSteps: z.array(z.number().int()),
  keys: z.object({ relin: z.boolean(), publicKey: z.boolean() }).strict(),
});

/** Reads a plan received from elsewhere (a model card), checking its hash. */
export function parsePlan(json: unknown): HePlan {
  const { hash, report, ...rest } = (json ?? {}) as Record<string, unknown>;
  const parsed = PlanBodySchema.safeParse(rest);
  if (!parsed.success) {
    throw new Error(`plan field ${firstIssue(parsed.error, '(plan)')}`);
  }
  const body = parsed.data as PlanBody;
  if (body.circuit.layout !== body.layout) throw new Error(`plan field circuit.layout: "${body.circuit.layout}" does not match the plan's layout "${body.layout}"`);
  const actual = planHash(body);
  if (hash !== actual) throw new Error(`plan hash ${String(hash)} does not match its content (${actual})`);
  return { ...body, hash: actual, report: report as PlanReport };
}
