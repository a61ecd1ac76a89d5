/**
 * This browser as a hospital in a study: its identity, its CSV and how the columns map onto the
 * manifest's features, the manifest it pinned (hash compared with the operator's), and the
 * rounds it takes part in, run by the site worker. Kept for the app's lifetime, and in IndexedDB
 * (by the worker) across reloads: a reopened page takes part again in the study it had joined.
 */
import { proxy, wrap, type Remote } from 'comlink';
import { readCsv } from '../../../core/data/csv.ts';
import { parseManifest, type PinnedStudy } from '../../../core/federated/manifest.ts';
import type { StudyStatus } from '../../../core/federated/round.ts';
import type { SiteWorkerApi } from '../../../../workers/site.worker.ts';
import type { DataCheck, ElsewhereName, LocalBackend, SentMessage, SiteProgress } from '../../../../workers/site/run.ts';
import type { DataInfo, IdentityInfo, JoinedStudy } from '../../../../workers/site/vault.ts';
import type { ColumnMapping } from '../../../../workers/site/mapping.ts';
import { saveFile } from '../../lib/download.ts';
import { studyManifest } from './coordinator.ts';

export type { DataCheck, LocalBackend, SentMessage };

/** The local step's backends in words, for the site panel. */
export const LOCAL_BACKEND_NAMES: Record<LocalBackend['name'], string> = {
  webgpu: 'this machine’s GPU (TensorFlow.js on WebGPU)',
  wasm: 'the processor (TensorFlow.js on WebAssembly)',
  cpu: 'the processor (TensorFlow.js in plain JavaScript)',
  float64: 'the processor (float64 JavaScript, as the command-line site)',
};

export interface SiteRound {
  round: number;
  /** Bytes this device sent in the round, and how many messages. */
  bytes: number;
  messages: number;
  steps: string[];
  /** 'pending' until the coordinator's history says how the round ended. */
  outcome: 'pending' | 'done' | 'failed' | 'missed';
  reason?: string;
  participants?: number;
  epsilon?: number | null;
  /** This site's own held-out metrics for the round's weights (computed on this device). */
  local?: { records: number; balancedAccuracy: number; auc: number };
  /** The securely aggregated held-out metrics over every participant. */
  aggregate?: { records: number; balancedAccuracy: number; auc: number };
}

export type SitePhase = 'idle' | 'running' | 'ended';

const RETRY_MS = 5000;
/** The error name the worker's `join` gives when another tab takes part (checked against its type). */
const ELSEWHERE: ElsewhereName = 'TakingPartElsewhere';

/**
 * A hint kept beside the worker's own record of the joined study (IndexedDB, which only the
 * site worker reads): set while this browser takes part, so that the app starts the site worker
 * at opening only when there is a study to resume, and never otherwise.
 */
const JOINED_HINT = 'cipherclinic-study-joined';

function hintJoined(id: string | undefined): void {
  try {
    if (id) localStorage.setItem(JOINED_HINT, id);
    else localStorage.removeItem(JOINED_HINT);
  } catch {
    // Storage refused (private mode): the Studies screen still resumes when opened.
  }
}

export class SiteSession {
  readonly #api: Remote<SiteWorkerApi> = wrap<SiteWorkerApi>(new Worker(new URL('../../../../workers/site.worker.ts', import.meta.url), { type: 'module', name: 'site' }));
  identity = $state.raw<IdentityInfo | undefined>();
  data = $state.raw<DataInfo | undefined>();
  /** The manifest as served, once fetched; `pinned` once its hash was compared. */
  offered = $state.raw<(PinnedStudy & { base: string; id: string; json: unknown }) | undefined>();
  pinnedHash = $state('');
  check = $state.raw<DataCheck | undefined>();
  checkError = $state('');
  phase = $state<SitePhase>('idle');
  error = $state('');
  notice = $state('');
  /** Why the coordinator cannot be reached right now ('' when it can): the site keeps trying. */
  network = $state('');
  /** The study this browser had joined, while its coordinator does not answer yet at reopening. */
  resuming = $state('');
  /** Another tab of this browser holds the rounds' lock and takes part; this one sends nothing. */
  elsewhere = $state(false);
  status = $state.raw<StudyStatus | undefined>();
  /** Where the local training step runs (reported by the site worker once it has started one). */
  backend = $state.raw<LocalBackend | undefined>();
  rounds = $state.raw<SiteRound[]>([]);
  sent = $state.raw<SentMessage[]>([]);
  #started: Promise<void> | undefined;

  /** Loads what the worker kept; resumes a study this browser had joined and not left. */
  start(): Promise<void> {
    return (this.#started ??= (async () => {
      [this.identity, this.data] = await Promise.all([this.#api.identityInfo(), this.#api.dataInfo()]);
      const joined = await this.#api.joinedStudy();
      hintJoined(joined?.active ? joined.id : undefined);
      if (joined?.active) await this.#resume(joined);
    })().catch((e: unknown) => void (this.error = (e as Error).message)));
  }

