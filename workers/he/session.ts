/**
 * The worker's HeClients, one per plan, each holding the ring's secret key for the plan's
 * parameters. A plan whose parameters have no key yet gets a new key pair, wrapped and stored
 * before the client is used, so a worker terminated mid-task never loses a key it used.
 */
import { HeClient } from '../../src/core/he/client.ts';
import { describeParameters, parametersHash } from '../../src/core/he/params.ts';
import { parsePlan, type HePlan } from '../../src/core/he/plan.ts';
import { loadSecretKey, storeSecretKey, type KeyInfo } from './vault.ts';

export interface Session {
  client: HeClient;
  key: KeyInfo;
}

const sessions = new Map<string, Promise<Session>>();

async function open(plan: HePlan): Promise<Session> {
  const paramsHash = parametersHash(plan.params);
  const parameters = describeParameters(plan.params);
  const stored = await loadSecretKey(paramsHash);
  if (stored) {
    const client = await HeClient.create(plan, stored.secretKey);
    stored.secretKey.fill(0);
    return { client, key: { paramsHash, fingerprint: stored.fingerprint, createdAt: stored.createdAt, parameters } };
  }
  const client = await HeClient.create(plan);
  const secretKey = client.exportSecretKey();
  try {
    const key = await storeSecretKey({ paramsHash, fingerprint: client.fingerprint(), createdAt: new Date().toISOString(), secretKey }, parameters);
    return { client, key };
  } catch (e) {
    client.dispose();
    throw e;
  } finally {
    secretKey.fill(0);
  }
}

/**
 * The session of a plan (as the model card gives it; its hash is checked). Plans sharing
 * parameters share the key: sessions open one at a time so two plans never race to create it.
 */
let queue: Promise<unknown> = Promise.resolve();
export function sessionFor(planJson: unknown): Promise<Session> {
  const hash = (planJson as { hash?: unknown } | null)?.hash;
  const cached = typeof hash === 'string' ? sessions.get(hash) : undefined;
  if (cached) return cached;
  // parsePlan checks the hash, so a plan that gets past it was looked up above.
  const plan = parsePlan(planJson);
  const opening = queue.then(() => open(plan));
  queue = opening.catch(() => undefined);
  sessions.set(plan.hash, opening);
  opening.catch(() => sessions.delete(plan.hash));
  return opening;
}

/** Forgets every client (after the key ring changed); SEAL memory is freed. */
export async function closeSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of await Promise.allSettled(all)) if (s.status === 'fulfilled') s.value.client.dispose();
}
