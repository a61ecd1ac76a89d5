/**
 * The messages of a secure-aggregation round, in the style of src/core/protocol/messages.ts:
 * MessagePack maps with string keys, each carrying the federated protocol version, its type,
 * the study hash and the round. Every site → coordinator message is signed by the site's
 * Ed25519 identity key over the message's own encoding (with an empty signature field), so the
 * coordinator checks who sent it and nobody can alter or re-address it; the signature covers the
 * study hash and the round, so a message replayed into another study or round fails.
 *
 * docs/federated.md §3 is the human-readable form of this file; keep the two in step.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import type { MsgpackLimits } from '../protocol/bounds.ts';
import { decodeMap } from '../protocol/codec.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { sign, verify } from './agreement.ts';
import { MAX_SITES } from './manifest.ts';
import { firstIssue } from '../schema-issue.ts';

export const FEDERATED_VERSION = 1;

/** Largest update vector a message may carry (parameters; 4 bytes each on the wire). */
export const MAX_VECTOR_LENGTH = 1 << 22;

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (a SHA-256)');
const bytes = (length?: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && (length === undefined || v.length === length), {
    message: length === undefined ? 'expected MessagePack binary' : `expected ${length} bytes of MessagePack binary`,
  });
const siteIndex = z.number().int().min(1).max(MAX_SITES);
const siteList = z.array(siteIndex).max(MAX_SITES).refine((l) => new Set(l).size === l.length, 'sites must be distinct');
const signature = bytes(64);

const envelope = {
  federated: z.literal(FEDERATED_VERSION),
  study: hash,
  round: z.number().int().min(1).max(0xffffffff),
};

/** One site's signed round keys, as advertised and as relayed in the roster. */
export const AdvertisementSchema = z.object({
  site: siteIndex,
  /** X25519 key the site's share ciphertexts are agreed with (c_i^PK). */
  encryptionKey: bytes(32),
  /** X25519 key the pairwise masks are agreed with (s_i^PK). */
  maskKey: bytes(32),
  /** Ed25519 over advertisementBytes(study, round, site, encryptionKey, maskKey). */
  keySignature: signature,
});
export type Advertisement = z.infer<typeof AdvertisementSchema>;

/** Site → coordinator: my keys for this round. */
export const AdvertiseSchema = z.object({ type: z.literal('advertise'), ...envelope, ...AdvertisementSchema.shape, signature });

/** Coordinator → sites: every advertisement received (U₁). */
export const RosterSchema = z.object({ type: z.literal('roster'), ...envelope, advertisements: z.array(AdvertisementSchema).max(MAX_SITES) });

/** Site → coordinator: my Shamir shares, one AEAD ciphertext per member of U₁. */
export const SharesSchema = z.object({
  type: z.literal('shares'),
  ...envelope,
  site: siteIndex,
  shares: z.array(z.object({ to: siteIndex, ciphertext: bytes() })).max(MAX_SITES),
  signature,
});

/** Coordinator → one site: U₂ and the ciphertexts addressed to it. */
export const InboxSchema = z.object({
  type: z.literal('inbox'),
  ...envelope,
  site: siteIndex,
  /** U₂: the sites whose shares the coordinator received. */
  participants: siteList,
  shares: z.array(z.object({ from: siteIndex, ciphertext: bytes() })).max(MAX_SITES),
});

/** Site → coordinator: the masked update y_i, 32-bit words little-endian. */
export const MaskedUploadSchema = z.object({
  type: z.literal('masked'),
  ...envelope,
  site: siteIndex,
  length: z.number().int().min(1).max(MAX_VECTOR_LENGTH),
  vector: bytes(),
  signature,
});

/** Coordinator → surviving sites: who uploaded (U₃). Each site derives the dropped set itself. */
export const UnmaskRequestSchema = z.object({ type: z.literal('unmask'), ...envelope, survivors: siteList });

const revealedShare = z.object({ of: siteIndex, share: bytes() });

/** Site → coordinator: self-mask shares of survivors, mask-key shares of dropped sites. */
export const RevealSchema = z.object({
  type: z.literal('reveal'),
  ...envelope,
  site: siteIndex,
  selfMask: z.array(revealedShare).max(MAX_SITES),
  maskKey: z.array(revealedShare).max(MAX_SITES),
  signature,
});

/** Coordinator → anyone: where a round stands. */
export const RoundStatusSchema = z.object({
  type: z.literal('status'),
  ...envelope,
  state: z.enum(['advertising', 'sharing', 'uploading', 'revealing', 'done', 'failed']),
  participants: siteList,
  /** ε spent after this round (null: no differential privacy), at the manifest's δ. */
  epsilon: z.number().nonnegative().nullable(),
  /** Why a failed round failed, for people. */
  reason: z.string().max(500).optional(),
});

/**
 * Coordinator → sites: the round's weights, all a site's update needs and nothing of the latent
 * parameters. Ternary patterns at 2 bits a weight (weights.ts); the per-unit scales and biases
 * as little-endian float64 (exact: a site's gradients must be bit-identical everywhere).
 */
