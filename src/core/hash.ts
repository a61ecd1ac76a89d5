/**
 * Content hashes for everything that crosses time or space (models, plans, keys, ciphertexts).
 * JSON is hashed in its RFC 8785 canonical form so the hash does not depend on key order.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import canonicalize from 'canonicalize';

/** Hex SHA-256 of raw bytes. */
export function hashBytes(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** Hex SHA-256 of several byte strings, each length-prefixed so that boundaries count. */
export function hashParts(parts: readonly Uint8Array[]): string {
  const h = sha256.create();
  for (const p of parts) {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(p.length));
    h.update(len).update(p);
  }
  return bytesToHex(h.digest());
}

/** Canonical JSON text (RFC 8785): sorted keys, no whitespace. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value cannot be represented as canonical JSON');
  return text;
}

/** Hex SHA-256 of a JSON value's canonical form. */
export function hashJson(value: unknown): string {
  return hashBytes(utf8ToBytes(canonicalJson(value)));
}
