import fc from 'fast-check';
import { combine } from 'shamir-secret-sharing';
import { describe, expect, it } from 'vitest';
import { recoverSecret, SHARE_BYTES, shareSecret } from './shamir.ts';

describe('Shamir t-of-n', () => {
  it('any t shares give the secret; t − 1 shares do not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 9 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.nat(), { minLength: n, maxLength: n }))),
        async ([n, t, secret, order]) => {
          const shares = await shareSecret(secret, n, t);
          expect(shares).toHaveLength(n);
          expect(shares.every((s) => s.length === SHARE_BYTES)).toBe(true);
          // A random subset of t shares, in a random order.
          const picked = shares.map((s, k) => [order[k]!, s] as const).sort((a, b) => a[0] - b[0]).map(([, s]) => s);
          expect([...(await recoverSecret(picked.slice(0, t), t))]).toEqual([...secret]);
          // t − 1 shares: refused here, and the library's combine gives something else.
          await expect(recoverSecret(picked.slice(0, t - 1), t)).rejects.toThrow(/cannot reconstruct/);
          if (t - 1 >= 2) expect([...(await combine(picked.slice(0, t - 1)))]).not.toEqual([...secret]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('t − 1 shares are independent of the secret: each share byte is uniform whatever the secret', async () => {
    // Perfect hiding, observed: with t = 2, one share's secret-dependent bytes take every value
    // about equally often across fresh splits of the same all-zero secret.
    const counts = new Array(256).fill(0);
    for (let k = 0; k < 256; k++) {
      const [first] = await shareSecret(new Uint8Array(32), 3, 2);
      for (let b = 0; b < 32; b++) counts[first![b]!]++;
    }
    // 8192 draws over 256 values: χ² with 255 degrees of freedom, 0.1 % critical value 330.5.
    const expected = 8192 / 256;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(330.5);
  });

  it('refuses bad parameters and duplicate shares', async () => {
    await expect(shareSecret(new Uint8Array(32), 3, 1)).rejects.toThrow(/at least 2/);
    await expect(shareSecret(new Uint8Array(32), 256, 2)).rejects.toThrow(/255/);
    const shares = await shareSecret(new Uint8Array(32), 3, 2);
    await expect(recoverSecret([shares[0]!, shares[0]!], 2)).rejects.toThrow(/same x/);
  });
});
