/**
 * The coordinator's public study routes, from the page: status and manifest (anyone), create
 * and stop (the operator's admin token). Refusals become Errors in the service's own words;
 * no answer at all says the network is down.
 */
import type { StudyStatus } from '../../../core/federated/round.ts';
import { API } from '../../../core/protocol/paths.ts';

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-store', ...init });
  } catch {
    throw new Error(`cannot reach ${new URL(url).origin}: check the network or the address`);
  }
  const body = (await res.json().catch(() => undefined)) as (T & { error?: { message?: string } }) | undefined;
  if (!res.ok) throw new Error(body?.error?.message ? `the coordinator says: ${body.error.message}` : `the coordinator answered ${res.status}`);
  if (body === undefined) throw new Error('the coordinator\'s answer was not JSON');
  return body;
}

const at = (base: string, path: string) => new URL(path, base).href;

export const studyStatus = (base: string, id: string) => call<StudyStatus>(at(base, API.study(id)));
export const studyList = async (base: string) => (await call<{ studies: StudyStatus[] }>(at(base, API.studies))).studies;
export const studyManifest = (base: string, id: string) => call<unknown>(at(base, API.studyManifest(id)));

export function createStudy(base: string, token: string, manifest: unknown): Promise<StudyStatus> {
  return call<StudyStatus>(at(base, API.createStudy), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(manifest) });
}

export function stopStudy(base: string, token: string, id: string): Promise<StudyStatus> {
  return call<StudyStatus>(at(base, API.stopStudy(id)), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

/** The invitation link's parameters (#/study?url=…&id=…), if the page was opened with one. */
export function invitation(hash = location.hash): { base?: string; id?: string } {
  const query = hash.split('?')[1];
  if (!query) return {};
  const params = new URLSearchParams(query);
  return { base: params.get('url') ?? undefined, id: params.get('id') ?? undefined };
}

/** The link a site opens to join: this app, pointed at a coordinator and a study. */
export function invitationLink(base: string, id: string): string {
  return `${location.origin}${location.pathname}#/study?url=${encodeURIComponent(base)}&id=${encodeURIComponent(id)}`;
}
