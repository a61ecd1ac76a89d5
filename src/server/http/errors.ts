/**
 * One error handler for the whole app: protocol refusals keep their code; fastify's own
 * refusals (body too large, unknown content type, malformed JSON) become protocol codes;
 * anything else is a server fault, logged with its stack and answered 500 without details.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { ProtocolError, type ErrorCode } from '../../core/protocol/index.ts';
import { ClientAbortError } from './body.ts';
import { sendRefusal } from './replies.ts';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
};

function protocolErrorOf(error: FastifyError, request: FastifyRequest): ProtocolError | undefined {
  if (error instanceof ProtocolError) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit;
    return new ProtocolError('payload_too_large', limit ? `the body is larger than this route's limit of ${limit} bytes` : error.message);
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return new ProtocolError(mapped, error.message);
  const status = error.statusCode ?? 500;
  if (status === 429) return new ProtocolError('rate_limited', error.message);
  if (status === 413) return new ProtocolError('payload_too_large', error.message);
  if (status === 415) return new ProtocolError('unsupported_media_type', error.message);
  if (status >= 400 && status < 500) return new ProtocolError('bad_request', error.message);
  return undefined;
}

export function handleErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ClientAbortError) {
      // Nobody is left to answer; a slow or flaky client is routine, not a fault.
      request.log.info({ reason: error.message }, 'client aborted');
      return sendRefusal(request, reply, new ProtocolError('bad_request', error.message));
    }
    const refusal = protocolErrorOf(error, request);
    if (refusal) return sendRefusal(request, reply, refusal);
    request.log.error({ err: error }, 'request failed');
    return sendRefusal(request, reply, new ProtocolError('internal', `internal error (request ${request.id})`));
  });
  app.setNotFoundHandler((request, reply) => sendRefusal(request, reply, new ProtocolError('not_found', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`)));
}
