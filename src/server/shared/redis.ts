/**
 * The Redis (or Valkey) client every shared store uses, one per process. Built to fail fast:
 * with Redis down a request must answer 503 at once, not wait in an offline queue while its
 * client times out, so commands are not queued while disconnected and each is tried once.
 * Reconnection runs in the background with a capped backoff; readiness says when it is down.
 */
import { Redis } from 'ioredis';
import { ProtocolError } from '../../core/protocol/index.ts';

/** Every key this service writes starts with this, so one Redis can serve other tenants too. */
export const KEY_PREFIX = 'cipherclinic:';

export function connectRedis(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 5000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: false,
  });
  // Connection errors are reported by readiness and by each command's refusal; without a
  // listener ioredis would print every reconnect attempt as an unhandled error.
  client.on('error', () => {});
  return client;
}

/** Resolves once the client is connected (or rejects after `timeoutMs`). */
export async function redisReady(client: Redis, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', ok);
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const ok = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', ok);
  });
}

/**
 * A Redis failure as the refusal a client can act on: out of memory (maxmemory with a
 * noeviction policy) is `storage_full`, anything else (down, timing out, loading) is
 * `storage_unavailable`. Both carry Retry-After.
 */
export function redisRefusal(e: unknown): ProtocolError {
  if (e instanceof ProtocolError) return e;
  const message = (e as Error)?.message ?? String(e);
  if (/^OOM /.test(message)) return new ProtocolError('storage_full', 'the shared store is full; retry later');
  return new ProtocolError('storage_unavailable', `the shared store is unavailable (${message.slice(0, 120)}); retry later`);
}

/** Why Redis cannot take writes now, or undefined (a PING, which needs a live connection). */
export async function redisProblem(client: Redis): Promise<string | undefined> {
  if (client.status !== 'ready') return `the shared store (Redis) is not connected (${client.status})`;
  try {
    await client.ping();
    return undefined;
  } catch (e) {
    return redisRefusal(e).message;
  }
}
