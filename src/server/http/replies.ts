/**
 * Reply helpers shared by the routes: MessagePack bodies in and out, and refusals as the
 * protocol's JSON error body. A refusal records its code on the request so the one log line
 * per request can say why, without any of the body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MSGPACK_TYPE, PROTOCOL_VERSION, ProtocolError, type ErrorBody, type Message } from '../../core/protocol/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The protocol error code of a refused request, for the request log line. */
    refusal: string | null;
  }
}

/** Accepts application/msgpack bodies as raw bytes, within each route's body limit. */
export function acceptMsgpack(app: FastifyInstance): void {
  app.decorateRequest('refusal', null);
  app.addContentTypeParser(MSGPACK_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

/** The raw MessagePack body, or a refusal saying what arrived instead. */
export function msgpackBody(request: FastifyRequest): Uint8Array {
  const type = request.headers['content-type'] ?? '(none)';
  if (!type.toLowerCase().startsWith(MSGPACK_TYPE)) throw new ProtocolError('unsupported_media_type', `send the message as ${MSGPACK_TYPE}, not ${type}`);
  if (!(request.body instanceof Uint8Array) || request.body.length === 0) throw new ProtocolError('bad_request', 'the body is empty');
  return request.body;
}

export function sendMessage(reply: FastifyReply, message: Message, encode: (m: Message) => Uint8Array): FastifyReply {
  return sendBytes(reply, encode(message));
}

/** An encoded MessagePack message, sent without a copy. */
export function sendBytes(reply: FastifyReply, bytes: Uint8Array): FastifyReply {
  return reply.type(MSGPACK_TYPE).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Seconds a client should wait before retrying a busy or timed-out request. */
export const RETRY_AFTER_SECONDS = 1;

export function sendRefusal(request: FastifyRequest, reply: FastifyReply, error: ProtocolError): FastifyReply {
  request.refusal = error.code;
  if (error.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const body: ErrorBody = { protocol: PROTOCOL_VERSION, error: { code: error.code, message: error.message } };
  return reply.code(error.status).type('application/json; charset=utf-8').send(body);
}
