/**
 * MessagePack encoding of protocol messages, and the mirrored conversions between the engine's
 * objects (EncryptedInput, EncryptedResult, EvaluationKeyBundle) and wire messages.
 * Isomorphic: the browser worker and the server use the same functions.
 *
 * Decoding checks, in order: the bounds (nesting, declared elements and lengths; bounds.ts)
 * before anything is allocated, MessagePack well-formedness, the protocol version (so an old or
 * new client hears "version" rather than "field x is wrong"), the message type, then every
 * field. Binary fields come back as views into the received bytes: no copy.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { EncryptedInput, EncryptedResult, EvaluationKeyBundle } from '../he/types.ts';
import { BoundsError, checkMsgpack, MESSAGE_LIMITS, type MsgpackLimits } from './bounds.ts';
import { ProtocolError } from './errors.ts';
import { MessageSchema, PROTOCOL_VERSION, type ClassifyRequest, type ClassifyResult, type KeyRegistration, type Message, type MessageOf, type MessageType } from './messages.ts';
import { firstIssue } from '../schema-issue.ts';

// Bounds keep a hostile body from building huge maps or strings; binaries are bounded by the body.
const decoder = new Decoder({ maxStrLength: 4096, maxMapLength: 64, maxArrayLength: 4096, maxExtLength: 0 });

// One encoder, reused: its working buffer grows once to the largest message, and each message
// then costs one allocation of exactly its size (a fresh encoder doubles its way up, copying).
const encoder = new Encoder({ initialBufferSize: 64 * 1024 });

/** A message as MessagePack bytes (a new buffer of exactly the message's size). */
export function encodeMessage(message: Message): Uint8Array {
  return encoder.encode(message);
}

/**
 * Untrusted bytes as a MessagePack map: bounds checked before the decoder allocates, then
 * decoded; ProtocolError `bad_request` saying what was wrong. Every message codec starts here.
 */
export function decodeMap(bytes: Uint8Array, limits: MsgpackLimits, withDecoder: Decoder = decoder): Record<string, unknown> {
  let raw: unknown;
  try {
    checkMsgpack(bytes, limits);
    raw = withDecoder.decode(bytes);
  } catch (e) {
    if (e instanceof BoundsError) throw new ProtocolError('bad_request', `the body is refused before decoding: ${e.message}`);
    throw new ProtocolError('bad_request', `the body is not a MessagePack message: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) {
    throw new ProtocolError('bad_request', 'the body must be a MessagePack map');
  }
  return raw as Record<string, unknown>;
}

/**
 * The refusal of a message of another protocol version, in words its reader can act on. Keys
 * and classify messages go from a client to the service, results the other way, so the type
 * says which side is behind: an older client is told to reload the app (its code is the one
 * every release has treated as final, so no client retries it in a loop).
 */
export function versionRefusal(protocol: unknown, expected: MessageType): ProtocolError {
  const fromClient = expected !== 'result';
  if (typeof protocol !== 'number' || !Number.isInteger(protocol)) {
    return new ProtocolError('unsupported_protocol', `the message names no protocol version (got ${JSON.stringify(protocol ?? null)}); this side speaks protocol ${PROTOCOL_VERSION}`);
  }
  if (protocol < PROTOCOL_VERSION) {
    return fromClient
      ? new ProtocolError('unsupported_protocol', `this client speaks protocol ${protocol}, older than the service's protocol ${PROTOCOL_VERSION}: reload the page (or update the client) to get the current version of the app`)
      : new ProtocolError('unsupported_protocol', `the service speaks protocol ${protocol}, older than this app's protocol ${PROTOCOL_VERSION}: the service is being upgraded, try again later`);
  }
  return fromClient
    ? new ProtocolError('unsupported_protocol', `this client speaks protocol ${protocol}, newer than the service's protocol ${PROTOCOL_VERSION}: the service is being upgraded, try again later`)
    : new ProtocolError('unsupported_protocol', `the service speaks protocol ${protocol}, newer than this app's protocol ${PROTOCOL_VERSION}: reload the page to get the current version of the app`);
}

/** Reads a message of the expected type, or throws ProtocolError saying what was wrong. */
export function decodeMessage<T extends MessageType>(bytes: Uint8Array, expected: T): MessageOf<T> {
  const raw = decodeMap(bytes, MESSAGE_LIMITS);
  const { protocol, type } = raw;
  if (protocol !== PROTOCOL_VERSION) throw versionRefusal(protocol, expected);
  if (type !== expected) throw new ProtocolError('bad_request', `expected a "${expected}" message, got ${JSON.stringify(type ?? null)}`);
  const parsed = MessageSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ProtocolError('bad_request', `field ${firstIssue(parsed.error, '(message)')}`);
  }
  return parsed.data as MessageOf<T>;
}

/** Evaluation keys → registration message. */
export function keysToWire(bundle: EvaluationKeyBundle, modelHash: string): KeyRegistration {
  return { type: 'keys', protocol: PROTOCOL_VERSION, modelHash, planHash: bundle.planHash, keyId: bundle.keyId, relin: bundle.relin, galois: bundle.galois, publicKey: bundle.publicKey };
}

export function keysFromWire(message: KeyRegistration): EvaluationKeyBundle {
  return { planHash: message.planHash, keyId: message.keyId, relin: message.relin, galois: message.galois, publicKey: message.publicKey };
}

/** Encrypted input → classify request under registered keys. */
export function inputToWire(input: EncryptedInput, keyId: string): ClassifyRequest {
  return { type: 'classify', protocol: PROTOCOL_VERSION, modelHash: input.modelHash, planHash: input.planHash, keyId, layout: input.layout, count: input.count, ciphertexts: input.ciphertexts };
}

export function inputFromWire(message: ClassifyRequest): EncryptedInput {
  return { layout: message.layout, modelHash: message.modelHash, planHash: message.planHash, count: message.count, ciphertexts: message.ciphertexts };
}

export function resultToWire(result: EncryptedResult): ClassifyResult {
  return { type: 'result', protocol: PROTOCOL_VERSION, modelHash: result.modelHash, planHash: result.planHash, layout: result.layout, count: result.count, ciphertext: result.ciphertext };
}

export function resultFromWire(message: ClassifyResult): EncryptedResult {
  return { layout: message.layout, modelHash: message.modelHash, planHash: message.planHash, count: message.count, ciphertext: message.ciphertext };
}
