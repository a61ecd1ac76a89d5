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
import { STUDY_STEPS, type StudyStep } from '../../core/federated/round.ts';
import { MAX_WAIT_MS } from '../studies/coordinator.ts';

/** A site's round messages: the largest is a masked upload, 4 bytes a parameter. */
const STUDY_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * `?after=<round>.<step>&wait=<ms>`: answer once the study has left that step, waiting at most
 * `wait` ms (≤ MAX_WAIT_MS). Sites long-poll so that each step starts as soon as the last one
 * closed.
 */
function afterOf(query: { after?: string; wait?: string }): { round: number; step: StudyStep; waitMs: number } | undefined {
  if (query.after === undefined) return undefined;
  const match = /^([1-9][0-9]{0,9})\.([a-z]+)$/.exec(query.after);
  const step = match?.[2] as StudyStep | undefined;
  if (!match || !STUDY_STEPS.includes(step!)) throw new ProtocolError('bad_request', `after=${JSON.stringify(query.after.slice(0, 40))}: expected <round>.<step>, a step being one of ${STUDY_STEPS.join(', ')}`);
  const waitMs = Number(query.wait ?? MAX_WAIT_MS);
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) throw new ProtocolError('bad_request', `wait=${JSON.stringify(String(query.wait).slice(0, 20))}: expected whole milliseconds from 0 to ${MAX_WAIT_MS}`);
  return { round: Number(match[1]), step: step!, waitMs };
}

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
  app.get<{ Params: { id: string }; Querystring: { history?: string; after?: string; wait?: string } }>('/api/studies/:id', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const status = await studies.status(request.params.id, afterOf(request.query));
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
  app.get<{ Params: { id: string; round: string } }>('/api/studies/:id/rounds/:round/weights', async (request, reply) => sendBytes(reply, await studies.weights(request.params.id, roundOf(request.params.round))));
  app.get<{ Params: { id: string; round: string } }>('/api/studies/:id/rounds/:round/roster', async (request, reply) => sendBytes(reply, await studies.roster(request.params.id, roundOf(request.params.round))));
  app.get<{ Params: { id: string; round: string }; Querystring: { site?: string } }>('/api/studies/:id/rounds/:round/inbox', async (request, reply) => {
    const site = Number(request.query.site);
    if (!Number.isInteger(site) || site < 1) throw new ProtocolError('bad_request', 'name the site: ?site=<index>');
    return sendBytes(reply, await studies.inbox(request.params.id, roundOf(request.params.round), site));
  });
  app.get<{ Params: { id: string; round: string } }>('/api/studies/:id/rounds/:round/unmask', async (request, reply) => sendBytes(reply, await studies.unmaskRequest(request.params.id, roundOf(request.params.round))));
}
