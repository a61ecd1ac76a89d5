/**
 * The operator's routes, off (404) unless CIPHERCLINIC_ADMIN_TOKEN is set; each needs
 * `Authorization: Bearer <token>`. POST /api/admin/models publishes a model file (validated and
 * both plans compiled before it is served; publish.ts). POST /api/admin/studies creates a
 * private training study from its manifest; …/studies/:id/stop stops one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API, ProtocolError } from '../../core/protocol/index.ts';
import { JSON_TYPE } from '../http/body.ts';
import { publishModel } from '../publish.ts';
import type { ServerParts } from '../parts.ts';

/** Compares digests so the comparison takes the same time whatever the guess. */
function tokenMatches(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function authorize(request: FastifyRequest, token: string): void {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ProtocolError('unauthorized', 'publishing a model needs Authorization: Bearer <admin token>');
  if (!tokenMatches(match[1]!, token)) throw new ProtocolError('forbidden', 'the admin token is wrong');
}

export function adminRoutes(app: FastifyInstance, { config, registry, studies }: ServerParts): void {
  const token = config.adminToken;
  if (!token) return; // publishing is off: the routes do not exist
  const admin = { bodyLimit: config.maxJsonBytes, config: { accepts: JSON_TYPE } } as const;
  app.post(API.publishModel, admin, async (request, reply) => {
    authorize(request, token);
    const { served, created } = await publishModel(registry, config.dataDir, request.body);
    if (created) request.log.info({ model: served.model.id, modelHash: served.model.hash }, 'model published');
    return reply.code(created ? 201 : 200).send(served.card);
  });
  app.post(API.createStudy, admin, async (request, reply) => {
    authorize(request, token);
    return reply.code(201).send(await studies.create(request.body));
  });
  app.post<{ Params: { id: string } }>('/api/admin/studies/:id/stop', async (request) => {
    authorize(request, token);
    return studies.stop(request.params.id);
  });
}
