/**
 * The operator's and the hospitals' commands for private training studies (docs/federated.md §8):
 *   cipherclinic study create <manifest.json> --url <service>     (admin token from the environment)
 *   cipherclinic study status <id> --url <service> [--json]
 *   cipherclinic study stop <id> --url <service>
 *   cipherclinic site keygen --out <site.key>
 *   cipherclinic site join <url> --study <id> --data <site.csv> --identity <site.key> [--study-hash <hash>]
 * Every bad input ends with one line that says what was wrong, and a non-zero exit.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { generateIdentity, identityPublicKey } from '../core/federated/agreement.ts';
import { ManifestError, parseManifest, pinManifest, siteIndexOf } from '../core/federated/manifest.ts';
import { runSite, type SiteEvent } from '../core/federated/runner.ts';
import { siteDataset } from '../core/federated/records.ts';
import type { StudyStatus } from '../core/federated/round.ts';
import { CoordinatorError, httpTransport } from '../core/federated/transport.ts';
import { readCsv } from '../core/data/csv.ts';
import { API } from '../core/protocol/paths.ts';
import { parseCommandArgs } from './args.ts';
import { CliError, checkWritable, pairs, table, writeProblem } from './io.ts';

const IDENTITY_FORMAT = 'cipherclinic/site-identity';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`${path}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path}: the ${what} is not valid JSON (${(e as Error).message})`);
  }
}

function serviceUrl(url: string | undefined): string {
  if (!url) throw new CliError('name the service: --url https://…');
  try {
    return new URL(url).href;
  } catch {
    throw new CliError(`--url "${url}" is not a URL`);
  }
}

/** Calls the service; its refusals become one line with its own words. */
async function call(url: string, init?: RequestInit): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new CliError(`cannot reach ${new URL(url).origin} (${(e as Error).cause ? String((e as { cause: unknown }).cause) : (e as Error).message})`);
  }
  const body = await res.json().catch(() => undefined) as { error?: { message?: string } } | undefined;
  if (!res.ok) throw new CliError(`the service refused: ${body?.error?.message ?? `HTTP ${res.status}`}`);
  return body;
}

function adminToken(): string {
  const token = process.env.CIPHERCLINIC_ADMIN_TOKEN;
  if (!token) throw new CliError('set CIPHERCLINIC_ADMIN_TOKEN to the service\'s admin token');
  return token;
}

function describeRounds(status: StudyStatus): string {
  const rows: (string | number)[][] = [['round', 'outcome', 'sites', 'dropped', 'ε', 'held-out bal. acc.', 'AUC']];
  for (const h of status.history) {
    rows.push([h.round, h.outcome, h.survivors.length || h.advertised.length, h.dropped.join(',') || '–', h.epsilon === null ? '–' : h.epsilon.toFixed(3), h.heldOut ? h.heldOut.balancedAccuracy.toFixed(3) : '–', h.heldOut ? h.heldOut.auc.toFixed(3) : '–']);
  }
  return table(rows);
}

export async function studyCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(argv, { url: { type: 'string' }, json: { type: 'boolean', default: false } }, (p) => `study${p[0] ? ` ${p[0]}` : ''}`);
  const [verb, arg] = positionals;
  const base = serviceUrl(values.url);
  switch (verb) {
    case 'create': {
      if (!arg) throw new CliError('study create needs a manifest file');
      const json = await readJson(arg, 'study manifest');
      let hash: string;
      try {
        hash = parseManifest(json).hash;
      } catch (e) {
        if (e instanceof ManifestError) throw new CliError(`${arg}: ${e.message}`);
        throw e;
      }
      const status = (await call(new URL(API.createStudy, base).href, { method: 'POST', headers: { authorization: `Bearer ${adminToken()}`, 'content-type': 'application/json' }, body: JSON.stringify(json) })) as StudyStatus;
      if (status.study !== hash) throw new CliError(`the service hashed the manifest as ${status.study}, not ${hash}: do not use this study`);
      console.log(pairs([['study', status.id], ['study hash', status.study], ['sites', String(status.sites.length)], ['threshold', String(status.threshold)]]));
      console.log('\nGive every hospital the study hash through a channel you both trust; they join with --study-hash.');
      return;
    }
    case 'status': {
      if (!arg) throw new CliError('study status needs a study id');
      const status = (await call(new URL(API.study(arg), base).href)) as StudyStatus;
      if (values.json) return void console.log(JSON.stringify(status));
      const privacy = status.privacy ? `ε ${status.privacy.spent.toFixed(3)} of ${status.privacy.epsilon} (δ ${status.privacy.delta})` : 'no differential privacy';
      console.log(pairs([['study', `${status.id} (${status.title})`], ['hash', status.study], ['state', status.reason ? `${status.state}: ${status.reason}` : status.state], ['round', `${status.round} (${status.step}); ${status.roundsDone} of ${status.roundsPlanned} done`], ['privacy', privacy], ...(status.model ? [['model', status.model] as [string, string]] : [])]));
      if (status.history.length) console.log('\n' + describeRounds(status));
      return;
    }
    case 'stop': {
      if (!arg) throw new CliError('study stop needs a study id');
      const status = (await call(new URL(API.stopStudy(arg), base).href, { method: 'POST', headers: { authorization: `Bearer ${adminToken()}` } })) as StudyStatus;
      console.log(`${status.id}: ${status.state}`);
      return;
    }
    default:
      throw new CliError(`study needs create, status or stop, not "${verb ?? ''}"`);
  }
}

