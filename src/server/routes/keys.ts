/**
 * POST /api/keys: registers a client's public keys for one plan. Content-addressed and
 * idempotent: the id is the hash of the bytes, so the same keys always get the same id (201 the
 * first time, 200 after, the expiry extended; of concurrent registrations exactly one is 201).
 * Keys are bound to the plan they were registered for (store.ts), and a plan takes exactly the
 * keys its `keys` field names (batch: relinearization keys; single: the public key, with which
 * each result is re-randomized), so a client that sends the wrong set hears which key is
 * missing or not wanted. New keys are loaded by a worker before they are stored, so keys SEAL
 * cannot use are refused now, not at the first classification.
 */
import type { FastifyInstance } from 'fastify';
import { API, decodeMessage, keysFromWire, MSGPACK_TYPE, PROTOCOL_VERSION, ProtocolError, type KeyReceipt, type KeyRegistration } from '../../core/protocol/index.ts';
import type { EvaluationKeyBundle, HePlan } from '../../core/he/index.ts';
import { msgpackBody } from '../http/replies.ts';
import { KEY_KINDS, KEY_NAMES, keyBoundsOf, type KeyKind } from '../pool/seal-bytes.ts';
import { circuitOf } from '../registry.ts';
import { notReady } from './status.ts';
import type { ServerParts } from '../parts.ts';

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Which keys a plan takes: its `keys` field, and Galois keys exactly when it rotates. */
function wantedKeys(plan: HePlan): Record<KeyKind, boolean> {
  return { relin: plan.keys.relin, galois: plan.galoisSteps.length > 0, publicKey: plan.keys.publicKey };
}

/**
 * Refuses a key set that is not the plan's, or a key larger than the plan's can be (compressed
 * keys are never much larger than uncompressed ones), before any worker sees the bytes.
 */
function checkKeySet(plan: HePlan, message: KeyRegistration): void {
  const wanted = wantedKeys(plan);
  const bounds = keyBoundsOf(plan);
  const label = `the ${plan.layout} plan ${plan.hash.slice(0, 12)}…`;
  for (const kind of KEY_KINDS) {
    const bytes = message[kind];
    if (wanted[kind] && !bytes) {
      const why = kind === 'galois' ? ` (it rotates by ${plan.galoisSteps.join(', ')})` : '';
      throw new ProtocolError('keys_refused', `${label} needs ${KEY_NAMES[kind]}${why}: send ${kind === 'publicKey' ? 'it' : 'them'} in "${kind}"`);
    }
    if (!wanted[kind] && bytes) throw new ProtocolError('keys_refused', `${label} does not take ${KEY_NAMES[kind]}: send "${kind}" as nil`);
    const limit = Math.ceil(bounds[kind] * 1.01);
    if (bytes && bytes.length > limit) throw new ProtocolError('keys_refused', `"${kind}" holds ${bytes.length} bytes, more than ${KEY_NAMES[kind]} of this plan can be (${limit} bytes)`);
  }
}

export function keyRoutes(app: FastifyInstance, { config, registry, pool, keys }: ServerParts): void {
  app.post(API.keys, { bodyLimit: config.maxKeyBytes, config: { accepts: MSGPACK_TYPE } }, async (request, reply) => {
    const message = decodeMessage(msgpackBody(request).bytes, 'keys');
    const found = registry.byPlan(message.planHash);
    if (!found) {
      if (!registry.loaded) throw notReady();
      throw new ProtocolError('unknown_plan', `no served model has plan ${message.planHash.slice(0, 12)}…; fetch the model card again`);
    }
    const { served, plan } = found;
    if (served.model.hash !== message.modelHash) throw new ProtocolError('model_mismatch', `plan ${plan.hash.slice(0, 12)}… belongs to model ${served.model.id} ${served.model.hash.slice(0, 12)}…, not ${message.modelHash.slice(0, 12)}…`);
    checkKeySet(plan, message);

    const bundle: EvaluationKeyBundle = keysFromWire(message);
    const known = await keys.get(bundle.planHash, bundle.keyId);
    const same = known && KEY_KINDS.every((kind) => sameBytes(known.bundle[kind], bundle[kind]));
    if (!same) await pool.checkKeys(circuitOf(served, plan), bundle);
    const receipt = await keys.put(bundle);
    const body: KeyReceipt = { protocol: PROTOCOL_VERSION, keyId: receipt.keyId, planHash: plan.hash, created: receipt.created, expiresAt: new Date(receipt.expiresAt).toISOString() };
    return reply.code(receipt.created ? 201 : 200).send(body);
  });
}
