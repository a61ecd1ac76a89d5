/**
 * The wire protocol between a client (which holds the secret key) and the classifier service
 * (which holds evaluation keys only). Binary messages are MessagePack maps; each one carries
 * the protocol version and the hashes of the model and plan it was made for, so a client built
 * for another model, plan or version is refused with a reason before SEAL sees a byte.
 *
 * docs/protocol.md is the human-readable form of this file; keep the two in step.
 */
import { z } from 'zod';
import { MAX_CIPHERTEXTS, PROTOCOL_VERSION } from './constants.ts';

// The constants live in a zod-free module so the browser can import them without zod.
export { CACHED_AT_HEADER, MAX_CIPHERTEXTS, MSGPACK_TYPE, PROTOCOL_HEADER, PROTOCOL_VERSION } from './constants.ts';

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (a SHA-256)');
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected MessagePack binary (bin 8/16/32)' });
const layout = z.enum(['batch', 'single']);

/** Fields every binary message starts with. */
const envelope = {
  protocol: z.literal(PROTOCOL_VERSION),
  /** Hash of the model file the message was made for (the card's modelHash). */
  modelHash: hash,
  /** Hash of the HE plan (the card's plans[layout].hash). */
  planHash: hash,
};

/**
 * Client → server, POST /api/keys: the public keys one plan needs. Each key field is present;
 * it holds bytes exactly when the plan's `keys` names that key, nil otherwise (the route
 * refuses any other combination, saying which key is missing or not wanted).
 */
export const KeyRegistrationSchema = z.object({
  type: z.literal('keys'),
  ...envelope,
  /** SHA-256 over the three length-prefixed key byte strings (see keyIdOf in docs/protocol.md §4.2). */
  keyId: hash,
  /** SEAL RelinKeys, serialized (seeded, any SEAL compression), or nil: batch plans need them. */
  relin: bytes.nullable(),
  /** SEAL GaloisKeys for the plan's galoisSteps, or nil when the plan has none (every plan today). */
  galois: bytes.nullable(),
  /**
   * The client's SEAL PublicKey (seeded, any SEAL compression), or nil: single plans need it,
   * to re-randomize each result under the client's key before it is sent back.
   */
  publicKey: bytes.nullable(),
});

/** Client → server, POST /api/models/:id/classify: one encrypted input. */
export const ClassifyRequestSchema = z.object({
  type: z.literal('classify'),
  ...envelope,
  /** Id of registered evaluation keys for this plan. */
  keyId: hash,
  layout,
  /** Records carried: 1 for single, 1..recordsPerInput for batch (checked against the plan). */
  count: z.number().int().min(0),
  /** SEAL ciphertexts, plan.ciphertextsPerInput of them. */
  ciphertexts: z.array(bytes).min(1).max(MAX_CIPHERTEXTS),
});

/** Server → client: the encrypted scores of one input. */
export const ClassifyResultSchema = z.object({
  type: z.literal('result'),
  ...envelope,
  layout,
  count: z.number().int().min(1),
  /**
   * batch: one SEAL ciphertext at the last level, slot r holding record r's score. single: a
   * packed sparse result (docs/protocol.md §4.6), whose exact length the client derives from its
   * plan and checks before it reads anything.
   */
  ciphertext: bytes,
});

export const MessageSchema = z.discriminatedUnion('type', [KeyRegistrationSchema, ClassifyRequestSchema, ClassifyResultSchema]);

export type KeyRegistration = z.infer<typeof KeyRegistrationSchema>;
export type ClassifyRequest = z.infer<typeof ClassifyRequestSchema>;
export type ClassifyResult = z.infer<typeof ClassifyResultSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** JSON answer to a key registration. */
export interface KeyReceipt {
  protocol: typeof PROTOCOL_VERSION;
  keyId: string;
  planHash: string;
  /** False when the same keys were already registered (registration is idempotent). */
  created: boolean;
  /** When the server may forget the keys (ISO 8601); registering again extends it. */
  expiresAt: string;
}

/** JSON answer of GET /api/health: the process is alive. */
export interface HealthStatus {
  protocol: typeof PROTOCOL_VERSION;
  status: 'ok';
  uptimeSeconds: number;
}

/** JSON answer of GET /api/ready: models compiled and workers up (503 until then). */
export interface ReadyStatus {
  protocol: typeof PROTOCOL_VERSION;
  ready: boolean;
  models: number;
  workers: number;
  queued: number;
  maxQueue: number;
  reason?: string;
}
