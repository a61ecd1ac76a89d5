/**
 * The shape of bench/lean-results.json: written by bench/lean.ts, read by tools/lean-doc.ts
 * (docs/protocol.md §9). Types only.
 */
import type { QuadraticCircuit } from '../src/core/he/plan.ts';

/** One plan's measurement on one model. */
export interface PlanRow {
  plan: 'before' | 'after';
  parameters: string;
  regions: number;
  upBytes: number;
  downBytes: number;
  keyBytes: number;
  evalMs: number;
  /** Median time of each part of an evaluation, ms. */
  evalParts: Record<string, number>;
  /** Smallest noise budget of the circuit's result, before any flood (SEAL's invariant budget). */
  marginBeforeFloodBits: number;
  /** Flood bits the plan adds, or those a 2^-40 flood would need (before: c0 sent whole). */
  floodBits: number;
  /** Smallest budget left at the output positions after flooding and packing; null: the flood does not fit. */
  marginAfterFloodBits: number | null;
  exact: boolean;
  meetsTargets: { up: boolean; down: boolean; keys: boolean; evalMs: boolean };
}

/** What each step of the new plan bought, in bytes, on the same model. */
export interface Steps {
  /** The seeded input in SEAL's words, uncompressed (what zstd saves). */
  upUncompressed: number;
  /** The flooded result as SEAL's bytes at the data level (two primes). */
  downSealWords: number;
  /** c0 packed at every coefficient instead of the output positions only. */
  downEveryPosition: number;
  noiseBoundBits: number;
  weightL1: string;
  /** Theoretical statistical distance of a result from one that depends on the outputs alone: log2(k·b / 2^f). */
  distanceLog2: number;
}

/** One default model: its single plan (by hash), the plan before and after, and what the compiler refused. */
export interface LeanModelRecord {
  model: string;
  planHash: string;
  circuit: QuadraticCircuit;
  before: PlanRow;
  after: PlanRow;
  steps: Steps;
  refused: { parameters: string; reason: string }[];
}

export interface LeanRecord {
  machine: { cpu?: string; cores: number; node: string; loadAverageAtStart: number; loadAverageAtEnd?: number };
  date: string;
  repeats: number;
  targets: { upBytes: number; downBytes: number; keyBytes: number; evalMs: number };
  models: LeanModelRecord[];
}
