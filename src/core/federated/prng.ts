/**
 * A seeded pseudorandom generator: the ChaCha20 keystream (RFC 8439, @noble/ciphers) under a
 * 32-byte key. Used wherever randomness must be reproducible from a seed — pairwise and self
 * masks (which must be, so that the coordinator can recompute them), randomized rounding,
 * Poisson sampling of records and noise (which are, so that a study is bit-identical for the
 * same seeds) — and, seeded from the platform CSPRNG, for fresh keys in production.
 *
 * Each generator is one stream: never build two generators on the same key for different
 * purposes; derive one key per purpose with `deriveRng` (HKDF-SHA256 with a label).
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/** Bytes of keystream produced at a time (a multiple of the 64-byte ChaCha block). */
const CHUNK = 4096;
const ZERO_NONCE = new Uint8Array(12);

export class ChaChaRng {
  readonly #key: Uint8Array;
  #counter = 0;
  #buffer = new Uint8Array(0);
  #at = 0;

  /** `key`: 32 bytes. The generator reads the keystream under a zero nonce from block 0. */
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`a ChaCha20 key has 32 bytes, not ${key.length}`);
    this.#key = key.slice();
  }

  /** A generator keyed from the platform CSPRNG (crypto.getRandomValues). */
  static fresh(): ChaChaRng {
    return new ChaChaRng(randomBytes(32));
  }

  #refill(): void {
    this.#buffer = chacha20(this.#key, ZERO_NONCE, new Uint8Array(CHUNK), undefined, this.#counter);
    this.#counter += CHUNK / 64;
    this.#at = 0;
  }

  /** The next `n` bytes of the stream. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.#at === this.#buffer.length) this.#refill();
      const take = Math.min(n - filled, this.#buffer.length - this.#at);
      out.set(this.#buffer.subarray(this.#at, this.#at + take), filled);
      this.#at += take;
      filled += take;
    }
    return out;
  }

  /** A uniform 32-bit unsigned integer (four stream bytes, little-endian). */
  uint32(): number {
    if (this.#buffer.length - this.#at < 4) {
      const b = this.bytes(4);
      return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    }
    const b = this.#buffer;
    const i = this.#at;
    this.#at += 4;
    return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** True with probability p (p outside [0, 1] is clamped). */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }
}

/**
 * A generator for one purpose, derived from a seed: HKDF-SHA256(seed, salt = "cipherclinic",
 * info = label) → ChaCha20 key. Different labels give independent streams.
 */
export function deriveRng(seed: Uint8Array, label: string): ChaChaRng {
  return new ChaChaRng(hkdf(sha256, seed, utf8ToBytes('cipherclinic'), utf8ToBytes(label), 32));
}

/** Where a function takes randomness: a generator, or nothing for the platform CSPRNG. */
export type RandomSource = ChaChaRng | undefined;

/** `n` random bytes from `rng`, or from the platform CSPRNG when `rng` is undefined. */
export function randomFrom(rng: RandomSource, n: number): Uint8Array {
  return rng ? rng.bytes(n) : randomBytes(n);
}
