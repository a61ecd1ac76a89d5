/**
 * Request bodies. Each route that takes a body names its one media type (`config.accepts`), and
 * any other is refused with 415 when the request arrives, before a byte of the body is read or
 * parsed: a 16 MiB JSON body sent to a MessagePack route once cost 3 s of event loop and 0.9 GB.
 * JSON is scanned for nesting before JSON.parse (bounds.ts), and every body limit is refused
 * with a message that names it.
 *
 * MessagePack request bodies are read straight into their final memory. Fastify's own buffer
 * reader collects chunks and then concatenates them. That is one more body-sized allocation per
 * request, and it cannot fill shared memory. Here the Content-Length sizes the destination
 * first: a reusable slab for routes that ask for one (`config: { slabBody: true }`; classify),
 * a plain array for the rest. The route's body limit is enforced as fastify enforces it, with
 * fastify's own error codes.
 */
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { MODEL_LIMITS } from '../../core/model/format.ts';
import { jsonTextDepthWithin, MSGPACK_TYPE, ProtocolError } from '../../core/protocol/index.ts';
import type { Slab, SlabPool } from './slabs.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Read this route's MessagePack body into a reusable slab (the route must release it). */
    slabBody?: boolean;
    /** The one media type this route's body may have; others are refused before reading. */
    accepts?: typeof MSGPACK_TYPE | typeof JSON_TYPE;
  }
}

export const JSON_TYPE = 'application/json';

/** JSON bodies are model files: they nest no deeper than a model file may. */
const JSON_MAX_DEPTH = MODEL_LIMITS.depth;

/** The media type of a Content-Type header, lowercased, without parameters. */
function mediaTypeOf(header: string | undefined): string | undefined {
  return header?.split(';')[0]!.trim().toLowerCase() || undefined;
}

/** The client hung up before its body arrived: not a server fault (logged at info, no stack). */
export class ClientAbortError extends Error {
  override name = 'ClientAbortError';
}

function tooLarge(limit: number): ProtocolError {
  return new ProtocolError('payload_too_large', `the body is larger than this route's limit of ${limit} bytes`);
}

/** A body that needs no release: plain memory, garbage once dropped. */
function plainBody(length: number): Slab {
  return { bytes: new Uint8Array(length), release: () => {} };
}

/** Reads a body of known or unknown length, within `limit`, into memory from `allocate`. */
function readBody(payload: IncomingMessage, declared: number | null, limit: number, allocate: (length: number) => Slab): Promise<Slab> {
  return new Promise((resolve, reject) => {
    if (declared !== null && declared > limit) {
      payload.resume();
      reject(tooLarge(limit));
      return;
    }
    const slab = declared === null ? null : allocate(declared);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      slab?.release();
      payload.removeAllListeners('data');
      payload.resume();
      reject(error);
    };
    payload.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (received + chunk.length > (declared ?? limit)) {
        fail(declared === null ? tooLarge(limit) : new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      if (slab) slab.bytes.set(chunk, received);
      else chunks.push(chunk);
      received += chunk.length;
    });
    payload.on('end', () => {
      if (settled) return;
      if (declared !== null && received !== declared) return fail(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      settled = true;
      if (slab) return resolve(slab);
      const body = allocate(received);
      let at = 0;
      for (const chunk of chunks) {
        body.bytes.set(chunk, at);
        at += chunk.length;
      }
      resolve(body);
    });
    // A client that hangs up mid-body shows as 'aborted' (ECONNRESET) and then 'close'.
    payload.on('error', (error: NodeJS.ErrnoException) => fail(error.code === 'ECONNRESET' || error.message === 'aborted' ? new ClientAbortError('the client closed the connection before the body arrived') : error));
    payload.on('close', () => fail(new ClientAbortError('the client closed the connection before the body arrived')));
  });
}

/**
 * Installs the body rules: the media-type check on arrival, MessagePack bodies into memory and
 * JSON bodies bounded in nesting, both within each route's body limit.
 */
export function acceptBodies(app: FastifyInstance, slabs: SlabPool): void {
  app.addHook('onRequest', async (request) => {
    const accepts = request.routeOptions.config?.accepts;
    if (!accepts) return;
    const type = mediaTypeOf(request.headers['content-type']);
    if (type !== accepts) throw new ProtocolError('unsupported_media_type', `send the body as ${accepts}, not ${type ?? '(no content type)'}`);
  });
  acceptJson(app);
  acceptMsgpack(app, slabs);
}

/** JSON through fastify's own parser (prototype-poisoning safe), after a nesting scan. */
function acceptJson(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(JSON_TYPE);
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (request, body, done) => {
    if (!jsonTextDepthWithin(body as string, JSON_MAX_DEPTH)) {
      done(new ProtocolError('bad_request', `the JSON body nests deeper than ${JSON_MAX_DEPTH} levels`), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}

/** Accepts application/msgpack bodies into memory, within each route's body limit. */
function acceptMsgpack(app: FastifyInstance, slabs: SlabPool): void {
  app.addContentTypeParser(MSGPACK_TYPE, (request: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: Slab) => void) => {
    const header = request.headers['content-length'];
    const declared = header === undefined ? null : Number(header);
    if (declared !== null && !(Number.isSafeInteger(declared) && declared >= 0)) {
      done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    }
    const allocate = request.routeOptions.config.slabBody ? (n: number) => slabs.take(n) : plainBody;
    readBody(payload, declared, request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 1024 * 1024, allocate).then(
      (body) => done(null, body),
      (error: Error) => done(error),
    );
  });
}
