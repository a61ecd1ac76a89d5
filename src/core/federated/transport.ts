/**
 * The site's HTTP transport to a coordinator (the service's study routes), with fetch: the CLI
 * and the browser lab both use it. Refusals come back as Errors carrying the service's own
 * words and code.
 */
import { API } from '../protocol/paths.ts';
import { MSGPACK_TYPE } from '../protocol/constants.ts';
import type { StudyStatus } from './round.ts';
import type { StatusQuery, StudyTransport } from './runner.ts';

export class CoordinatorError extends Error {
  override name = 'CoordinatorError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let code = 'http_error';
  let message = `the coordinator answered ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not a JSON refusal: keep the status
  }
  throw new CoordinatorError(res.status, code, message);
}

/** A transport to `base` (e.g. https://clinic.example) for study `id`; also counts bytes sent. */
export function httpTransport(base: string, id: string, fetchFn: typeof fetch = fetch): StudyTransport & { bytesSent: number } {
  const url = (path: string) => new URL(path, base).href;
  const bytes = async (path: string) => new Uint8Array(await (await check(await fetchFn(url(path)))).arrayBuffer());
  const transport = {
    bytesSent: 0,
    status: async (query: StatusQuery = {}) => {
      const params = new URLSearchParams();
      if (query.brief) params.set('history', 'last');
      if (query.after) {
        params.set('after', `${query.after.round}.${query.after.step}`);
        params.set('wait', String(query.waitMs ?? 10_000));
      }
      const search = params.size > 0 ? `?${params}` : '';
      return (await (await check(await fetchFn(url(API.study(id) + search), { cache: 'no-store' }))).json()) as StudyStatus;
    },
    weights: (round: number) => bytes(API.studyRound(id, round, 'weights')),
    send: async (type: 'advertise' | 'shares' | 'masked' | 'reveal', body: Uint8Array) => {
      await check(await fetchFn(url(API.studyMessage(id, type)), { method: 'POST', headers: { 'content-type': MSGPACK_TYPE }, body: body as Uint8Array<ArrayBuffer> }));
      transport.bytesSent += body.length;
    },
    roster: (round: number) => bytes(API.studyRound(id, round, 'roster')),
    inbox: (round: number, site: number) => bytes(`${API.studyRound(id, round, 'inbox')}?site=${site}`),
    unmask: (round: number) => bytes(API.studyRound(id, round, 'unmask')),
  };
  return transport;
}
