/** Liveness, readiness and the public model cards: small JSON, never rate-limited probes. */
import type { FastifyInstance } from 'fastify';
import { API, PROTOCOL_VERSION, ProtocolError, type HealthStatus, type ReadyStatus } from '../../core/protocol/index.ts';
import { RETRY_AFTER_SECONDS } from '../http/replies.ts';
import type { ServerParts } from '../parts.ts';

export function statusRoutes(app: FastifyInstance, { registry, pool, keys }: ServerParts): void {
  const started = Date.now();
  const probe = { config: { rateLimit: false } };

  app.get(API.health, probe, async (): Promise<HealthStatus> => ({ protocol: PROTOCOL_VERSION, status: 'ok', uptimeSeconds: Math.round((Date.now() - started) / 1000) }));

  app.get(API.ready, probe, async (_request, reply): Promise<ReadyStatus> => {
    const models = registry.list().length;
    const storage = await keys.writeProblem();
    const reason = !registry.loaded ? 'compiling models' : models === 0 ? 'no model could be loaded' : pool.threads === 0 ? 'no worker is running' : storage ? storage : undefined;
    if (reason) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return { protocol: PROTOCOL_VERSION, ready: !reason, models, workers: pool.threads, queued: pool.queued, maxQueue: pool.maxQueue, ...(reason ? { reason } : {}) };
  });

  app.get(API.models, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    // `complete`: false while models are still compiling, so a client does not take a missing card as a removed model.
    return { protocol: PROTOCOL_VERSION, complete: registry.loaded, cards: registry.list().map((s) => s.card) };
  });

  app.get<{ Params: { id: string } }>('/api/models/:id', async (request, reply) => {
    const served = registry.byId(request.params.id);
    if (!served) throw unknownModel(request.params.id, registry.loaded);
    // Cards change only when a model is republished; clients revalidate by the model hash.
    reply.header('cache-control', 'no-cache').header('etag', `"${served.model.hash}"`);
    return served.card;
  });
}

/** The refusal while the models present at start are still compiling. */
export function notReady(): ProtocolError {
  return new ProtocolError('not_ready', 'the server is still compiling its models; retry shortly');
}

export function unknownModel(id: string, loaded: boolean): ProtocolError {
  if (!loaded) return notReady();
  return new ProtocolError('unknown_model', `no model "${id.slice(0, 64)}" is served here; GET ${API.models} lists them`);
}
