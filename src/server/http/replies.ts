/**
 * Reply helpers shared by the routes: MessagePack bodies in (read by body.ts) and out, and
 * refusals as the protocol's JSON error body. A refusal records its code on the request so the
 * one log line per request can say why, without any of the body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Slab } from './slabs.ts';
import { MSGPACK_TYPE, PROTOCOL_VERSION, ProtocolError, type ErrorBody } from '../../core/protocol/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The protocol error code of a refused request, for the request log line. */
    refusal: string | null;
  }
}

/** Lets a refused request carry its code to the log line. */
export function recordRefusals(app: FastifyInstance): void {
  app.decorateRequest('refusal', null);
}

/**
 * The raw MessagePack body as body.ts read it, or a refusal saying what arrived instead. A slab
 * body must be released by the route once nothing reads it.
 */
export function msgpackBody(request: FastifyRequest): Slab {
  // The route's `accepts` refused other media types on arrival (body.ts): the body is
  // body.ts's Slab, or absent when nothing was sent.
  const body = request.body as Slab | undefined;
  if (body && body.bytes.length > 0) return body;
  body?.release();
  throw new ProtocolError('bad_request', 'the body is empty');
}

/** An encoded MessagePack message, sent without a copy. */
export function sendBytes(reply: FastifyReply, bytes: Uint8Array): FastifyReply {
  return reply.type(MSGPACK_TYPE).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Seconds a client should wait before retrying a busy or timed-out request. */
export const RETRY_AFTER_SECONDS = 1;
/** A storage fault needs an operator, not a quick retry: clients back off longer. */
export const STORAGE_RETRY_AFTER_SECONDS = 30;

/** The Retry-After of a refusal a client may retry as it is, or undefined. */
function retryAfterOf(error: ProtocolError): number | undefined {
  if (error.code === 'storage_full' || error.code === 'storage_unavailable') return STORAGE_RETRY_AFTER_SECONDS;
  return error.status === 503 ? RETRY_AFTER_SECONDS : undefined;
}

export function sendRefusal(request: FastifyRequest, reply: FastifyReply, error: ProtocolError): FastifyReply {
  request.refusal = error.code;
  const retryAfter = retryAfterOf(error);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  const body: ErrorBody = { protocol: PROTOCOL_VERSION, error: { code: error.code, message: error.message } };
  return reply.code(error.status).type('application/json; charset=utf-8').send(body);
}
