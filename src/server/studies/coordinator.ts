/**
 * The coordinator of private training studies (docs/federated.md): it relays the signed
 * messages of each round between sites, closes each step when every expected site has answered
 * or its deadline passes with at least t, unmasks the sum, takes the optimizer step, and
 * publishes the model when the schedule or the privacy budget ends the study. The cryptographic
 * checks and the unmasking are src/core/federated's pure functions; this file is the state
 * machine around them, over a StudyStore.
 *
 * A round that ends a step with fewer than t sites fails cleanly: nothing is revealed, the next
 * round starts with fresh keys. Every refusal of a site's message is a ProtocolError (4xx) and
 * leaves the round as it was.
 */
import { CoordinatorRefusal, assembleRoster, checkAdvertisement, checkSigned, makeInboxes, unmaskRound } from '../../core/federated/coordinator.ts';
import { ManifestError, parseManifest, type StudyManifest } from '../../core/federated/manifest.ts';
import { decodeFederated, encodeFederated, type Advertise, type MaskedUpload, type Reveal, type Roster, type Shares } from '../../core/federated/messages.ts';
import { adamState, ternarize } from '../../core/federated/network.ts';
import { heldOutMetrics, type RoundSummary, type StudyStatus, type StudyStep } from '../../core/federated/round.ts';
import { applyRoundSum, keepBest, shapeOf, studyInitialParameters, THRESHOLDS, vectorLength } from '../../core/federated/update.ts';
import { weightsMessage } from '../../core/federated/weights.ts';
import type { TernaryModel } from '../../core/model/format.ts';
import { ProtocolError } from '../../core/protocol/index.ts';
import { budgetAllowsRound, modelOf, privacySpent, rosterSites, statusOf } from './status.ts';
import { emptyInbox, unknownStudy, type StudyRecord, type StudyStore } from './store.ts';

type Log = (fields: Record<string, unknown>, message: string) => void;

/** What the site may send at each step. */
const STEP_OF = { advertise: 'advertising', shares: 'sharing', masked: 'uploading', reveal: 'revealing' } as const satisfies Record<string, StudyStep>;
type SiteMessageType = keyof typeof STEP_OF;

/** How often deadlines are checked. */
const TICK_MS = 200;
/**
 * A status request may wait this long for the study to leave a step (a long poll: sites learn
 * of the next step when it opens, not at their next poll). A change made through this instance
 * wakes its waiters at once; one made through another instance (a shared store) is seen when
 * the waiter reads the store again, every STORE_POLL_MS.
 */
export const MAX_WAIT_MS = 10_000;
const STORE_POLL_MS = 50;

export interface CoordinatorOptions {
  store: StudyStore;
  /** Serves a finished study's model like any published model; resolves to its id. */
  publish: (model: TernaryModel) => Promise<string>;
  /** Whether this instance serves a model id (a study finished on another instance is published here too). */
  serves: (id: string) => boolean;
  log: Log;
  now?: () => number;
}

function refused(message: string): ProtocolError {
  return new ProtocolError('study_refused', message);
}


export class StudyCoordinator {
  readonly #store: StudyStore;
  readonly #publish: (model: TernaryModel) => Promise<string>;
  readonly #serves: (id: string) => boolean;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  #ticking = false;
  /** Studies that ended (and whose model this instance serves): the tick reads them no more. */
  readonly #settled = new Set<string>();
  /** Manifests and hashes of the studies this instance has seen (see #pinned). */
  readonly #manifests = new Map<string, { manifest: StudyManifest; hash: string }>();
  /** Status requests of this instance waiting for a study to change, by study id. */
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(options: CoordinatorOptions) {
    this.#store = options.store;
    this.#publish = options.publish;
    this.#serves = options.serves;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => void this.tick(), TICK_MS).unref();
  }

