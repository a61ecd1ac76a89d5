import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateAgreementKeys, type KeyPair } from './agreement.ts';
import { addInto, maskUpdate, RevealGuard, RevealRefused, unmaskSum } from './masking.ts';
import { ChaChaRng, deriveRng } from './prng.ts';

const STUDY = 'ab'.repeat(32);

/** Sites 1..n with round keys, seeds and updates from one seed; everyone is in U₂. */
async function roundOf(n: number, length: number, seed: number) {
  const rng = deriveRng(new Uint8Array(32).fill(seed), 'masking.test');
  const sites = Array.from({ length: n }, (_, k) => {
    const update = new Uint32Array(length);
    for (let i = 0; i < length; i++) update[i] = rng.uint32();
    return { index: k + 1, mask: generateAgreementKeys(rng) as KeyPair, seed: rng.bytes(32), update };
  });
  const maskKeys = new Map(sites.map((s) => [s.index, s.mask.publicKey]));
  const masked = new Map(
    await Promise.all(sites.map(async (s) => [s.index, await maskUpdate({ studyHash: STUDY, round: 4, site: s.index, update: s.update, selfSeed: s.seed, maskSecretKey: s.mask.secretKey, peers: maskKeys })] as const)),
  );
  return { sites, maskKeys, masked };
}

describe('pairwise masking in Z_2^32', () => {
  it('masks cancel for every subset of survivors of size ≥ t: the sum is exactly the survivors\' updates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 7 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.subarray(Array.from({ length: n }, (_, k) => k + 1), { minLength: Math.floor(n / 2) + 1 }), fc.integer({ min: 1, max: 200 })),
        ),
        async ([n, survivors, seed]) => {
          const length = 33;
          const { sites, maskKeys, masked } = await roundOf(n, length, seed);
          const alive = new Set(survivors);
          const expected = new Uint32Array(length);
          for (const s of sites) if (alive.has(s.index)) addInto(expected, s.update);
          const sum = await unmaskSum({
            studyHash: STUDY,
            round: 4,
            length,
            masked: new Map([...masked].filter(([v]) => alive.has(v))),
            maskKeys,
            selfSeeds: new Map(sites.filter((s) => alive.has(s.index)).map((s) => [s.index, s.seed])),
            droppedMaskKeys: new Map(sites.filter((s) => !alive.has(s.index)).map((s) => [s.index, s.mask.secretKey])),
          });
          expect([...sum]).toEqual([...expected]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('does not unmask with a wrong seed, a forged mask key, or a missing piece', async () => {
    const { sites, maskKeys, masked } = await roundOf(4, 8, 9);
    const base = { studyHash: STUDY, round: 4, length: 8, maskKeys };
    const survivors = new Map([...masked].filter(([v]) => v !== 4));
    const seeds = new Map(sites.slice(0, 3).map((s) => [s.index, s.seed]));
    const dropped = new Map([[4, sites[3]!.mask.secretKey]]);
    await expect(unmaskSum({ ...base, masked: survivors, selfSeeds: seeds, droppedMaskKeys: dropped })).resolves.toBeInstanceOf(Uint32Array);
    await expect(unmaskSum({ ...base, masked: survivors, selfSeeds: seeds, droppedMaskKeys: new Map([[4, sites[0]!.mask.secretKey]]) })).rejects.toThrow(/not the one it advertised/);
    await expect(unmaskSum({ ...base, masked: survivors, selfSeeds: seeds, droppedMaskKeys: new Map() })).rejects.toThrow(/neither uploaded/);
    await expect(unmaskSum({ ...base, masked: survivors, selfSeeds: new Map([...seeds].slice(1)), droppedMaskKeys: dropped })).rejects.toThrow(/no self-mask seed/);
    // Both secrets of one site would unmask it: the function itself refuses that combination.
    await expect(unmaskSum({ ...base, masked, selfSeeds: new Map(sites.map((s) => [s.index, s.seed])), droppedMaskKeys: dropped })).rejects.toThrow(/must not be reconstructed/);
  });

  it('masked uploads look uniform: χ² on byte values, while the plain update is far from it', async () => {
    const length = 4096;
    const rng = deriveRng(new Uint8Array(32).fill(3), 'uniformity');
    const mine = generateAgreementKeys(rng);
    const peer = generateAgreementKeys(rng);
    // A typical quantized update: small integers, mostly zero.
    const update = new Uint32Array(length);
    for (let i = 0; i < length; i++) update[i] = (rng.uint32() % 7) - 3 >>> 0;
    const y = await maskUpdate({ studyHash: STUDY, round: 1, site: 1, update, selfSeed: rng.bytes(32), maskSecretKey: mine.secretKey, peers: new Map([[2, peer.publicKey]]) });
    const chi2 = (words: Uint32Array) => {
      const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
      const counts = new Array(256).fill(0);
      for (const b of bytes) counts[b]++;
      const e = bytes.length / 256;
      return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    };
    // 16,384 bytes over 256 values: 255 degrees of freedom; 0.1 % critical value 330.5.
    expect(chi2(y)).toBeLessThan(330.5);
    expect(chi2(update)).toBeGreaterThan(10_000);
  });

  it('is deterministic: the same keys, seeds and round give the same upload', async () => {
    const a = (await roundOf(3, 16, 5)).masked.get(2)!;
    const b = (await roundOf(3, 16, 5)).masked.get(2)!;
    expect([...a]).toEqual([...b]);
    expect([...(await roundOf(3, 16, 6)).masked.get(2)!]).not.toEqual([...a]);
  });
});

describe('the reveal rule', () => {
  it('refuses both kinds of share for one peer in a round, in one request or across two', () => {
    const guard = new RevealGuard(3);
    guard.admit(1, [1, 2, 3], [4]);
    expect(guard.revealedFor(1, 4)).toBe('mask-key');
    expect(() => guard.admit(1, [1, 2, 3, 4], [])).toThrow(RevealRefused);
    expect(() => guard.admit(1, [1, 2, 4], [3])).toThrow(/already revealed/);
    expect(() => guard.admit(1, [1, 2, 3, 4], [4])).toThrow(/both surviving and dropped/);
    // Asking again for the same kinds is harmless (a retried request).
    expect(() => guard.admit(1, [1, 2, 3], [4])).not.toThrow();
    // A new round has fresh secrets: the rule starts over.
    expect(() => guard.admit(2, [1, 2, 3, 4], [])).not.toThrow();
  });

  it('refuses any reveal that names fewer than t survivors', () => {
    const guard = new RevealGuard(3);
    expect(() => guard.admit(1, [1, 2], [3, 4, 5])).toThrow(/fewer than the threshold/);
    expect(() => guard.admit(1, [1, 1, 2], [])).toThrow(/fewer than the threshold/);
    expect(guard.revealedFor(1, 3)).toBeUndefined();
  });
});

describe('ChaChaRng', () => {
  it('is the RFC 8439 keystream, deterministic per key, with uniform doubles in [0, 1)', () => {
    const a = new ChaChaRng(new Uint8Array(32));
    // RFC 8439 §2.3.2 block function with zero key and nonce, counter 0 begins 76 b8 e0 ad.
    expect([...a.bytes(4)]).toEqual([0x76, 0xb8, 0xe0, 0xad]);
    const b = new ChaChaRng(new Uint8Array(32));
    b.bytes(4);
    expect(a.uint32()).toBe(b.uint32());
    let s = 0;
    for (let i = 0; i < 10_000; i++) {
      const u = a.float();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 10_000 - 0.5)).toBeLessThan(0.01);
  });
});
