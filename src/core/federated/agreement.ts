/**
 * Keys and derivations of a round: Ed25519 identities and signatures, X25519 agreement,
 * HKDF-SHA256 with labels bound to the study, round and parties, and the AEAD that carries
 * Shamir shares from one site to another through the coordinator. Nothing here is
 * hand-written cryptography: signatures and agreements run on the platform's WebCrypto
 * (Ed25519 and X25519, native in Node and Chromium: about ten times faster than JavaScript,
 * which a site with twenty peers feels every round), with @noble's audited implementations —
 * which give the same bytes — where WebCrypto lacks them; hashing, HKDF and the AEAD are @noble's.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { randomFrom, type RandomSource } from './prng.ts';

/** Domain prefix of every label, so keys here never collide with another protocol's. */
const DOMAIN = 'cipherclinic/secagg/v1/';

export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** A site's long-term Ed25519 identity (its public key goes into the manifest). */
export function generateIdentity(rng?: RandomSource): KeyPair {
  const secretKey = randomFrom(rng, 32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** The Ed25519 public key of an identity secret key. */
export function identityPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

const subtle = globalThis.crypto?.subtle;
type Subtle = NonNullable<typeof subtle>;

/** base64url, for importing raw keys as JWK (WebCrypto imports private OKP keys only so). */
function b64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Whether this platform's WebCrypto has an algorithm (asked once each). */
const supported = new Map<string, Promise<boolean>>();
function hasNative(name: 'Ed25519' | 'X25519'): Promise<boolean> {
  let known = supported.get(name);
  if (!known) {
    known = subtle ? subtle.generateKey({ name } as Parameters<Subtle['generateKey']>[0], false, name === 'Ed25519' ? ['sign', 'verify'] : ['deriveBits']).then(() => true, () => false) : Promise.resolve(false);
    supported.set(name, known);
  }
  return known;
}

/**
 * Imported keys, by role and bytes (secret keys by their SHA-256, so no copy of a secret is
 * kept as a name): identity and round keys are used many times a round.
 */
const imported = new Map<string, Promise<CryptoKey>>();
const IMPORTED_MAX = 1024;
function importOnce(id: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = imported.get(id);
  if (!key) {
    if (imported.size >= IMPORTED_MAX) imported.clear();
    key = load();
    imported.set(id, key);
    key.catch(() => imported.delete(id));
  }
  return key;
}


export async function sign(message: Uint8Array, identitySecretKey: Uint8Array): Promise<Uint8Array> {
  if (!(await hasNative('Ed25519'))) return ed25519.sign(message, identitySecretKey);
  const key = await importOnce(`ed-sk:${bytesToHex(sha256(identitySecretKey))}`, () =>
    subtle!.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', d: b64url(identitySecretKey), x: b64url(ed25519.getPublicKey(identitySecretKey)) }, 'Ed25519', false, ['sign']),
  );
  return new Uint8Array(await subtle!.sign('Ed25519', key, message as Uint8Array<ArrayBuffer>));
}

/** False for a bad signature, a malformed key or a malformed signature (never throws). */
export async function verify(signature: Uint8Array, message: Uint8Array, identityPublicKey: Uint8Array): Promise<boolean> {
  try {
    if (!(await hasNative('Ed25519'))) return ed25519.verify(signature, message, identityPublicKey);
    if (signature.length !== 64 || identityPublicKey.length !== 32) return false;
    const key = await importOnce(`ed-pk:${bytesToHex(identityPublicKey)}`, () => subtle!.importKey('raw', identityPublicKey as Uint8Array<ArrayBuffer>, 'Ed25519', false, ['verify']));
    return await subtle!.verify('Ed25519', key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

/** A fresh X25519 key pair (round keys: one for share encryption, one for masks). */
export function generateAgreementKeys(rng?: RandomSource): KeyPair {
  const secretKey = randomFrom(rng, 32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** The X25519 public key of a secret key. */
export function agreementPublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/** X25519(secret, peer public). Throws for a low-order peer key (an all-zero secret). */
export async function agree(secretKey: Uint8Array, peerPublicKey: Uint8Array): Promise<Uint8Array> {
  let shared: Uint8Array;
  if (!(await hasNative('X25519'))) shared = x25519.getSharedSecret(secretKey, peerPublicKey);
  else {
    if (peerPublicKey.length !== 32) throw new Error('an X25519 public key is 32 bytes');
    const own = await importOnce(`x-sk:${bytesToHex(sha256(secretKey))}`, () =>
      subtle!.importKey('jwk', { kty: 'OKP', crv: 'X25519', d: b64url(secretKey), x: b64url(x25519.getPublicKey(secretKey)) }, 'X25519', false, ['deriveBits']),
    );
    const peer = await subtle!.importKey('raw', peerPublicKey as Uint8Array<ArrayBuffer>, 'X25519', false, []);
    try {
      shared = new Uint8Array(await subtle!.deriveBits({ name: 'X25519', public: peer } as Parameters<Subtle['deriveBits']>[0], own, 256));
    } catch {
      // WebCrypto refuses an all-zero result (a low-order peer key): the same refusal as below.
      shared = new Uint8Array(32);
    }
  }
  if (shared.every((b) => b === 0)) throw new Error('X25519 agreement with a low-order public key');
  return shared;
}

function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a 32-bit unsigned integer: ${n}`);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/**
 * A 32-byte key: HKDF-SHA256(ikm, salt = study hash bytes, info = domain ‖ label ‖ each
 * number as 4 bytes big-endian). Numbers are the round and site indices the key is bound to.
 */
export function deriveKey(ikm: Uint8Array, studyHashHex: string, label: string, ...numbers: number[]): Uint8Array {
  const info = concatBytes(utf8ToBytes(DOMAIN + label), ...numbers.map(u32));
  return hkdf(sha256, ikm, hexToBytes(studyHashHex), info, 32);
}

/** The bytes a site signs to advertise its round keys. */
export function advertisementBytes(studyHashHex: string, round: number, site: number, encryptionKey: Uint8Array, maskKey: Uint8Array): Uint8Array {
  return concatBytes(utf8ToBytes(DOMAIN + 'advertise'), hexToBytes(studyHashHex), u32(round), u32(site), encryptionKey, maskKey);
}

/** Associated data of a share ciphertext: study, round, sender, receiver. */
function shareAad(studyHashHex: string, round: number, from: number, to: number): Uint8Array {
  return concatBytes(utf8ToBytes(DOMAIN + 'share'), hexToBytes(studyHashHex), u32(round), u32(from), u32(to));
}

const ZERO_NONCE = new Uint8Array(12);

/**
 * The key of the share ciphertext from `from` to `to`, from the pair's X25519 agreement of
 * encryption keys (`agree(own c^SK, peer c^PK)`, computed once per pair and round and kept for
 * both sealing and opening). Each direction of each pair has its own key per round and each key
 * seals exactly one message, so a zero nonce is safe.
 */
function shareKey(shared: Uint8Array, studyHashHex: string, round: number, from: number, to: number): Uint8Array {
  return deriveKey(shared, studyHashHex, 'share-key', round, from, to);
}

/** ChaCha20-Poly1305 of `plaintext` for `to`, bound to (study, round, from, to). */
export function sealForPeer(plaintext: Uint8Array, shared: Uint8Array, studyHashHex: string, round: number, from: number, to: number): Uint8Array {
  return chacha20poly1305(shareKey(shared, studyHashHex, round, from, to), ZERO_NONCE, shareAad(studyHashHex, round, from, to)).encrypt(plaintext);
}

/** Opens a ciphertext sealed by `from` for `to`; throws when it was altered or moved. */
export function openFromPeer(ciphertext: Uint8Array, shared: Uint8Array, studyHashHex: string, round: number, from: number, to: number): Uint8Array {
  return chacha20poly1305(shareKey(shared, studyHashHex, round, from, to), ZERO_NONCE, shareAad(studyHashHex, round, from, to)).decrypt(ciphertext);
}