  /** Creates a study from its manifest's JSON; refuses an invalid one or a taken id. */
  async create(json: unknown): Promise<StudyStatus> {
    let manifest: StudyManifest;
    let hash: string;
    try {
      ({ manifest, hash } = parseManifest(json));
    } catch (e) {
      if (e instanceof ManifestError) throw new ProtocolError('invalid_study', e.message);
      throw e;
    }
    const theta = studyInitialParameters(manifest, hash);
    const record: StudyRecord = {
      manifest, hash, state: 'running', round: 1, step: 'advertising', deadline: this.#stepDeadline(manifest),
      inbox: emptyInbox(), roster: null, participants: [], survivors: [], theta, adam: adamState(theta.length),
      charged: 0, chargedRound: 0, roundsDone: 0, history: [], best: null,
    };
    if (!budgetAllowsRound(record)) throw new ProtocolError('invalid_study', `one round already exceeds the privacy budget ε = ${manifest.privacy!.epsilon}: raise the noise multiplier or lower the sampling rate`);
    if (!(await this.#store.create(record))) throw new ProtocolError('study_refused', `a study "${manifest.id}" exists already`);
    this.#log({ study: manifest.id, hash }, 'study created');
    return statusOf(record);
  }

  async #record(id: string): Promise<StudyRecord> {
    const record = await this.#store.get(id);
    if (!record) throw unknownStudy(id);
    return record;
  }

  /**
   * The study's status; with `after`, once the study has left that round and step (or stopped),
   * or after `waitMs` (at most MAX_WAIT_MS) with the status as it is then.
   */
  async status(id: string, after?: { round: number; step: StudyStep; waitMs: number }): Promise<StudyStatus> {
    const until = performance.now() + Math.min(after?.waitMs ?? 0, MAX_WAIT_MS);
    for (;;) {
      const r = await this.#record(id);
      const left = until - performance.now();
      if (!after || r.state !== 'running' || r.round !== after.round || r.step !== after.step || left <= 0) return statusOf(r);
      await this.#changed(id, Math.min(left, STORE_POLL_MS));
    }
  }

  /** Resolves when a request to this instance changes study `id`, or after `ms`. */
  #changed(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, waiters);
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  /** Changes a study under its lock, then wakes this instance's status waiters. */
  async #update<T>(id: string, change: (r: StudyRecord) => T | Promise<T>): Promise<T> {
    try {
      return await this.#store.update(id, change);
    } finally {
      for (const wake of [...(this.#waiters.get(id) ?? [])]) wake();
    }
  }

  /** A round's weights (weights.ts), while that round is open. */
  async weights(id: string, round: number): Promise<Uint8Array> {
    const r = await this.#record(id);
    this.#checkRound(r, round);
    return encodeFederated(weightsMessage(r.hash, round, ternarize(r.theta, shapeOf(r.manifest))));
  }

  /** When a step opened now closes. */
  #stepDeadline(manifest: StudyManifest): number {
    return this.#now() + manifest.schedule.stepSeconds * 1000;
  }

  /** A study's manifest and hash, which never change: read from the store once per instance. */
  async #pinned(id: string): Promise<{ manifest: StudyManifest; hash: string }> {
    let study = this.#manifests.get(id);
    if (!study) {
      const r = await this.#record(id);
      study = { manifest: r.manifest, hash: r.hash };
      if (this.#manifests.size >= 256) this.#manifests.clear();
      this.#manifests.set(id, study);
    }
    return study;
  }

  /** The manifest as created: sites hash it and compare with the operator's hash. */
  async manifest(id: string): Promise<StudyManifest> {
    return (await this.#record(id)).manifest;
  }

  async list(): Promise<StudyStatus[]> {
    const out: StudyStatus[] = [];
    for (const id of await this.#store.ids()) {
      const r = await this.#store.get(id);
      if (r) out.push(statusOf(r));
    }
    return out;
  }

  async stop(id: string): Promise<StudyStatus> {
    return this.#update(id, (r) => {
      if (r.state === 'running') {
        r.state = 'stopped';
        r.reason = 'stopped by the operator';
      }
      return statusOf(r);
    });
  }

  /** Accepts a site's signed message for the current step; may close the step. */
  async receive(id: string, type: SiteMessageType, bytes: Uint8Array): Promise<void> {
    const message = decodeFederated(bytes, type) as Advertise | Shares | MaskedUpload | Reveal;
    // Signatures depend only on the manifest and the message: checked before taking the
    // study's lock, so that one site's verification never holds up the others' messages.
    const study = await this.#pinned(id);
    try {
      if (type === 'advertise') await checkAdvertisement(study, message.round, message as Advertise);
      else await checkSigned(study, message.round, message);
    } catch (e) {
      if (e instanceof CoordinatorRefusal) throw refused(e.message);
      throw e;
    }
    await this.#update(id, async (r) => {
      if (r.state !== 'running') throw refused(`the study is ${r.state}`);
      if (message.study !== r.hash) throw refused('the message is for another study');
      if (message.round !== r.round) throw refused(`the message is for round ${message.round}; the study is at round ${r.round}`);
      if (STEP_OF[type] !== r.step) throw refused(`round ${r.round} is ${r.step}, not taking "${type}" messages`);
      const box = r.inbox[type];
      // A round's advertising waits for its first site however long that takes (see #advance),
      // and closes one step's time after it; every other step closes at its deadline.
      const first = type === 'advertise' && Object.keys(box).length === 0;
      if (this.#now() > r.deadline && !first) throw refused(`the ${r.step} step of round ${r.round} has closed`);
      if (first) r.deadline = this.#stepDeadline(r.manifest);
      if (box[message.site]) throw refused(`site ${message.site} already sent its "${type}" message for round ${r.round}`);
      if (type === 'shares' && !rosterSites(r).includes(message.site)) throw refused(`site ${message.site} is not in round ${r.round}'s roster`);
      if (type === 'masked') {
        const upload = message as MaskedUpload;
        if (!r.participants.includes(upload.site)) throw refused(`site ${upload.site} is not a participant of round ${r.round}`);
        if (upload.length !== vectorLength(r.manifest)) throw new ProtocolError('bad_request', `the upload has ${upload.length} values; this study's updates have ${vectorLength(r.manifest)}`);
        // Charged as soon as any masked vector of the round is accepted (docs/federated.md §7).
        if (r.chargedRound !== r.round) {
          r.charged++;
          r.chargedRound = r.round;
        }
      }
      if (type === 'reveal' && !r.survivors.includes(message.site)) throw refused(`site ${message.site} is not a survivor of round ${r.round}`);
      box[message.site] = bytes.slice();
      await this.#advance(r, false);
    });
  }

