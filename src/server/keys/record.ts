/**
 * One stored key set as bytes: the same versioned MessagePack record in a disk store's file
 * and in a Redis value, so a bundle moves between stores unchanged.
 *
 * Version 2 holds relin, galois and publicKey, each bytes or nil (protocol 2). Records of
 * version 1 (relin and galois only) belong to plans no service serves any more: they are read
 * as absent, so the store drops them and the client registers its keys again, and the store is
 * told, so it can log it once per record.
 */
import { decode, encode } from '@msgpack/msgpack';
import { z } from 'zod';
import type { EvaluationKeyBundle } from '../../core/he/index.ts';
import { checkMsgpack, MESSAGE_LIMITS } from '../../core/protocol/index.ts';

const RECORD_FORMAT = 'cipherclinic/key-bundle';
const RECORD_VERSION = 2;

const key = z.instanceof(Uint8Array).nullable();

const RecordSchema = z.object({
  format: z.literal(RECORD_FORMAT),
  version: z.literal(RECORD_VERSION),
  planHash: z.string(),
  keyId: z.string(),
  relin: key,
  galois: key,
  publicKey: key,
});

/** Receives why a stored record was not read: a record of an older version, or a damaged one. */
export type RecordDropped = (fields: { keyId?: string; planHash?: string; version?: unknown }, message: string) => void;

export function keyRecordToBytes(bundle: EvaluationKeyBundle): Uint8Array {
  return encode({ format: RECORD_FORMAT, version: RECORD_VERSION, planHash: bundle.planHash, keyId: bundle.keyId, relin: bundle.relin, galois: bundle.galois, publicKey: bundle.publicKey });
}

/**
 * A stored record's bundle, or undefined when the bytes are not one (damaged, another format,
 * an older version); `dropped` hears about older versions.
 */
export function keyRecordFromBytes(bytes: Uint8Array, dropped?: RecordDropped): EvaluationKeyBundle | undefined {
  let raw: unknown;
  try {
    checkMsgpack(bytes, MESSAGE_LIMITS);
    raw = decode(bytes);
  } catch {
    return undefined;
  }
  const parsed = RecordSchema.safeParse(raw);
  if (!parsed.success) {
    const { format, version, keyId, planHash } = (raw ?? {}) as Record<string, unknown>;
    if (format === RECORD_FORMAT && typeof version === 'number' && version < RECORD_VERSION) {
      dropped?.({ version, keyId: String(keyId), planHash: String(planHash) }, `dropped stored keys of record version ${version}: their plan is no longer served, the client registers new keys`);
    }
    return undefined;
  }
  const { planHash, keyId, relin, galois, publicKey } = parsed.data;
  return { planHash, keyId, relin, galois, publicKey };
}

/** Bytes a stored record starts with, up to and including its version number. */
export const RECORD_HEAD_BYTES = 64;
const VERSION_KEY = encode('version');

/**
 * The version of a stored record from its first RECORD_HEAD_BYTES bytes (its format and version
 * come first), without reading megabytes of keys; undefined when the head is not a record's.
 */
export function keyRecordVersionOf(head: Uint8Array): number | undefined {
  const formatPrefix = encode(RECORD_FORMAT);
  const at = indexOf(head, formatPrefix);
  if (at < 0) return undefined;
  const versionAt = indexOf(head, VERSION_KEY, at + formatPrefix.length);
  const value = head[versionAt + VERSION_KEY.length];
  return versionAt >= 0 && value !== undefined && value < 0x80 ? value : undefined;
}

/** Whether a stored record's head says it is of an older version than this service writes. */
export function isOlderKeyRecord(head: Uint8Array): boolean {
  const version = keyRecordVersionOf(head);
  return version !== undefined && version < RECORD_VERSION;
}

function indexOf(bytes: Uint8Array, part: Uint8Array, from = 0): number {
  outer: for (let i = from; i + part.length <= bytes.length; i++) {
    for (let j = 0; j < part.length; j++) if (bytes[i + j] !== part[j]) continue outer;
    return i;
  }
  return -1;
}