  get pinned(): boolean {
    return !!this.offered && this.pinnedHash === this.offered.hash;
  }

  /** The manifest's features and label with the CSV column each is read from ('' when none). */
  get mapping(): ColumnMapping {
    return this.data?.mapping ?? {};
  }

  async createIdentity(): Promise<void> {
    await this.#try(async () => void (this.identity = await this.#api.createIdentity()));
  }

  async exportIdentity(passphrase: string): Promise<void> {
    await this.#try(async () => saveFile(await this.#api.exportIdentity(passphrase), 'cipherclinic-site-identity.json', 'application/json'));
  }

  async importIdentity(file: File, passphrase: string): Promise<void> {
    await this.#try(async () => void (this.identity = await this.#api.importIdentity(new Uint8Array(await file.arrayBuffer()), passphrase)));
  }

  async forgetIdentity(): Promise<void> {
    await this.#try(async () => {
      await this.#api.forgetIdentity();
      this.identity = undefined;
    });
  }

  /** Reads the CSV's header here (the rows go to the worker, never to the network). */
  async loadFile(file: File): Promise<void> {
    await this.#try(async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const { columns } = readCsv(new TextDecoder().decode(bytes), file.name);
      this.data = await this.#api.saveData(file.name, bytes, columns, await this.#autoMap(columns));
      await this.recheck();
    });
  }

  /** The worker proposes a column for each input named alike (workers/site/mapping.ts). */
  async #autoMap(columns: string[]): Promise<ColumnMapping> {
    return this.offered ? this.#api.proposeMapping(this.offered.manifest, columns) : {};
  }

  async setMapping(name: string, column: string): Promise<void> {
    if (!this.data) return;
    const mapping = { ...this.data.mapping };
    if (column) mapping[name] = column;
    else delete mapping[name];
    this.data = { ...this.data, mapping };
    await this.#api.saveMapping(mapping);
    await this.recheck();
  }

  /** Fetches the manifest the coordinator serves for this study and hashes it here. */
  async offer(base: string, id: string): Promise<void> {
    await this.#try(async () => {
      const json = await studyManifest(base, id);
      const pinned = parseManifest(json);
      if (this.offered?.hash !== pinned.hash) this.pinnedHash = '';
      this.offered = { ...pinned, base, id, json };
      if (this.data) {
        const auto = { ...(await this.#autoMap(this.data.columns)), ...this.data.mapping };
        this.data = { ...this.data, mapping: auto };
        await this.#api.saveMapping(auto);
      }
      await this.recheck();
    });
  }

  /** The person pastes the hash the operator gave them; it must be the manifest's. */
  pin(hash: string): void {
    this.pinnedHash = hash.trim().toLowerCase();
  }

  /** Validates the CSV against the manifest, row by row, in the worker. */
  async recheck(): Promise<void> {
    this.check = undefined;
    this.checkError = '';
    if (!this.offered || !this.data) return;
    try {
      this.check = await this.#api.checkData(this.offered.json, this.offered.hash);
    } catch (e) {
      this.checkError = (e as Error).message;
    }
  }

  /** Takes part in the pinned study until it ends or the person leaves. */
  async join(): Promise<void> {
    const offered = this.offered;
    if (!offered || !this.pinned) return;
    await this.#api.keepJoinedStudy({ base: offered.base, id: offered.id, hash: offered.hash, active: true });
    hintJoined(offered.id);
    await this.#run(offered);
  }

  async leave(): Promise<void> {
    await this.#api.leave();
    const joined = await this.#api.joinedStudy();
    if (joined) await this.#api.keepJoinedStudy({ ...joined, active: false });
    hintJoined(undefined);
    this.phase = 'idle';
    this.notice = 'This site left the study; the round in progress goes on without it.';
  }

  async #resume(joined: JoinedStudy): Promise<void> {
    // A coordinator out of reach at reopening (the network, a restart) is asked again, until it answers or the person leaves.
    for (;;) {
      await this.offer(joined.base, joined.id);
      if (this.offered || !(await this.#api.joinedStudy())?.active) break;
      this.resuming = joined.id;
      this.notice = `This browser had joined “${joined.id}”; it takes part again as soon as the coordinator answers.`;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
    this.resuming = '';
    if (!this.offered) return;
    if (this.offered.hash !== joined.hash) {
      this.error = `The coordinator now serves a different manifest for “${joined.id}” (hash ${this.offered.hash.slice(0, 12)}…, not the ${joined.hash.slice(0, 12)}… this site joined): not taking part again.`;
      hintJoined(undefined);
      return;
    }
    this.pin(joined.hash);
    this.notice = 'This browser had joined this study: it takes part again from the next round, with fresh round keys.';
    await this.#run(this.offered);
  }

  async #run(offered: PinnedStudy & { base: string; id: string; json: unknown }): Promise<void> {
    this.phase = 'running';
    this.error = '';
    this.elsewhere = false;
    try {
      const final = await this.#api.join({ base: offered.base, id: offered.id, manifest: offered.json, hash: offered.hash }, proxy((p: SiteProgress) => this.#progress(p)));
      this.status = final;
      this.#fromHistory(final.history);
      this.phase = 'ended';
      this.network = '';
      await this.#api.keepJoinedStudy({ base: offered.base, id: offered.id, hash: offered.hash, active: false });
      hintJoined(undefined);
    } catch (e) {
      const message = (e as Error).message;
      this.elsewhere = (e as Error).name === ELSEWHERE;
      if (this.phase === 'running' && message !== 'stopped') this.error = message;
      if (this.phase === 'running') this.phase = 'idle';
    }
  }

  #row(round: number): SiteRound {
    const rows = this.rounds;
    let row = rows.find((r) => r.round === round);
    if (!row) {
      row = { round, bytes: 0, messages: 0, steps: [], outcome: 'pending' };
      this.rounds = [...rows, row].sort((a, b) => a.round - b.round);
    }
    return row;
  }

  #update(round: number, change: (row: SiteRound) => SiteRound): void {
    const row = change({ ...this.#row(round) });
    this.rounds = this.rounds.map((r) => (r.round === round ? row : r));
  }

  /**
   * Settles this site's rows from the study's history: every round since the site's first row,
   * including rounds that closed while it could not hear the coordinator (offline, tab asleep),
   * which it learns of only afterwards and which it missed.
   */
  #fromHistory(history: StudyStatus['history']): void {
    const first = this.rounds[0]?.round;
    if (first === undefined) return;
    const index = this.#index();
    const rows = new Map(this.rounds.map((r) => [r.round, r]));
    let changed = false;
    for (const h of history) {
      const row = rows.get(h.round);
      if (h.round < first || row?.participants !== undefined) continue;
      const took = h.survivors.includes(index);
      const base: SiteRound = row ?? { round: h.round, bytes: 0, messages: 0, steps: [], outcome: 'pending' };
      rows.set(h.round, {
        ...base,
        outcome: took || h.outcome === 'failed' ? h.outcome : 'missed',
        reason: h.reason ?? base.reason ?? (took ? undefined : 'the round went on without this site'),
        participants: h.survivors.length,
        epsilon: h.epsilon,
        ...(h.heldOut ? { aggregate: { records: h.heldOut.records, balancedAccuracy: h.heldOut.balancedAccuracy, auc: h.heldOut.auc } } : {}),
      });
      changed = true;
    }
    if (changed) this.rounds = [...rows.values()].sort((a, b) => a.round - b.round);
  }

  #index(): number {
    const key = this.identity?.publicKey;
    return (this.offered?.manifest.sites.findIndex((s) => s.identityKey === key) ?? -1) + 1;
  }

  #progress(p: SiteProgress): void {
    switch (p.kind) {
      case 'status': {
        const s = this.status;
        if (!s || s.round !== p.status.round || s.step !== p.status.step || s.state !== p.status.state) this.status = p.status;
        this.#fromHistory(p.status.history);
        return;
      }
      case 'round': {
        this.#fromHistory(p.status.history);
        return;
      }
      case 'step':
        return this.#update(p.round, (r) => ({ ...r, steps: [...r.steps, p.step] }));
      case 'missed':
        return this.#update(p.round, (r) => ({ ...r, outcome: 'missed', reason: p.reason }));
      case 'sent':
        this.sent = [...this.sent, p.message];
        return this.#update(p.message.round, (r) => ({ ...r, bytes: r.bytes + p.message.bytes, messages: r.messages + 1 }));
      case 'local':
        return this.#update(p.round, (r) => ({ ...r, local: p.heldOut }));
      case 'network':
        this.network = p.problem;
        return;
      case 'backend':
        this.backend = p.backend;
        return;
    }
  }

  async #try(work: () => Promise<void>): Promise<void> {
    this.error = '';
    try {
      await work();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }
}

/** The app's site session once something needed it (reactive, so a banner appears with it). */
class Live {
  session = $state.raw<SiteSession | undefined>();
}
const live = new Live();

/** One site session for the app's lifetime (its worker runs the rounds while other screens show). */
export function siteSession(): SiteSession {
  return (live.session ??= new SiteSession());
}

/** The site session if one was started, without starting the site worker. */
export function startedSiteSession(): SiteSession | undefined {
  return live.session;
}

/**
 * At the app's opening, on any screen: takes part again in a study this browser had joined and
 * not left (the worker checks the manifest hash, and its tab lock keeps a second tab out).
 */
export function resumeJoinedStudy(): void {
  let hinted: string | null = null;
  try {
    hinted = localStorage.getItem(JOINED_HINT);
  } catch {
    return;
  }
  if (hinted) void siteSession().start();
}