export const WeightsSchema = z.object({
  type: z.literal('weights'),
  ...envelope,
  inputs: z.number().int().min(1).max(4096),
  hidden: z.number().int().min(1).max(4096),
  /** H × d hidden pattern then H output pattern, four weights a byte. */
  patterns: bytes(),
  /** float64 LE: H unit scales, H biases, the output scale, the output bias. */
  scales: bytes(),
});

export const FederatedMessageSchema = z.discriminatedUnion('type', [AdvertiseSchema, RosterSchema, SharesSchema, InboxSchema, MaskedUploadSchema, UnmaskRequestSchema, RevealSchema, RoundStatusSchema, WeightsSchema]);

export type Advertise = z.infer<typeof AdvertiseSchema>;
export type Roster = z.infer<typeof RosterSchema>;
export type Shares = z.infer<typeof SharesSchema>;
export type Inbox = z.infer<typeof InboxSchema>;
export type MaskedUpload = z.infer<typeof MaskedUploadSchema>;
export type UnmaskRequest = z.infer<typeof UnmaskRequestSchema>;
export type Reveal = z.infer<typeof RevealSchema>;
export type RoundStatus = z.infer<typeof RoundStatusSchema>;
export type Weights = z.infer<typeof WeightsSchema>;
export type FederatedMessage = z.infer<typeof FederatedMessageSchema>;
export type FederatedMessageType = FederatedMessage['type'];
export type FederatedMessageOf<T extends FederatedMessageType> = Extract<FederatedMessage, { type: T }>;
/** The messages a site sends, each signed. */
export type SignedMessage = Advertise | Shares | MaskedUpload | Reveal;

/** Bounds before decoding: a map holding arrays of small maps, depth 3; ≤ 255 entries each. */
export const FEDERATED_LIMITS: MsgpackLimits = { maxDepth: 4, maxElements: 8 * MAX_SITES + 64 };

const decoder = new Decoder({ maxStrLength: 4096, maxMapLength: 64, maxArrayLength: MAX_SITES, maxExtLength: 0 });
const encoder = new Encoder({ initialBufferSize: 64 * 1024 });

/** A message as MessagePack bytes, in its schema's key order (so that signatures reproduce). */
export function encodeFederated(message: FederatedMessage): Uint8Array {
  return encoder.encode(FederatedMessageSchema.parse(message));
}

/** Reads a message of the expected type, or throws ProtocolError saying what was wrong. */
export function decodeFederated<T extends FederatedMessageType>(bytes: Uint8Array, expected: T): FederatedMessageOf<T> {
  const raw = decodeMap(bytes, FEDERATED_LIMITS, decoder);
  const { federated, type } = raw;
  if (federated !== FEDERATED_VERSION) {
    throw new ProtocolError('unsupported_protocol', `the message speaks federated protocol ${JSON.stringify(federated ?? null)}; this side speaks ${FEDERATED_VERSION}`);
  }
  if (type !== expected) throw new ProtocolError('bad_request', `expected a "${expected}" message, got ${JSON.stringify(type ?? null)}`);
  const parsed = FederatedMessageSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ProtocolError('bad_request', `field ${firstIssue(parsed.error, '(message)')}`);
  }
  const message: FederatedMessage = parsed.data;
  if (message.type === 'masked' && message.vector.length !== 4 * message.length) {
    throw new ProtocolError('bad_request', `field vector: ${message.vector.length} bytes for ${message.length} values`);
  }
  return message as FederatedMessageOf<T>;
}

const SIGNING_DOMAIN = utf8ToBytes('cipherclinic/federated/v1/message');
const EMPTY = new Uint8Array(0);
const PLACEHOLDER = new Uint8Array(64);

/** The bytes a site signs: domain ‖ the message in schema key order with an empty signature. */
function signingBytes(message: SignedMessage): Uint8Array {
  const normalized = FederatedMessageSchema.parse({ ...message, signature: PLACEHOLDER });
  return concatBytes(SIGNING_DOMAIN, encoder.encode({ ...normalized, signature: EMPTY }));
}

/** The message with its `signature` set by the site's identity key. */
export async function signMessage<M extends SignedMessage>(message: M, identitySecretKey: Uint8Array): Promise<M> {
  return { ...message, signature: await sign(signingBytes(message), identitySecretKey) };
}

/** True when `message.signature` is the identity key's signature of the message. */
export function verifyMessage(message: SignedMessage, identityPublicKey: Uint8Array): Promise<boolean> {
  return verify(message.signature, signingBytes(message), identityPublicKey);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A vector in Z_{2^32} as little-endian bytes (a copy). */
export function vectorToBytes(v: Uint32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  else {
    const view = new DataView(out.buffer);
    v.forEach((x, k) => view.setUint32(4 * k, x, true));
  }
  return out;
}

/** Little-endian bytes back to a vector in Z_{2^32} (a copy, aligned). */
export function vectorFromBytes(bytes: Uint8Array): Uint32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`${bytes.length} bytes is not a whole number of 32-bit values`);
  const out = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0; k < out.length; k++) out[k] = view.getUint32(4 * k, true);
  return out;
}
