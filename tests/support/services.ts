/**
 * Real Redis and nginx for tests that scale the service out: Debian's `redis-server` and
 * `nginx`, started on free loopback ports with temporary folders, stopped by their pids. The
 * nginx site is the one shipped in deploy/nginx/cipherclinic.conf, with its ports rewritten.
 * Tests install nothing: `.ci/run` does; a missing binary fails with the package to install.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NGINX_SITE = fileURLToPath(new URL('../../deploy/nginx/cipherclinic.conf', import.meta.url));

/** The path of a program, or an error naming the Debian package that has it. */
export function requireBinary(name: string, debianPackage: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (spawnSync('test', ['-x', join(dir, name)]).status === 0) return join(dir, name);
  }
  throw new Error(`${name} is not installed: install Debian's ${debianPackage} package (apt-get install ${debianPackage}); .ci/run does`);
}

/** A TCP port free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RedisProcess {
  url: string;
  port: number;
  /** Stops Redis (SIGTERM: it writes its append-only file first; SIGKILL: it does not). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder (what it persisted comes back). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * Redis as docs/server.md deploys it: append-only file fsynced on every write (a confirmed key
 * registration survives a restart or a crash), no RDB snapshots, LRU eviction within maxmemory.
 */
export async function startRedis(): Promise<RedisProcess> {
  const binary = requireBinary('redis-server', 'redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'cc-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory', '512mb', '--maxmemory-policy', 'allkeys-lru', '--daemonize', 'no', '--logfile', join(dir, 'redis.log')], { stdio: 'ignore' });
    await waitFor('redis-server', () => portOpen(port));
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!child) return;
    const running = child;
    child = null;
    running.kill(signal);
    await exited(running);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart: start,
    dispose: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface NginxProcess {
  url: string;
  /** Stops nginx and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * nginx in front of `upstreams` (host:port), with the shipped site config: its listen address
 * and upstream servers rewritten to the test's ports, everything else as shipped.
 */
export async function startNginx(upstreams: readonly string[]): Promise<NginxProcess> {
  const binary = requireBinary('nginx', 'nginx');
  const dir = await mkdtemp(join(tmpdir(), 'cc-nginx-'));
  const port = await freePort();
  const shipped = await readFile(NGINX_SITE, 'utf8');
  const site = shipped
    .replace(/^(\s*)server 127\.0\.0\.1:\d+[^\n]*\n/gm, '')
    .replace(/upstream cipherclinic \{\n/, `upstream cipherclinic {\n${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=2s;\n`).join('')}`)
    .replace(/listen 127\.0\.0\.1:\d+;/, `listen 127.0.0.1:${port};`);
  if (!site.includes(`listen 127.0.0.1:${port};`)) throw new Error(`${NGINX_SITE}: no "listen 127.0.0.1:<port>;" line to rewrite`);
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  const main = `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${site}
}
`;
  await writeFile(join(dir, 'nginx.conf'), main);
  const check = spawnSync(binary, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx refused the shipped config: ${check.stderr}`);
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitFor('nginx', () => portOpen(port));
  return {
    url: `http://127.0.0.1:${port}`,
    dispose: async () => {
      child.kill('SIGQUIT');
      await exited(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
