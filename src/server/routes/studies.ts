/**
 * Private training studies (docs/federated.md §3): the study's status for everyone (JSON), the
 * signed messages sites send at each step (MessagePack), and what the coordinator relays (the
 * roster, each participant's inbox, the unmask request). Creating and stopping studies are
 * admin routes (admin.ts).
 */
import type { FastifyInstance } from 'fastify';
import { API, MSGPACK_TYPE, ProtocolError } from '../../core/protocol/index.ts';
import { msgpackBody, sendBytes } from '../http/replies.ts';
import type { ServerParts } from '../parts.ts';

/** A site's round messages: the largest is a masked upload, 4 bytes a parameter. */
const STUDY_MESSAGE_BYTES = 8 * 1024 * 1024;

function roundOf(raw: string): number {
  const round = Number(raw);
  if (!Number.isSafeInteger(round) || round < 1) throw new ProtocolError('bad_request', `"${raw.slice(0, 20)}" is not a round number`);
  return round;
}

export function studyRoutes(app: FastifyInstance, { studies }: ServerParts): void {
  app.get(API.studies, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return { federated: 1, studies: await studies.list() };
  });
  app.get<{ Params: { id: string }; Querystring: { history?: string } }>('/api/studies/:id', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const status = await studies.status(request.params.id);
    // Sites poll several times a step: `?history=last` spares them the whole history each time.
    return request.query.history === 'last' ? { ...status, history: status.history.slice(-1) } : status;
  });
  app.get<{ Params: { id: string } }>('/api/studies/:id/manifest', async (request) => studies.manifest(request.params.id));
  for (const type of ['advertise', 'shares', 'masked', 'reveal'] as const) {
    app.post<{ Params: { id: string } }>(`/api/studies/:id/${type}`, { bodyLimit: STUDY_MESSAGE_BYTES, config: { accepts: MSGPACK_TYPE } }, async (request, reply) => {
      const body = msgpackBody(request);
      try {
        await studies.receive(request.params.id, type, body.bytes);
      } finally {
        body.release();
      }
      return reply.code(202).send({ federated: 1, accepted: type });
    });
  }
  app.get<{ Params: { id: string; round: string } }>('/api/studies/:id/rounds/:round/roster', async (request, reply) => sendBytes(reply, await studies.roster(request.params.id, roundOf(request.params.round))));
  app.get<{ Params: { id: string; round: string }; Querystring: { site?: string } }>('/api/studies/:id/rounds/:round/inbox', async (request, reply) => {
    const site = Number(request.query.site);
    if (!Number.isInteger(site) || site < 1) throw new ProtocolError('bad_request', 'name the site: ?site=<index>');
    return sendBytes(reply, await studies.inbox(request.params.id, roundOf(request.params.round), site));
  });
  app.get<{ Params: { id: string; round: string } }>('/api/studies/:id/rounds/:round/unmask', async (request, reply) => sendBytes(reply, await studies.unmaskRequest(request.params.id, roundOf(request.params.round))));
}
