/**
 * POST /api/keys: registers a client's public evaluation keys for one plan. Content-addressed
 * and idempotent: the id is the hash of the bytes, so the same keys always get the same id
 * (201 the first time, 200 after, the expiry extended; of concurrent registrations exactly one
 * is 201). Keys are bound to the plan they were registered for (store.ts). New keys are loaded by a worker before
 * they are stored, so keys SEAL cannot use are refused now, not at the first classification.
 */
import type { FastifyInstance } from 'fastify';
import { API, decodeMessage, keysFromWire, MSGPACK_TYPE, PROTOCOL_VERSION, ProtocolError, type KeyReceipt } from '../../core/protocol/index.ts';
import { keyBytesBound, keyBytesOf, type EvaluationKeyBundle } from '../../core/he/index.ts';
import { msgpackBody } from '../http/replies.ts';
import { circuitOf } from '../registry.ts';
import { notReady } from './status.ts';
import type { ServerParts } from '../parts.ts';

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
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
    if (plan.galoisSteps.length > 0 && !message.galois) throw new ProtocolError('keys_refused', `the ${plan.layout} plan rotates by ${plan.galoisSteps.join(', ')}: send Galois keys for those steps`);
    if (plan.galoisSteps.length === 0 && message.galois) throw new ProtocolError('keys_refused', `the ${plan.layout} plan needs no Galois keys: send galois = null`);
    // Compressed keys are never much larger than uncompressed ones: refuse absurd sizes early.
    const limit = keyBytesBound(plan.params, plan.galoisSteps.length + 1) * 1.01;
    if (keyBytesOf(message) > limit) throw new ProtocolError('keys_refused', `the keys are larger than this plan's keys can be (${Math.round(limit)} bytes)`);

    const bundle: EvaluationKeyBundle = keysFromWire(message);
    const known = await keys.get(bundle.planHash, bundle.keyId);
    const same = known && sameBytes(known.bundle.relin, bundle.relin) && sameBytes(known.bundle.galois, bundle.galois);
    if (!same) await pool.checkKeys(circuitOf(served, plan), bundle);
    const receipt = await keys.put(bundle);
    const body: KeyReceipt = { protocol: PROTOCOL_VERSION, keyId: receipt.keyId, planHash: plan.hash, created: receipt.created, expiresAt: new Date(receipt.expiresAt).toISOString() };
    return reply.code(receipt.created ? 201 : 200).send(body);
  });
}
