import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { advertisementBytes, agree, generateAgreementKeys, generateIdentity, openFromPeer, sealForPeer, sign, verify } from './agreement.ts';
import { exampleStudy } from './fixtures.ts';
import { deriveRng } from './prng.ts';

describe('agreement, signatures and the share AEAD', () => {
  const study = exampleStudy();
  const rng = deriveRng(new Uint8Array(32).fill(1), 'agreement.test');

  it('X25519 is symmetric and refuses a low-order key', () => {
    const a = generateAgreementKeys(rng);
    const b = generateAgreementKeys(rng);
    expect(bytesToHex(agree(a.secretKey, b.publicKey))).toBe(bytesToHex(agree(b.secretKey, a.publicKey)));
    expect(() => agree(a.secretKey, new Uint8Array(32))).toThrow();
  });

  it('a swapped advertised key fails signature verification', () => {
    const site = 2;
    const identity = study.identities[site - 1]!;
    const enc = generateAgreementKeys(rng).publicKey;
    const mask = generateAgreementKeys(rng).publicKey;
    const signature = sign(advertisementBytes(study.hash, 7, site, enc, mask), identity.secretKey);
    const pinned = hexToBytes(study.manifest.sites[site - 1]!.identityKey);
    expect(verify(signature, advertisementBytes(study.hash, 7, site, enc, mask), pinned)).toBe(true);
    // The coordinator substitutes its own mask key, or its own encryption key:
    const evil = generateAgreementKeys(rng).publicKey;
    expect(verify(signature, advertisementBytes(study.hash, 7, site, enc, evil), pinned)).toBe(false);
    expect(verify(signature, advertisementBytes(study.hash, 7, site, evil, mask), pinned)).toBe(false);
    // ...or replays it in another round, for another site, or in another study:
    expect(verify(signature, advertisementBytes(study.hash, 8, site, enc, mask), pinned)).toBe(false);
    expect(verify(signature, advertisementBytes(study.hash, 7, 3, enc, mask), pinned)).toBe(false);
    expect(verify(signature, advertisementBytes('ab'.repeat(32), 7, site, enc, mask), pinned)).toBe(false);
    // ...or signs with a key the manifest does not pin:
    const other = generateIdentity(rng);
    expect(verify(sign(advertisementBytes(study.hash, 7, site, enc, evil), other.secretKey), advertisementBytes(study.hash, 7, site, enc, evil), pinned)).toBe(false);
    expect(verify(new Uint8Array(3), new Uint8Array(1), pinned)).toBe(false);
  });

  it('share ciphertexts open only for the same study, round, sender and receiver', () => {
    const a = generateAgreementKeys(rng);
    const b = generateAgreementKeys(rng);
    const plaintext = new Uint8Array([1, 2, 3, 4]);
    const ab = agree(a.secretKey, b.publicKey);
    const ba = agree(b.secretKey, a.publicKey);
    const sealed = sealForPeer(plaintext, ab, study.hash, 3, 1, 2);
    expect([...openFromPeer(sealed, ba, study.hash, 3, 1, 2)]).toEqual([1, 2, 3, 4]);
    expect(() => openFromPeer(sealed, ba, study.hash, 4, 1, 2)).toThrow();
    expect(() => openFromPeer(sealed, ba, study.hash, 3, 2, 1)).toThrow();
    expect(() => openFromPeer(sealed, ba, 'cd'.repeat(32), 3, 1, 2)).toThrow();
    const tampered = sealed.slice();
    tampered[0]! ^= 1;
    expect(() => openFromPeer(tampered, ba, study.hash, 3, 1, 2)).toThrow();
    // The two directions of one pair use different keys:
    expect(bytesToHex(sealForPeer(plaintext, ba, study.hash, 3, 2, 1))).not.toBe(bytesToHex(sealed));
  });
});
