/**
 * The benchmarks' HTTP client: node:http with keep-alive rather than fetch, because the client
 * shares this machine's two cores with the server, so its own cost per request (copies, web
 * streams) is kept low.
 */
import { Agent, request } from 'node:http';
import { MSGPACK_TYPE } from '../src/core/protocol/index.ts';

export const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** POSTs a MessagePack body; rejects with the status and body of any answer ≥ 300. */
export function post(url: string, body: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': MSGPACK_TYPE, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = new Uint8Array(Buffer.concat(chunks));
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${url}: ${res.statusCode} ${new TextDecoder().decode(bytes)}`));
        else resolve(bytes);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