async function readIdentity(path: string): Promise<Uint8Array> {
  const json = (await readJson(path, 'site identity')) as { format?: string; secretKey?: string };
  if (json?.format !== IDENTITY_FORMAT || typeof json.secretKey !== 'string' || !/^[0-9a-f]{64}$/.test(json.secretKey)) throw new CliError(`${path}: not a site identity made by "cipherclinic site keygen"`);
  return hexToBytes(json.secretKey);
}

function progressLine(event: SiteEvent): string | undefined {
  if (event.kind === 'missed') return `round ${event.round}: missed (${event.reason})`;
  if (event.kind === 'step' && event.step === 'revealed') return undefined;
  if (event.kind === 'step') return event.step === 'uploaded' ? `round ${event.round}: update sent (${event.bytes} bytes, masked)` : undefined;
  const last = event.status.history.at(-1);
  if (!last) return undefined;
  const metrics = last.heldOut ? `, held-out balanced accuracy ${last.heldOut.balancedAccuracy.toFixed(3)}` : '';
  const privacy = last.epsilon === null ? '' : `, ε spent ${last.epsilon.toFixed(3)}`;
  return `round ${last.round}: ${last.outcome} with ${last.survivors.length} sites${metrics}${privacy}${last.reason ? ` (${last.reason})` : ''}`;
}

export async function siteCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: 'string' }, study: { type: 'string' }, data: { type: 'string' }, identity: { type: 'string' }, 'study-hash': { type: 'string' } }, (p) => `site${p[0] ? ` ${p[0]}` : ''}`);
  const [verb, url] = positionals;
  switch (verb) {
    case 'keygen': {
      if (!values.out) throw new CliError('site keygen needs --out <site.key>');
      await checkWritable(values.out);
      const { secretKey, publicKey } = generateIdentity();
      await writeFile(values.out, JSON.stringify({ format: IDENTITY_FORMAT, version: 1, publicKey: bytesToHex(publicKey), secretKey: bytesToHex(secretKey) }, null, 2) + '\n', { mode: 0o600, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
        throw new CliError(e.code === 'EEXIST' ? `${values.out}: exists already; an identity is never overwritten` : `${values.out}: ${writeProblem(values.out!, e.code)}`);
      });
      await chmod(values.out, 0o600);
      console.log(pairs([['identity', values.out], ['public key', bytesToHex(publicKey)]]));
      console.log('\nSend the public key (never the file) to the study operator.');
      return;
    }
    case 'join': {
      const base = serviceUrl(url);
      if (!values.study) throw new CliError('site join needs --study <id>');
      if (!values.data) throw new CliError('site join needs --data <site.csv>');
      if (!values.identity) throw new CliError('site join needs --identity <site.key>');
      const secretKey = await readIdentity(values.identity);
      const json = await call(new URL(API.studyManifest(values.study), base).href);
      const { manifest, hash } = parseManifest(json);
      if (!values['study-hash']) {
        console.log(pairs([['study', `${manifest.id} (${manifest.title})`], ['study hash', hash], ['features', manifest.features.map((f) => f.name).join(', ')], ['label', manifest.label], ['sites', `${manifest.sites.length}, at least ${manifest.threshold} per round`], ['privacy', manifest.privacy ? `ε ${manifest.privacy.epsilon}, δ ${manifest.privacy.delta}` : 'none (secure aggregation only)']]));
        throw new CliError('compare the study hash with the operator\'s, then run again with --study-hash <hash>');
      }
      let study;
      try {
        study = pinManifest(json, values['study-hash']);
        siteIndexOf(manifest, bytesToHex(identityPublicKey(secretKey)));
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const table = readCsv(await readText(values.data, 'data file'), basename(values.data));
      const data = siteDataset(manifest, table, hexToBytes(hash));
      if (data.problems.length) console.log(`${data.problems.length} rows left out; the first: ${data.problems[0]!.message}`);
      console.log(`joined ${manifest.id} with ${data.train.inputs.length} training and ${data.heldOut.inputs.length} held-out rows; no row leaves this machine`);
      const final = await runSite({
        study,
        identitySecretKey: secretKey,
        data,
        transport: httpTransport(base, manifest.id),
        seed: crypto.getRandomValues(new Uint8Array(32)),
        onEvent: (event) => {
          const line = progressLine(event);
          if (line) console.log(line);
        },
      }).catch((e: unknown) => {
        if (e instanceof CoordinatorError) throw new CliError(`the coordinator refused: ${e.message}`);
        throw e;
      });
      console.log(`study ${final.state}${final.reason ? `: ${final.reason}` : ''}${final.model ? `; model "${final.model}" is served` : ''}`);
      return;
    }
    default:
      throw new CliError(`site needs keygen or join, not "${verb ?? ''}"`);
  }
}
