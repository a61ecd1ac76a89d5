/**
 * One stored key set as bytes: the same versioned MessagePack record in a disk store's file
 * and in a Redis value, so a bundle moves between stores unchanged.
 */
import { decode, encode } from '@msgpack/msgpack';
import { z } from 'zod';
import type { EvaluationKeyBundle } from '../../core/he/index.ts';
import { checkMsgpack, MESSAGE_LIMITS } from '../../core/protocol/index.ts';

const RECORD_FORMAT = 'cipherclinic/key-bundle';
const RECORD_VERSION = 1;

const RecordSchema = z.object({
  format: z.literal(RECORD_FORMAT),
  version: z.literal(RECORD_VERSION),
  planHash: z.string(),
  keyId: z.string(),
  relin: z.instanceof(Uint8Array),
  galois: z.instanceof(Uint8Array).nullable(),
});

export function keyRecordToBytes(bundle: EvaluationKeyBundle): Uint8Array {
  return encode({ format: RECORD_FORMAT, version: RECORD_VERSION, planHash: bundle.planHash, keyId: bundle.keyId, relin: bundle.relin, galois: bundle.galois });
}

/** A stored record's bundle, or undefined when the bytes are not one (damaged, another format). */
export function keyRecordFromBytes(bytes: Uint8Array): EvaluationKeyBundle | undefined {
  let raw: unknown;
  try {
    checkMsgpack(bytes, MESSAGE_LIMITS);
    raw = decode(bytes);
  } catch {
    return undefined;
  }
  const parsed = RecordSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { planHash, keyId, relin, galois } = parsed.data;
  return { planHash, keyId, relin, galois };
}
