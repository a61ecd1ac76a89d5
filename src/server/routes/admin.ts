/**
 * POST /api/admin/models: publishes a model file. Off (404) unless CIPHERCLINIC_ADMIN_TOKEN is
 * set; then it needs `Authorization: Bearer <token>`. The model is validated and both plans
 * compiled before it is served, and it is written to the data dir so it survives a restart.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API, ProtocolError } from '../../core/protocol/index.ts';
import { JSON_TYPE } from '../http/body.ts';
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

export function publishedModelsDir(dataDir: string): string {
  return join(dataDir, 'models');
}

export function adminRoutes(app: FastifyInstance, { config, registry }: ServerParts): void {
  const token = config.adminToken;
  if (!token) return; // publishing is off: the route does not exist
  app.post(API.publishModel, { bodyLimit: config.maxJsonBytes, config: { accepts: JSON_TYPE } }, async (request, reply) => {
    authorize(request, token);
    const served = await registry.prepare(request.body);
    if (registry.byId(served.model.id) === served) return reply.code(200).send(served.card); // already served, same hash
    const dir = publishedModelsDir(config.dataDir);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${served.model.id}.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(served.model, null, 2) + '\n');
    await rename(tmp, join(dir, `${served.model.id}.json`));
    registry.add(served);
    request.log.info({ model: served.model.id, modelHash: served.model.hash }, 'model published');
    return reply.code(201).send(served.card);
  });
}
