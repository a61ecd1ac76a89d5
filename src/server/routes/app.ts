/**
 * The web app: the Vite build in the static dir when it exists; otherwise a plain page saying
 * the API is up and which models it serves (no script, no style: nothing for the CSP to allow).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { API, PROTOCOL_VERSION } from '../../core/protocol/index.ts';
import type { ServerParts } from '../parts.ts';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function appRoutes(app: FastifyInstance, { config, registry }: ServerParts): Promise<void> {
  if (existsSync(join(config.staticDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: config.staticDir, prefix: '/', index: 'index.html' });
    return;
  }
  app.get('/', async (_request, reply) => {
    const items = registry.list().map((s) => `<li><a href="${escape(API.model(s.model.id))}">${escape(s.model.title)}</a> <code>${escape(s.model.id)}</code></li>`);
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cipher Clinic API</title></head>
<body><h1>Cipher Clinic API</h1>
<p>The classifier is up (protocol ${PROTOCOL_VERSION}). It sees only ciphertexts. The web app is not built here; run <code>npm run build</code>.</p>
<h2>Models</h2><ul>${items.join('') || '<li>none yet (still compiling, or none configured)</li>'}</ul>
<p><a href="${API.health}">health</a> · <a href="${API.ready}">readiness</a> · <a href="${API.models}">model cards</a></p>
</body></html>`;
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
