/**
 * A site taking part in a study, round after round, over any transport: the CLI's HTTP client
 * and the browser lab run this same loop. It long-polls the study's status (the coordinator
 * answers when the step it last saw closes), and at each step does the site's part with the state machine of site.ts and the update of update.ts. A step it
 * cannot do in time (the coordinator moved on, the network failed) costs this site that round
 * only: it joins the next one with fresh keys.
 */
import type { PinnedStudy } from './manifest.ts';
import { deriveRng } from './prng.ts';
import { toZ32 } from './quantize.ts';
import type { StudyStatus, StudyStep } from './round.ts';
import { roundWeightsOf } from './weights.ts';
import { shapeOf } from './update.ts';
import { decodeFederated as decode, encodeFederated, type FederatedMessage } from './messages.ts';
import type { SiteDataset } from './records.ts';
import { Site, type SiteRound } from './site.ts';
import { siteUpdateWith, float64Step, type LocalStep } from './update.ts';

/** What a status request asks for. */
export interface StatusQuery {
  /** With the last round of the history only (for polling). */
  brief?: boolean;
  /** Answer once the study has left this round and step (a long poll), or after `waitMs`. */
  after?: { round: number; step: StudyStep };
  waitMs?: number;
}

/** How the site reaches the coordinator; every method rejects with a message for people. */
export interface StudyTransport {
  status(query?: StatusQuery): Promise<StudyStatus>;
  /** The round's weights message (weights.ts). */
  weights(round: number): Promise<Uint8Array>;
  send(type: 'advertise' | 'shares' | 'masked' | 'reveal', body: Uint8Array): Promise<void>;
  roster(round: number): Promise<Uint8Array>;
  inbox(round: number, site: number): Promise<Uint8Array>;
  unmask(round: number): Promise<Uint8Array>;
}

/** What the site did, for progress displays. */
export type SiteEvent =
  | { kind: 'step'; round: number; step: 'advertised' | 'shared' | 'uploaded' | 'revealed'; bytes: number }
  | { kind: 'missed'; round: number; reason: string }
  | { kind: 'round'; status: StudyStatus };

export interface RunSiteOptions {
  study: PinnedStudy;
  identitySecretKey: Uint8Array;
  data: SiteDataset;
  transport: StudyTransport;
  /** Seeds this site's record sampling and rounding (not its keys, which are always fresh). */
  seed: Uint8Array;
  onEvent?: (event: SiteEvent) => void;
  pollMs?: number;
  signal?: AbortSignal;
  /** Computes the sampled records' gradients; float64 JavaScript (`float64Step`) when absent. */
  localStep?: LocalStep;
  /** Test hook: called before each step; returning false skips it (a simulated dropout). */
  shouldAct?: (round: number, step: string) => boolean;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

interface Current {
  number: number;
  round: SiteRound;
  status: StudyStatus;
  done: Set<string>;
}

/** Takes part until the study ends (or `signal` aborts); resolves with its final status. */
export async function runSite(options: RunSiteOptions): Promise<StudyStatus> {
  const { study, transport, data, onEvent, signal } = options;
  const site = new Site({ study, identitySecretKey: options.identitySecretKey });
  const act = options.shouldAct ?? (() => true);
  let current: Current | null = null;
  let lastRoundSeen = 0;
  let seen: { round: number; step: StudyStep } | undefined;
  const send = async (type: 'advertise' | 'shares' | 'masked' | 'reveal', message: FederatedMessage, step: 'advertised' | 'shared' | 'uploaded' | 'revealed') => {
    const body = encodeFederated(message);
    await transport.send(type, body);
    current!.done.add(step);
    onEvent?.({ kind: 'step', round: current!.number, step, bytes: body.length });
  };
  for (;;) {
    if (signal?.aborted) throw new Error('stopped');
    let status: StudyStatus;
    const asked = performance.now();
    try {
      status = await transport.status({ brief: true, after: seen });
    } catch {
      await sleep(options.pollMs ?? 200, signal);
      continue;
    }
    // A coordinator that answered at once with the step already seen does not long-poll: poll.
    if (seen && status.round === seen.round && status.step === seen.step && performance.now() - asked < 20) await sleep(options.pollMs ?? 200, signal);
    seen = { round: status.round, step: status.step };
    if (status.study !== study.hash) throw new Error(`the coordinator serves study ${status.study.slice(0, 12)}…, not the pinned ${study.hash.slice(0, 12)}…`);
    if (status.round > lastRoundSeen && lastRoundSeen > 0) onEvent?.({ kind: 'round', status });
    lastRoundSeen = Math.max(lastRoundSeen, status.round);
    if (status.state !== 'running') return transport.status();
    try {
      if (!current || current.number !== status.round) {
        if (current && !current.done.has('revealed')) onEvent?.({ kind: 'missed', round: current.number, reason: 'the round moved on before this site finished it' });
        current = null;
        if (status.step === 'advertising' && act(status.round, 'advertise')) {
          const { round, advertise } = await site.startRound(status.round);
          current = { number: status.round, round, status, done: new Set() };
          await send('advertise', advertise, 'advertised');
        }
      } else if (status.step === 'sharing' && !current.done.has('shared') && act(current.number, 'share')) {
        const shares = await current.round.share(decode(await transport.roster(current.number), 'roster'));
        await send('shares', shares, 'shared');
      } else if (status.step === 'uploading' && current.done.has('shared') && !current.done.has('uploaded') && act(current.number, 'upload')) {
        const inbox = decode(await transport.inbox(current.number, site.index), 'inbox');
        const weights = roundWeightsOf(decode(await transport.weights(current.number), 'weights'), { study: study.hash, round: current.number, shape: shapeOf(study.manifest) });
        const update = await siteUpdateWith(options.localStep ?? float64Step, study.manifest, weights, data.train, data.heldOut, deriveRng(options.seed, `site-update/round-${current.number}`));
        await send('masked', await current.round.upload(inbox, toZ32(update)), 'uploaded');
      } else if (status.step === 'revealing' && current.done.has('uploaded') && !current.done.has('revealed') && act(current.number, 'reveal')) {
        await send('reveal', await current.round.reveal(decode(await transport.unmask(current.number), 'unmask')), 'revealed');
      }
    } catch (e) {
      if (current) onEvent?.({ kind: 'missed', round: current.number, reason: (e as Error).message });
      current = null;
    }
  }
}

