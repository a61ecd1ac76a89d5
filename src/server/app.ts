/**
 * The HTTP app: safe defaults first (security headers with a CSP that allows WebAssembly and
 * workers but nothing foreign, CORS closed unless configured, a per-client rate limit), then
 * one log line per request with no body in it, then the routes.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import { PROTOCOL_HEADER, PROTOCOL_VERSION, ProtocolError } from '../core/protocol/index.ts';
import { handleErrors } from './http/errors.ts';
import { IDEMPOTENCY_HEADER, REPLAYED_HEADER } from './idempotency/index.ts';
import { acceptBodies } from './http/body.ts';
import { recordRefusals } from './http/replies.ts';
import type { ServerParts } from './parts.ts';
import { adminRoutes } from './routes/admin.ts';
import { appRoutes } from './routes/app.ts';
import { classifyRoutes } from './routes/classify.ts';
import { keyRoutes } from './routes/keys.ts';
import { statusRoutes } from './routes/status.ts';
import { studyRoutes } from './routes/studies.ts';
import { KEY_PREFIX } from './shared/redis.ts';

/** The Content-Security-Policy of the app: its own scripts, WebAssembly, its own workers. */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
  workerSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  styleSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

export interface AppOptions {
  /** Where the JSON log lines go (default: stdout). */
  logStream?: NodeJS.WritableStream;
}

export async function buildApp(parts: ServerParts, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = parts;
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization'], ...(options.logStream ? { stream: options.logStream } : {}) },
    // Fastify's own two lines per request are off; the onResponse hook writes one.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    trustProxy: config.trustProxy,
    bodyLimit: config.maxJsonBytes,
    // A slow upload holds a socket, not a worker; still, give up on it.
    requestTimeout: 120_000,
  });
  recordRefusals(app);
  acceptBodies(app, parts.slabs);
  handleErrors(app);

  // Helmet's middleware, built once: @fastify/helmet rebuilds it (and re-parses the CSP) on
  // every request.
  const securityHeaders = helmet({ contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES } });
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)));
  if (config.corsOrigins.length > 0) {
    await app.register(cors, { origin: config.corsOrigins, methods: ['GET', 'POST'], allowedHeaders: ['content-type', IDEMPOTENCY_HEADER], exposedHeaders: ['retry-after', PROTOCOL_HEADER, REPLAYED_HEADER], maxAge: 600 });
  }
  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      // Shared counters when instances share Redis; a Redis fault lets requests through
      // (skipOnError) rather than refusing every patient.
      ...(parts.redis ? { redis: parts.redis, nameSpace: `${KEY_PREFIX}rate:`, skipOnError: true } : {}),
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) => Object.assign(new ProtocolError('rate_limited', `more than ${context.max} requests a minute from this client; retry in ${Math.ceil(context.ttl / 1000)} s`), { statusCode: 429 }),
    });
  }

  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/api/')) reply.header(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
    // Shutting down: answers to requests still in flight end their connections, or an idle
    // keep-alive socket would hold the process for the keep-alive timeout (72 s).
    if (!app.server.listening) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? request.url.split('?')[0]!.slice(0, 120), model: (request.params as { id?: string } | undefined)?.id, status: reply.statusCode, ms: Math.round(reply.elapsedTime), bytesIn: Number(request.headers['content-length'] ?? 0), refusal: request.refusal ?? undefined },
      'request',
    );
  });

  statusRoutes(app, parts);
  keyRoutes(app, parts);
  classifyRoutes(app, parts);
  adminRoutes(app, parts);
  studyRoutes(app, parts);
  await appRoutes(app, parts);
  return app;
}
