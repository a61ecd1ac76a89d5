import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { advertisementBytes, agree, generateAgreementKeys, generateIdentity, openFromPeer, sealForPeer, sign, verify } from './agreement.ts';
import { exampleStudy } from './fixtures.ts';
import { deriveRng } from './prng.ts';

describe('agreement, signatures and the share AEAD', () => {
  const study = exampleStudy();
  const rng = deriveRng(new Uint8Array(32).fill(1), 'agreement.test');

  it('X25519 is symmetric and refuses a low-order key', async () => {
    const a = generateAgreementKeys(rng);
    const b = generateAgreementKeys(rng);
    expect(bytesToHex(await agree(a.secretKey, b.publicKey))).toBe(bytesToHex(await agree(b.secretKey, a.publicKey)));
    await expect(agree(a.secretKey, new Uint8Array(32))).rejects.toThrow();
  });

  it('WebCrypto and @noble give the same signatures and agreements', async () => {
    const a = generateAgreementKeys(rng);
    const b = generateAgreementKeys(rng);
    expect(bytesToHex(await agree(a.secretKey, b.publicKey))).toBe(bytesToHex(x25519.getSharedSecret(a.secretKey, b.publicKey)));
    const id = generateIdentity(rng);
    const message = new Uint8Array([5, 6, 7]);
    expect(bytesToHex(await sign(message, id.secretKey))).toBe(bytesToHex(ed25519.sign(message, id.secretKey)));
  });

  it('a swapped advertised key fails signature verification', async () => {
    const site = 2;
    const identity = study.identities[site - 1]!;
    const enc = generateAgreementKeys(rng).publicKey;
    const mask = generateAgreementKeys(rng).publicKey;
    const signature = await sign(advertisementBytes(study.hash, 7, site, enc, mask), identity.secretKey);
    const pinned = hexToBytes(study.manifest.sites[site - 1]!.identityKey);
    expect(await verify(signature, advertisementBytes(study.hash, 7, site, enc, mask), pinned)).toBe(true);
    // The coordinator substitutes its own mask key, or its own encryption key:
    const evil = generateAgreementKeys(rng).publicKey;
    expect(await verify(signature, advertisementBytes(study.hash, 7, site, enc, evil), pinned)).toBe(false);
    expect(await verify(signature, advertisementBytes(study.hash, 7, site, evil, mask), pinned)).toBe(false);
    // ...or replays it in another round, for another site, or in another study:
    expect(await verify(signature, advertisementBytes(study.hash, 8, site, enc, mask), pinned)).toBe(false);
    expect(await verify(signature, advertisementBytes(study.hash, 7, 3, enc, mask), pinned)).toBe(false);
    expect(await verify(signature, advertisementBytes('ab'.repeat(32), 7, site, enc, mask), pinned)).toBe(false);
    // ...or signs with a key the manifest does not pin:
    const other = generateIdentity(rng);
    expect(await verify(await sign(advertisementBytes(study.hash, 7, site, enc, evil), other.secretKey), advertisementBytes(study.hash, 7, site, enc, evil), pinned)).toBe(false);
    expect(await verify(new Uint8Array(3), new Uint8Array(1), pinned)).toBe(false);
  });

  it('share ciphertexts open only for the same study, round, sender and receiver', async () => {
    const a = generateAgreementKeys(rng);
    const b = generateAgreementKeys(rng);
    const plaintext = new Uint8Array([1, 2, 3, 4]);
    const ab = await agree(a.secretKey, b.publicKey);
    const ba = await agree(b.secretKey, a.publicKey);
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
