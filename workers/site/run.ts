/**
 * The site's part of a study, run in the site worker: the same loop as `cipherclinic site join`
 * (runSite over the HTTP transport), fed with the hospital's CSV as the manifest's features.
 * The page gets progress events only: steps, rounds, this site's own held-out metrics, and
 * every message sent (its size and hash) — never a row or an unmasked update.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { readCsv } from '../../src/core/data/csv.ts';
import { hashBytes } from '../../src/core/hash.ts';
import { pinManifest, siteIndexOf, type StudyManifest } from '../../src/core/federated/manifest.ts';
import { siteDataset, type SiteDataset } from '../../src/core/federated/records.ts';
import { heldOutMetrics, type StudyStatus } from '../../src/core/federated/round.ts';
import { decodeFederated } from '../../src/core/federated/messages.ts';
import { roundWeightsOf } from '../../src/core/federated/weights.ts';
import { runSite, type SiteEvent, type StudyTransport } from '../../src/core/federated/runner.ts';
import { CoordinatorError, httpTransport } from '../../src/core/federated/transport.ts';
import { confusion, shapeOf, THRESHOLDS } from '../../src/core/federated/update.ts';
import { identityPublicKey } from '../../src/core/federated/agreement.ts';
import { SiteLocalStep, type LocalBackend } from './local-step.ts';
import { applyMapping } from './mapping.ts';
import { loadData, loadIdentitySecret } from './vault.ts';

/** What the page learns of the site's data: counts and the first problems, in words. */
export type { LocalBackend };

export interface DataCheck {
  source: string;
  rows: number;
  train: number;
  heldOut: number;
  positives: number;
  problems: number;
  firstProblems: string[];
}

/** One message this device sent, for the "what left this device" panel. */
export interface SentMessage {
  round: number;
  type: 'advertise' | 'shares' | 'masked' | 'reveal';
  bytes: number;
  /** SHA-256 of the body, hex. */
  hash: string;
  at: number;
}

export type SiteProgress =
  | SiteEvent
  | { kind: 'sent'; message: SentMessage }
  | { kind: 'local'; round: number; heldOut: { records: number; accuracy: number; balancedAccuracy: number; auc: number } }
  | { kind: 'status'; status: StudyStatus }
  /** Where the local step ran (said on screen), and how long it took when `ms` is set. */
  | { kind: 'backend'; backend: LocalBackend }
  /** The coordinator could not be reached (the network, or the service, is down); '' once it answers again. */
  | { kind: 'network'; problem: string };

export interface JoinRequest {
  base: string;
  id: string;
  /** The manifest's JSON as the coordinator served it, and the hash the person compared. */
  manifest: unknown;
  hash: string;
  pollMs?: number;
}

async function dataset(manifest: StudyManifest, hash: string): Promise<SiteDataset & { source: string; rows: number }> {
  const { info, bytes } = await loadData();
  const table = applyMapping(readCsv(new TextDecoder().decode(bytes), info.name), manifest, info.mapping);
  bytes.fill(0);
  // The held-out split is seeded with the study hash, as the command-line site seeds it.
  return { ...siteDataset(manifest, table, hexToBytes(hash)), source: info.name, rows: table.rows.length };
}

/** Validates the stored CSV against the manifest; throws DataError in words when it cannot train. */
export async function checkData(manifestJson: unknown, hash: string): Promise<DataCheck> {
  const { manifest } = pinManifest(manifestJson, hash);
  const d = await dataset(manifest, hash);
  return {
    source: d.source,
    rows: d.rows,
    train: d.train.inputs.length,
    heldOut: d.heldOut.inputs.length,
    positives: [...d.train.labels, ...d.heldOut.labels].filter((l) => l === 1).length,
    problems: d.problems.length,
    firstProblems: d.problems.slice(0, 5).map((p) => p.message),
  };
}

/** The name of the error `join` throws when another tab of this browser takes part already. */
const ELSEWHERE = 'TakingPartElsewhere';
export type ElsewhereName = typeof ELSEWHERE;

