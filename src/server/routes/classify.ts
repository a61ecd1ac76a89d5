/**
 * POST /api/models/:id/classify: one encrypted input in, its encrypted scores out. Everything
 * that can be checked without SEAL is checked here, on the event loop, in microseconds: the
 * model and plan the message was made for, the ciphertext count and sizes, the key id. SEAL
 * work (and its own checks) runs on the pool. With an Idempotency-Key header, a repeat of the
 * same request gets the stored answer instead of a second evaluation (idempotency.ts).
 */
import type { FastifyInstance } from 'fastify';
import { ciphertextBytesBound, type HePlan } from '../../core/he/index.ts';
import { API, decodeMessage, encodeMessage, inputFromWire, MSGPACK_TYPE, ProtocolError, resultToWire, type ClassifyRequest } from '../../core/protocol/index.ts';
import { msgpackBody, sendBytes } from '../http/replies.ts';
import { IDEMPOTENCY_HEADER, idempotencyKeyOf, REPLAYED_HEADER } from '../idempotency/index.ts';
import { circuitOf, type ServedModel } from '../registry.ts';
import type { ServerParts } from '../parts.ts';
import { unknownModel } from './status.ts';

/** The plan a request names, refusing requests made for another model or plan. */
function planOf(served: ServedModel, message: ClassifyRequest): HePlan {
  const { model } = served;
  if (message.modelHash !== model.hash) {
    throw new ProtocolError('model_mismatch', `the input was made for model ${message.modelHash.slice(0, 12)}…; "${model.id}" is now ${model.hash.slice(0, 12)}…: fetch its card again`);
  }
  const plan = Object.values(served.plans).find((p) => p.hash === message.planHash);
  if (!plan) throw new ProtocolError('plan_mismatch', `plan ${message.planHash.slice(0, 12)}… is not one of model "${model.id}"'s plans`);
  return plan;
}

/** Shape checks against the plan: count of ciphertexts and records, size of each ciphertext. */
function checkShape(plan: HePlan, message: ClassifyRequest): void {
  if (message.layout !== plan.layout) throw new ProtocolError('shape_mismatch', `layout "${message.layout}" does not match plan ${plan.hash.slice(0, 12)}…, which is "${plan.layout}"`);
  if (message.ciphertexts.length !== plan.ciphertextsPerInput) throw new ProtocolError('shape_mismatch', `the ${plan.layout} plan takes ${plan.ciphertextsPerInput} ciphertexts, got ${message.ciphertexts.length}`);
  if (message.count < 1) throw new ProtocolError('shape_mismatch', 'an input carries at least one record, got count 0');
  if (message.count > plan.recordsPerInput) throw new ProtocolError('shape_mismatch', `one ${plan.layout} input carries at most ${plan.recordsPerInput} records, got ${message.count}`);
  // Compressed ciphertexts are never much larger than uncompressed ones: refuse absurd sizes here.
  const limit = Math.ceil(ciphertextBytesBound(plan.params) * 1.01);
  message.ciphertexts.forEach((c, i) => {
    if (c.length > limit) throw new ProtocolError('ciphertext_refused', `ciphertext ${i} is ${c.length} bytes; this plan's are at most ${limit}`);
  });
}

export function classifyRoutes(app: FastifyInstance, { config, registry, pool, keys, answers }: ServerParts): void {
  app.post<{ Params: { id: string } }>('/api/models/:id/classify', { bodyLimit: config.maxClassifyBytes, config: { slabBody: true, accepts: MSGPACK_TYPE } }, async (request, reply) => {
    const slab = msgpackBody(request);
    const body = slab.bytes;
    // The slab goes back to the pool when the worker is done with it, or here when no worker got it.
    let handedOver = false;
    try {
      const idempotencyKey = idempotencyKeyOf(request.headers[IDEMPOTENCY_HEADER]);
      const evaluate = async (): Promise<Uint8Array> => {
        const message = decodeMessage(body, 'classify');
        const served = registry.byId(request.params.id);
        if (!served) throw unknownModel(request.params.id, registry.loaded);
        const plan = planOf(served, message);
        checkShape(plan, message);
        const stored = await keys.get(plan.hash, message.keyId);
        if (!stored) throw new ProtocolError('unknown_key', `no evaluation keys ${message.keyId.slice(0, 12)}… are registered for plan ${plan.hash.slice(0, 12)}… (or they expired): POST them to ${API.keys} again`);
        handedOver = true;
        const result = await pool.evaluate(circuitOf(served, plan), stored.bundle, inputFromWire(message), slab.release);
        return encodeMessage(resultToWire(result));
      };
      if (idempotencyKey === undefined) return sendBytes(reply, await evaluate());
      const { bytes, replayed } = await answers.answer(request.params.id, idempotencyKey, body, evaluate);
      if (replayed) reply.header(REPLAYED_HEADER, 'true');
      return sendBytes(reply, bytes);
    } finally {
      if (!handedOver) slab.release();
    }
  });
}
