/**
 * A study run from the command line as hospitals and the operator would run it: `site keygen`
 * at each hospital, a manifest with their public keys, `study create` (admin token), `site
 * join` as three separate processes each with its own CSV, then `study status`; and the
 * one-line refusals for bad input.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/cli/paths.ts';
import { spawnServer, type ServerProcess } from './support/server-process.ts';
import { framinghamStudy, framinghamTables } from './support/study.ts';

const run = promisify(execFile);
const bin = resolve(repoRoot, 'bin/cipherclinic.mjs');
const TOKEN = 'cli-study-operator-token-0123';
const env = { ...process.env, CIPHERCLINIC_ADMIN_TOKEN: TOKEN };

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: repoRoot, timeout: 120_000, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A long-running command; resolves with its output when it exits. */
function background(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

let dir: string;
let server: ServerProcess;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cc-cli-study-'));
  server = await spawnServer({ adminToken: TOKEN, modelDirs: [], dataDir: join(dir, 'service'), workers: 1 });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('cipherclinic study and site', () => {
  it('runs a three-hospital study from keygen to a served model', async () => {
    const keys: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const out = join(dir, `hospital-${k}.key`);
      const made = await cli('site', 'keygen', '--out', out);
      expect(made.code, made.stderr).toBe(0);
      keys.push(/public key\s+([0-9a-f]{64})/.exec(made.stdout)![1]!);
    }
    expect((await cli('site', 'keygen', '--out', join(dir, 'hospital-1.key'))).stderr).toMatch(/exists already/);
    const base = framinghamStudy({ id: 'chd-cli', sites: 3, threshold: 2, rounds: 6, stepSeconds: 10 });
    const manifest = { ...base.manifest, sites: base.manifest.sites.map((s, k) => ({ ...s, identityKey: keys[k]! })) };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
    const created = await cli('study', 'create', join(dir, 'manifest.json'), '--url', server.url);
    expect(created.code, created.stderr).toBe(0);
    const hash = /study hash\s+([0-9a-f]{64})/.exec(created.stdout)![1]!;
    const { siteTables } = framinghamTables(3, 'even');
    for (const [k, t] of siteTables.entries()) await writeFile(join(dir, `hospital-${k + 1}.csv`), [t.columns.join(','), ...t.rows.map((r) => r.join(','))].join('\n') + '\n');
    // Without the hash a site only shows the manifest and refuses to start.
    const unpinned = await cli('site', 'join', server.url, '--study', 'chd-cli', '--data', join(dir, 'hospital-1.csv'), '--identity', join(dir, 'hospital-1.key'));
    expect(unpinned.code).not.toBe(0);
    expect(unpinned.stdout).toContain(hash);
    expect(unpinned.stderr).toMatch(/--study-hash/);
    const wrongHash = await cli('site', 'join', server.url, '--study', 'chd-cli', '--data', join(dir, 'hospital-1.csv'), '--identity', join(dir, 'hospital-1.key'), '--study-hash', 'f'.repeat(64));
    expect(wrongHash.stderr).toMatch(/is not the pinned/);
    const sites = await Promise.all([1, 2, 3].map((k) => background('site', 'join', server.url, '--study', 'chd-cli', '--data', join(dir, `hospital-${k}.csv`), '--identity', join(dir, `hospital-${k}.key`), '--study-hash', hash)));
    for (const s of sites) {
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toMatch(/round 6: done with 3 sites/);
      expect(s.stdout).toMatch(/model "chd-cli" is served/);
    }
    const status = await cli('study', 'status', 'chd-cli', '--url', server.url);
    expect(status.stdout).toMatch(/state\s+done/);
    expect(status.stdout).toMatch(/held-out bal\. acc\./);
    const json = JSON.parse((await cli('study', 'status', 'chd-cli', '--url', server.url, '--json')).stdout);
    expect(json.model).toBe('chd-cli');
    expect(json.history).toHaveLength(6);
  }, 180_000);

  it('says in one line what is wrong with bad input', async () => {
    const cases: [string[], RegExp][] = [
      [['study', 'create', join(dir, 'nope.json'), '--url', server.url], /cannot read the study manifest/],
      [['study', 'status', 'no-such-study', '--url', server.url], /no study "no-such-study"/],
      [['study', 'status', 'x'], /--url/],
      [['site', 'join', server.url, '--study', 'chd-cli'], /--data/],
      [['site', 'join', server.url, '--study', 'chd-cli', '--data', join(dir, 'hospital-1.csv'), '--identity', join(dir, 'manifest.json'), '--study-hash', 'a'.repeat(64)], /not a site identity/],
      [['study', 'create', join(dir, 'hospital-1.csv'), '--url', server.url], /not valid JSON/],
    ];
    await writeFile(join(dir, 'bad-manifest.json'), JSON.stringify({ format: 'cipherclinic/study', version: 1, id: 'x' }));
    cases.push([['study', 'create', join(dir, 'bad-manifest.json'), '--url', server.url], /study manifest: /]);
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  }, 120_000);
});
