/** Expected latency of a plan, from one round trip measured under it. */
import { describe, expect, it } from 'vitest';
import { expectedLatency } from './latency.ts';

describe('expectedLatency', () => {
  it('adds the measured stages and shares a full input among its records', () => {
    const single = expectedLatency({ recordsPerInput: 1 }, { encryptMs: 12, evaluateMs: 30, decryptMs: 3 })!;
    expect(single.perInputMs).toBe(45);
    expect(single.perRecordMs).toBe(45);
    expect(single.scaled).toBe(false);
    expect(single.basis).toMatch(/measured on this device/);
    const batch = expectedLatency({ recordsPerInput: 4096 }, { encryptMs: 40, evaluateMs: 360, decryptMs: 10 })!;
    expect(batch.perInputMs).toBe(410);
    expect(batch.perRecordMs).toBeCloseTo(410 / 4096, 12);
    expect(batch.recordsPerInput).toBe(4096);
  });

  it('gives no estimate without a measurement, or from a broken one', () => {
    expect(expectedLatency({ recordsPerInput: 1 }, undefined)).toBeUndefined();
    expect(expectedLatency({ recordsPerInput: 1 }, { encryptMs: Number.NaN, evaluateMs: 1, decryptMs: 1 })).toBeUndefined();
    expect(expectedLatency({ recordsPerInput: 1 }, { encryptMs: -1, evaluateMs: 1, decryptMs: 1 })).toBeUndefined();
  });
});