  /** The roster of a round, once its advertising step closed. */
  async roster(id: string, round: number): Promise<Uint8Array> {
    const r = await this.#record(id);
    this.#checkRound(r, round, 'advertising');
    return r.roster!;
  }

  /** The inbox of one participant, once the sharing step closed. */
  async inbox(id: string, round: number, site: number): Promise<Uint8Array> {
    const r = await this.#record(id);
    this.#checkRound(r, round, 'advertising', 'sharing');
    if (!r.participants.includes(site)) throw refused(`site ${site} is not a participant of round ${round}`);
    const shares = r.participants.map((p) => decodeFederated(r.inbox.shares[p]!, 'shares'));
    const inbox = (await makeInboxes({ manifest: r.manifest, hash: r.hash }, round, decodeFederated(r.roster!, 'roster'), shares)).get(site)!;
    return encodeFederated(inbox);
  }

  /** The unmask request (U₃), once the uploading step closed. */
  async unmaskRequest(id: string, round: number): Promise<Uint8Array> {
    const r = await this.#record(id);
    this.#checkRound(r, round, 'advertising', 'sharing', 'uploading');
    return encodeFederated({ type: 'unmask', federated: 1, study: r.hash, round, survivors: r.survivors });
  }

  #checkRound(r: StudyRecord, round: number, ...notYet: StudyStep[]): void {
    if (round !== r.round || r.state !== 'running') throw refused(`round ${round} is not open (the study is ${r.state} at round ${r.round})`);
    if (notYet.includes(r.step)) throw refused(`round ${round} is still ${r.step}`);
  }

  /** Closes steps whose deadline passed. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      for (const id of await this.#store.ids()) {
        if (this.#settled.has(id)) continue;
        const r = await this.#store.get(id);
        if (r && r.state !== 'running') {
          // A study another instance finished: its model is rebuilt from the stored parameters
          // (deterministic, the same file) and served here too, once; then the study is left.
          if (r.state === 'done' && r.model && !this.#serves(r.model)) await this.#publish(modelOf(r)).catch((e: unknown) => this.#log({ study: id, error: (e as Error).message }, 'study model not served'));
          this.#settled.add(id);
        }
        const waiting = r?.step === 'advertising' && Object.keys(r.inbox.advertise).length === 0;
        if (r?.state === 'running' && this.#now() > r.deadline && !waiting) {
          await this.#update(id, (draft) => this.#advance(draft, true)).catch((e: unknown) => this.#log({ study: id, error: (e as Error).message }, 'study step failed'));
        }
      }
    } catch (e) {
      // The store is unreachable (Redis down): the next tick tries again; readiness says why.
      this.#log({ error: (e as Error).message }, 'study deadlines not checked');
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * Closes the current step when every expected site has answered, or when `due` (the deadline
   * passed): with at least t the round moves on, with fewer it fails.
   */
  async #advance(r: StudyRecord, due: boolean): Promise<void> {
    if (r.state !== 'running') return;
    const t = r.manifest.threshold;
    const received = (box: Record<number, Uint8Array>) => Object.keys(box).map(Number).sort((a, b) => a - b);
    const study = { manifest: r.manifest, hash: r.hash };
    const expected = r.step === 'advertising' ? r.manifest.sites.map((_, k) => k + 1) : r.step === 'sharing' ? rosterSites(r) : r.step === 'uploading' ? r.participants : r.survivors;
    const got = received(r.inbox[r.step === 'advertising' ? 'advertise' : r.step === 'sharing' ? 'shares' : r.step === 'uploading' ? 'masked' : 'reveal']);
    const complete = expected.every((s) => got.includes(s));
    if (!complete && !due && this.#now() <= r.deadline) return;
    // No site has come (yet, or any more): the study waits for its sites rather than failing
    // empty rounds, which would stop it before a slow hospital joins (tick leaves it alone, and
    // receive opens one step's time when the first advertisement comes).
    if (r.step === 'advertising' && got.length === 0) return;
    if (got.length < t) return this.#failRound(r, `${got.length} of ${expected.length} sites answered the ${r.step} step, fewer than the threshold ${t}`);
    const next = (step: StudyStep) => {
      r.step = step;
      r.deadline = this.#stepDeadline(r.manifest);
    };
    switch (r.step) {
      case 'advertising': {
        // Each advertisement was checked when it came (receive).
        const roster: Roster = assembleRoster(study, r.round, got.map((s) => decodeFederated(r.inbox.advertise[s]!, 'advertise')));
        r.roster = encodeFederated(roster);
        return next('sharing');
      }
      case 'sharing':
        r.participants = got;
        return next('uploading');
      case 'uploading':
        r.survivors = got;
        return next('revealing');
      case 'revealing':
        return this.#closeRound(r);
    }
  }

  async #closeRound(r: StudyRecord): Promise<void> {
    const study = { manifest: r.manifest, hash: r.hash };
    let sum: Uint32Array;
    try {
      sum = await unmaskRound({
        study,
        round: r.round,
        roster: decodeFederated(r.roster!, 'roster'),
        participants: r.participants,
        uploads: r.survivors.map((s) => decodeFederated(r.inbox.masked[s]!, 'masked')),
        reveals: Object.values(r.inbox.reveal).map((b) => decodeFederated(b, 'reveal')),
      });
    } catch (e) {
      return this.#failRound(r, `the sum could not be unmasked: ${(e as Error).message}`);
    }
    const used = r.theta.slice();
    const outcome = applyRoundSum(r.manifest, r.theta, r.adam, sum);
    const heldOut = heldOutMetrics(outcome.heldOut, THRESHOLDS);
    r.best = keepBest(r.best, r.round, used, outcome);
    r.roundsDone++;
    const spent = privacySpent(r);
    const summary: RoundSummary = {
      round: r.round,
      advertised: rosterSites(r),
      participants: r.participants,
      survivors: r.survivors,
      dropped: r.participants.filter((p) => !r.survivors.includes(p)),
      outcome: 'done',
      epsilon: r.manifest.privacy ? spent.epsilon : null,
      sampled: outcome.sampled,
      heldOut,
      uploadBytes: r.inbox.masked[r.survivors[0]!]?.length,
    };
    r.history.push(summary);
    this.#log({ study: r.manifest.id, round: r.round, sites: r.survivors.length, epsilon: summary.epsilon, balancedAccuracy: summary.heldOut?.balancedAccuracy }, 'study round done');
    await this.#nextRound(r);
  }

  async #failRound(r: StudyRecord, reason: string): Promise<void> {
    r.history.push({ round: r.round, advertised: r.roster ? rosterSites(r) : Object.keys(r.inbox.advertise).map(Number), participants: r.participants, survivors: r.survivors, dropped: [], outcome: 'failed', reason, epsilon: r.manifest.privacy ? privacySpent(r).epsilon : null });
    this.#log({ study: r.manifest.id, round: r.round, reason }, 'study round failed');
    await this.#nextRound(r);
  }

  /** Opens the next round with fresh state, or ends the study and publishes its model. */
  async #nextRound(r: StudyRecord): Promise<void> {
    r.round++;
    r.step = 'advertising';
    r.deadline = this.#stepDeadline(r.manifest);
    r.inbox = emptyInbox();
    r.roster = null;
    r.participants = [];
    r.survivors = [];
    const scheduleDone = r.roundsDone >= r.manifest.schedule.rounds;
    const budgetDone = !budgetAllowsRound(r);
    const failures = r.history.length - r.roundsDone;
    if (failures > Math.max(10, r.manifest.schedule.rounds)) {
      r.state = 'stopped';
      r.reason = `${failures} rounds failed: too few sites take part`;
      return;
    }
    if (!scheduleDone && !budgetDone) return;
    const spent = privacySpent(r);
    try {
      r.model = await this.#publish(modelOf(r));
    } catch (e) {
      // Nothing to retry: the same parameters give the same model. The operator reads why.
      r.state = 'stopped';
      r.reason = `the study's model could not be served: ${(e as Error).message}`;
      this.#log({ study: r.manifest.id, error: (e as Error).message }, 'study model not published');
      return;
    }
    r.state = 'done';
    r.reason = scheduleDone ? `the ${r.roundsDone} planned rounds are done` : `the privacy budget allows no further round after ${r.roundsDone}`;
    this.#log({ study: r.manifest.id, model: r.model, rounds: r.roundsDone, epsilon: spent.epsilon }, 'study done');
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake();
    await this.#store.close();
  }
}