let running: AbortController | undefined;
/** The run in progress, so that a new one starts only once it has let go of the lock. */
let finishing: Promise<unknown> = Promise.resolve();

/** Stops taking part at the next poll (the round in flight is missed, nothing is corrupted). */
export function leave(): void {
  running?.abort();
  running = undefined;
}

/** A failed fetch says "Failed to fetch"; the page says what it means for the site. */
async function worded<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof CoordinatorError) throw new Error(`the coordinator refused ${what}: ${e.message}`);
    if ((e as Error).name === 'AbortError') throw e;
    throw new Error(`the network failed while ${what === 'the status' ? 'asking for the status' : `sending or fetching ${what}`}`);
  }
}

/**
 * Takes part until the study ends or `leave` is called; resolves with the final status.
 * One tab of a browser at a time (a Web Lock): two tabs of one site would send each step twice.
 */
export async function join(request: JoinRequest, onProgress: (p: SiteProgress) => void): Promise<StudyStatus> {
  leave();
  const study = pinManifest(request.manifest, request.hash);
  await finishing.catch(() => undefined);
  const controller = (running = new AbortController());
  const run = navigator.locks.request('cipherclinic-site-rounds', { ifAvailable: true }, async (lock) => {
    if (!lock) throw Object.assign(new Error('another tab of this browser is taking part in the study already: close this one, or leave there first'), { name: ELSEWHERE });
    const secretKey = await loadIdentitySecret();
    let local: SiteLocalStep | undefined;
    try {
      siteIndexOf(study.manifest, bytesToHex(identityPublicKey(secretKey)));
      const data = await dataset(study.manifest, study.hash);
      // Leaving aborts the request in flight too (a long poll waits up to seconds).
      const http = httpTransport(request.base, request.id, (input, init) => fetch(input, { ...init, signal: controller.signal }));
      let round = 0;
      let problem = '';
      const transport: StudyTransport = {
        status: async (query) => {
          let status: StudyStatus;
          try {
            status = await worded('the status', () => http.status(query));
          } catch (e) {
            if (!problem) onProgress({ kind: 'network', problem: (problem = (e as Error).message) });
            throw e;
          }
          if (problem) onProgress({ kind: 'network', problem: (problem = '') });
          round = status.round;
          onProgress({ kind: 'status', status });
          return status;
        },
        // This site's own held-out metrics for the round's weights: computed and shown here only.
        weights: async (r) => {
          const bytes = await worded('the round\'s weights', () => http.weights(r));
          if (data.heldOut.inputs.length) {
            const weights = roundWeightsOf(decodeFederated(bytes, 'weights'), { study: study.hash, round: r, shape: shapeOf(study.manifest) });
            const { records, accuracy, balancedAccuracy, auc } = heldOutMetrics(confusion(weights, data.heldOut), THRESHOLDS);
            onProgress({ kind: 'local', round: r, heldOut: { records, accuracy, balancedAccuracy, auc } });
          }
          return bytes;
        },
        send: async (type, body) => {
          await worded(`this site's ${type} message`, () => http.send(type, body));
          onProgress({ kind: 'sent', message: { round, type, bytes: body.length, hash: hashBytes(body), at: Date.now() } });
        },
        roster: (r) => worded('the roster', () => http.roster(r)),
        inbox: (r, site) => worded('the shares for this site', () => http.inbox(r, site)),
        unmask: (r) => worded('the unmask request', () => http.unmask(r)),
      };
      // The local step on TensorFlow.js in a training worker (GPU when there is one), started now.
      local = new SiteLocalStep((backend) => onProgress({ kind: 'backend', backend }));
      void local.start();
      return await runSite({
        localStep: local.step,
        study,
        identitySecretKey: secretKey,
        data,
        transport,
        seed: crypto.getRandomValues(new Uint8Array(32)),
        pollMs: request.pollMs,
        signal: controller.signal,
        onEvent: onProgress,
      });
    } finally {
      secretKey.fill(0);
      local?.dispose();
      if (running === controller) running = undefined;
    }
  });
  finishing = run;
  return run;
}
