/**
 * MessagePack request bodies, read straight into their final memory. Fastify's own buffer
 * reader collects chunks and then concatenates them. That is one more body-sized allocation per
 * request, and it cannot fill shared memory. Here the Content-Length sizes the destination
 * first: a reusable slab for routes that ask for one (`config: { slabBody: true }`; classify),
 * a plain array for the rest. The route's body limit is enforced as fastify enforces it, with
 * fastify's own error codes.
 */
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { MSGPACK_TYPE } from '../../core/protocol/index.ts';
import type { Slab, SlabPool } from './slabs.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Read this route's MessagePack body into a reusable slab (the route must release it). */
    slabBody?: boolean;
  }
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
      reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
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
        fail(declared === null ? new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE() : new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
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
    payload.on('error', fail);
    payload.on('close', () => fail(new Error('the client closed the connection before the body arrived')));
  });
}

/** Accepts application/msgpack bodies into memory, within each route's body limit. */
export function acceptMsgpack(app: FastifyInstance, slabs: SlabPool): void {
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
