/**
 * Expected cost of a compiled plan, from the benchmark's measured figures (bench/results.json,
 * committed with the code; `npm run bench` writes it). The benchmark ran the four default
 * models on this project's 2-core machine in Node; the figures are per encrypted input.
 *
 * A plan's cost is set by its parameters (scheme, degree n, coefficient primes), its layout and
 * the number of ciphertexts a request carries (one per feature in the batch layout; one in the
 * single layout, whose cost moves little between the default models, 30–37 ms). So the estimate
 * takes the benchmarked plans with the same layout and parameters (the plain modulus aside),
 * scales each one's encryption and evaluation by this plan's upload over its upload (that is,
 * by the ciphertexts per request), and averages them. For parameters the benchmark did not
 * run, the nearest benchmarked ones are further scaled by n·log2(n)·(number of primes), the
 * work of one NTT-domain operation, and the estimate says so.
 */
import { results } from '../../../bench/results.json';
import { describeParameters } from '../../core/he/params.ts';
import type { HePlan } from '../../core/he/plan.ts';

export interface LatencyEstimate {
  /** Client-side encryption of one input, server evaluation, client decryption (ms). */
  encryptMs: number;
  evaluateMs: number;
  decryptMs: number;
  /** All three, per input and per record (batch inputs carry up to recordsPerInput records). */
  perInputMs: number;
  perRecordMs: number;
  recordsPerInput: number;
  /** Which benchmark figures it comes from, in words. */
  basis: string;
  /** True when scaled from other parameters rather than measured on the same ones. */
  scaled: boolean;
}

interface BenchRow {
  model: string;
  layout: string;
  parameters: string;
  recordsPerInput: number;
  /** Bytes of one full input (all its ciphertexts). */
  uploadBytes: number;
  encryptMs: number;
  evaluateMs: number;
  decryptMs: number;
}

const rows = results as BenchRow[];
/** "BFV n=8192 q=60+60+60 bits t=21 bits" → "BFV n=8192 q=60+60+60 bits" */
const withoutPlain = (parameters: string) => parameters.replace(/\s+t=\d+ bits$/, '');

/** n·log2(n)·primes from a parameter description. */
function workOf(parameters: string): number {
  const n = Number(/n=(\d+)/.exec(parameters)?.[1] ?? NaN);
  const primes = (/q=([\d+]+)/.exec(parameters)?.[1] ?? '').split('+').length;
  return n * Math.log2(n) * primes;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Expected latency of a plan, or undefined when the benchmark has no plan of its layout. */
export function expectedLatency(plan: HePlan): LatencyEstimate | undefined {
  const parameters = describeParameters(plan.params);
  const key = withoutPlain(parameters);
  const sameLayout = rows.filter((r) => r.layout === plan.layout);
  if (sameLayout.length === 0) return undefined;
  let basis = sameLayout.filter((r) => withoutPlain(r.parameters) === key);
  let factor = 1;
  let words: string;
  if (basis.length > 0) {
    words = `mean of ${basis.length} benchmarked ${plan.layout} plan${basis.length === 1 ? '' : 's'} with ${key} (${basis.map((r) => r.model).join(', ')}), each scaled to this plan's ciphertexts per request`;
  } else {
    const target = workOf(parameters);
    const nearest = [...sameLayout].sort((a, b) => Math.abs(Math.log(workOf(a.parameters) / target)) - Math.abs(Math.log(workOf(b.parameters) / target)))[0]!;
    basis = sameLayout.filter((r) => withoutPlain(r.parameters) === withoutPlain(nearest.parameters));
    factor = target / workOf(nearest.parameters);
    words = `scaled ×${factor.toFixed(2)} from the benchmarked ${plan.layout} plans with ${withoutPlain(nearest.parameters)} (n·log n·primes)`;
  }
  // Ciphertexts per request relative to each benchmarked plan (1 when the plan has no report).
  const upload = plan.report?.uploadBytesPerInput ?? 0;
  const perCiphertexts = (r: BenchRow) => (upload > 0 && r.uploadBytes > 0 ? upload / r.uploadBytes : 1);
  const encryptMs = mean(basis.map((r) => r.encryptMs * perCiphertexts(r))) * factor;
  const evaluateMs = mean(basis.map((r) => r.evaluateMs * perCiphertexts(r))) * factor;
  const decryptMs = mean(basis.map((r) => r.decryptMs)) * factor;
  const perInputMs = encryptMs + evaluateMs + decryptMs;
  return {
    encryptMs,
    evaluateMs,
    decryptMs,
    perInputMs,
    perRecordMs: perInputMs / plan.recordsPerInput,
    recordsPerInput: plan.recordsPerInput,
    basis: words,
    scaled: factor !== 1,
  };
}
