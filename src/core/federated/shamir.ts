/**
 * t-of-n secret sharing of the 32-byte secrets of a round (self-mask seeds and mask secret
 * keys), by the independently audited `shamir-secret-sharing` (Privy; Shamir over GF(2^8),
 * byte by byte, each share carrying its own x coordinate in its last byte). Any t shares give
 * the secret; fewer give a value independent of it (perfect hiding).
 *
 * The library draws its coefficients from crypto.getRandomValues, so shares are not
 * reproducible from a seed; nothing downstream depends on their value, only on the secret.
 */
import { combine, split } from 'shamir-secret-sharing';

/** Length of each share of a 32-byte secret: the secret's length plus the x coordinate. */
export const SHARE_BYTES = 33;

/** Splits `secret` into `n` shares of which any `threshold` reconstruct it (2 ≤ t ≤ n ≤ 255). */
export async function shareSecret(secret: Uint8Array, n: number, threshold: number): Promise<Uint8Array[]> {
  if (!Number.isInteger(threshold) || threshold < 2) throw new RangeError(`threshold ${threshold}: at least 2`);
  if (!Number.isInteger(n) || n < threshold || n > 255) throw new RangeError(`${n} shares for threshold ${threshold}: need threshold ≤ n ≤ 255`);
  return split(secret, n, threshold);
}

/**
 * The secret from at least `threshold` distinct shares. With fewer the library returns an
 * unrelated value, so this refuses fewer than `threshold` outright.
 */
export async function recoverSecret(shares: readonly Uint8Array[], threshold: number): Promise<Uint8Array> {
  if (shares.length < threshold) throw new RangeError(`${shares.length} shares cannot reconstruct a ${threshold}-of-n secret`);
  const xs = new Set(shares.map((s) => s[s.length - 1]));
  if (xs.size !== shares.length) throw new Error('two shares have the same x coordinate');
  return combine(shares.slice(0, threshold) as Uint8Array[]);
}
