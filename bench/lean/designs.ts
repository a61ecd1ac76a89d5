/** Lean requests (bench/lean.ts): the single-record designs measured. */
import type { Candidate } from '../../src/core/he/compile.ts';
import { HeEvaluator } from '../../src/core/he/evaluator.ts';

export type KeySteps = 'binary' | 'base4' | 'base8';

export interface Design {
  id: string;
  idea: 'today' | 'a' | 'b' | 'privacy';
  candidate: Candidate;
  keySteps: KeySteps;
  /** Run through the product's HeEvaluator instead of the bench's circuit copy. */
  product?: boolean;
  /** Primes the result keeps (default: the last level, one prime), so that it can be flooded. */
  resultPrimes?: number;
}

export const DESIGNS: Design[] = [
  { id: 'today', idea: 'today', product: true, keySteps: 'binary', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'a1 bgv4096 36+36|37', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'a2 bgv4096 40+30|39 switch after mask', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [40, 30, 39], switchBeforeSquare: 1, switchAfterSquare: 0 } },
  { id: 'a3 bgv4096 30+25+25|29 switch after mask and square', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [30, 25, 25, 29], switchBeforeSquare: 1, switchAfterSquare: 1 } },
  { id: 'a4 bgv4096 54|55 one data prime', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [54, 55], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'a5 bfv4096 36+36|37', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b0 bfv8192 binary keys (bench circuit)', idea: 'b', keySteps: 'binary', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b1 bfv8192 keys for powers of 4', idea: 'b', keySteps: 'base4', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b2 bfv8192 keys for powers of 8', idea: 'b', keySteps: 'base8', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'p1 bfv8192 60+60+50|48 result at 3 primes (room for flooding)', idea: 'privacy', keySteps: 'binary', resultPrimes: 3, candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 50, 48], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'p2 bfv8192 60+60+50|48 result at 2 primes', idea: 'privacy', keySteps: 'binary', resultPrimes: 2, candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 50, 48], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b3 bgv8192 60+40+30|60 keys for powers of 4', idea: 'b', keySteps: 'base4', candidate: { scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [60, 40, 30, 60], switchBeforeSquare: 1, switchAfterSquare: 1 } },
];

/** Constant-weight designs; `resultPrimes` keeps the result above the last level. */
export const SCALAR_CANDIDATES: { c: Candidate; resultPrimes?: number }[] = [
  { c: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [27, 27, 27, 28], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [39, 39, 31], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [42, 42, 25], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [27, 27, 27, 28], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [27, 27, 27, 28], switchBeforeSquare: 0, switchAfterSquare: 0 }, resultPrimes: 2 },
  { c: { scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [45, 45, 45], switchBeforeSquare: 0, switchAfterSquare: 0 } },
];
