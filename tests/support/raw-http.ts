/**
 * Requests written with node:http, for what fetch() will not send: any method on any raw path
 * (no URL normalization), any or no Content-Type, bodies the server may refuse before reading
 * (the answer is taken even if the server then drops the connection).
 */
import { Agent, request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as JSON when it parses, else undefined. */
  json: any;
  ms: number;
}

export interface RawRequest {
  method?: string;
  /** Sent as is on the request line (must be free of spaces and control characters). */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

export function rawRequest(base: string, r: RawRequest, timeoutMs = 30_000): Promise<RawAnswer> {
  const url = new URL(base);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      { host: url.hostname, port: url.port, method: r.method ?? 'POST', path: r.path, headers: { ...(r.body !== undefined ? { 'content-length': String(Buffer.byteLength(r.body)) } : {}), ...r.headers }, agent, timeout: timeoutMs },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(parts);
          let json: any;
          try {
            json = JSON.parse(body.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json, ms: performance.now() - t0 });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // The server may answer early and close while the body is still going out: keep the answer.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}

export function closeRawAgent(): void {
  agent.destroy();
}
