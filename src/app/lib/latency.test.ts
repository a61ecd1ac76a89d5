/** Expected latency of a plan, from the committed benchmark figures. */
import { describe, expect, it } from 'vitest';
import type { HePlan } from '../../core/he/plan.ts';
import { results } from '../../../bench/results.json';
import { expectedLatency } from './latency.ts';

/** A plan with the default Framingham model's parameters (only the fields the estimate reads). */
function plan(layout: 'single' | 'batch', params: Partial<HePlan['params']> = {}): HePlan {
  const row = results.find((r) => r.model === 'framingham-chd' && r.layout === layout)!;
  const [, scheme, n, q] = /^(\w+) n=(\d+) q=([\d+]+) bits/.exec(row.parameters)!;
  // Primes of the right bit sizes are enough here: only the sizes are read.
  const coeffModulus = q!.split('+').map((bits) => String(2n ** BigInt(Number(bits) - 1) + 1n));
  return {
    layout,
    recordsPerInput: row.recordsPerInput,
    params: { scheme: scheme!.toLowerCase() as 'bfv' | 'bgv', polyModulusDegree: Number(n), coeffModulus, plainModulus: String(2n ** 21n + 1n), ...params },
  } as HePlan;
}

describe('expectedLatency', () => {
  it('averages the benchmarked plans with the same layout and parameters', () => {
    const single = expectedLatency(plan('single'))!;
    const same = results.filter((r) => r.layout === 'single' && r.parameters.startsWith('BFV n=8192 q=60+60+60 bits'));
    expect(single.scaled).toBe(false);
    expect(single.evaluateMs).toBeCloseTo(same.reduce((s, r) => s + r.evaluateMs, 0) / same.length, 9);
    expect(single.perRecordMs).toBeCloseTo(single.encryptMs + single.evaluateMs + single.decryptMs, 9);
    const batch = expectedLatency(plan('batch'))!;
    expect(batch.perRecordMs).toBeCloseTo(batch.perInputMs / 4096, 12);
    expect(batch.basis).toContain('BGV n=4096 q=46+46+17 bits');
  });

  it('scales batch figures by the ciphertexts a request carries', () => {
    const framingham = results.find((r) => r.model === 'framingham-chd' && r.layout === 'batch')!;
    const half = { ...plan('batch'), report: { uploadBytesPerInput: framingham.uploadBytes / 2 } } as HePlan;
    const rows = results.filter((r) => r.layout === 'batch');
    const expected = rows.reduce((s, r) => s + (r.evaluateMs * framingham.uploadBytes) / 2 / r.uploadBytes, 0) / rows.length;
    expect(expectedLatency(half)!.evaluateMs).toBeCloseTo(expected, 9);
  });

  it('scales from the nearest benchmarked parameters when none match', () => {
    const base = expectedLatency(plan('batch'))!;
    const bigger = expectedLatency(plan('batch', { polyModulusDegree: 8192, coeffModulus: ['1', '2', '3', '4'].map((x) => String(2n ** 59n + BigInt(x))) }))!;
    expect(bigger.scaled).toBe(true);
    const factor = (8192 * 13 * 4) / (4096 * 12 * 3);
    expect(bigger.evaluateMs).toBeCloseTo(base.evaluateMs * factor, 6);
  });
});
