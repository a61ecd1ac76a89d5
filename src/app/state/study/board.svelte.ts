/**
 * The study page's state, for everyone: which coordinator and study, its status polled while
 * the page shows a running study, and the operator's create and stop (admin token, kept in
 * memory only).
 */
import { parseManifest } from '../../../core/federated/manifest.ts';
import type { StudyStatus } from '../../../core/federated/round.ts';
import { createStudy, invitation, stopStudy, studyList, studyStatus } from './coordinator.ts';

const POLL_MS = 1500;

export class StudyBoard {
  base = $state(location.origin);
  id = $state('');
  status = $state.raw<StudyStatus | undefined>();
  studies = $state.raw<StudyStatus[]>([]);
  error = $state('');
  /** The operator's admin token: never stored. */
  token = $state('');
  operatorMessage = $state('');
  operatorError = $state('');
  #timer: ReturnType<typeof setTimeout> | undefined;
  #watching = false;

  /** Starts showing the study of the invitation link, if any (again when the link changes). */
  open(): void {
    this.follow();
    this.#watching = true;
    void this.refresh();
  }

  /** Takes the coordinator and study from an invitation link (#/study?url=…&id=…); true if it named a study. */
  follow(): boolean {
    const invite = invitation();
    if (invite.base) this.base = invite.base;
    if (invite.id && invite.id !== this.id) this.choose(invite.id);
    return !!invite.id;
  }

  close(): void {
    this.#watching = false;
    clearTimeout(this.#timer);
  }

  /** Fetches the list and the chosen study's full status; polls again while it runs. */
  async refresh(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      this.studies = await studyList(this.base);
      if (!this.id && this.studies.length) this.id = this.studies.find((s) => s.state === 'running')?.id ?? this.studies[0]!.id;
      this.status = this.id ? await studyStatus(this.base, this.id) : undefined;
      this.error = '';
    } catch (e) {
      this.error = (e as Error).message;
    }
    if (this.#watching && (!this.status || this.status.state === 'running')) this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  choose(id: string): void {
    this.id = id;
    this.status = undefined;
    if (this.#watching) void this.refresh();
  }

  /** Creates a study from a manifest's JSON text; says its hash for the sites to compare. */
  async create(text: string): Promise<void> {
    this.operatorError = this.operatorMessage = '';
    try {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new Error('the manifest is not valid JSON');
      }
      const { hash } = parseManifest(json);
      const status = await createStudy(this.base, this.token, json);
      if (status.study !== hash) throw new Error(`the coordinator hashed the manifest as ${status.study}, not ${hash}: do not use this study`);
      this.operatorMessage = `Study “${status.id}” created. Its hash, for every hospital to compare: ${hash}`;
      this.choose(status.id);
    } catch (e) {
      this.operatorError = (e as Error).message;
    }
  }

  async stop(): Promise<void> {
    this.operatorError = this.operatorMessage = '';
    try {
      const status = await stopStudy(this.base, this.token, this.id);
      this.operatorMessage = `Study “${status.id}” is ${status.state}.`;
      await this.refresh();
    } catch (e) {
      this.operatorError = (e as Error).message;
    }
  }
}

let board: StudyBoard | undefined;

/** One board for the app's lifetime (switching screens keeps it). */
export function studyBoard(): StudyBoard {
  return (board ??= new StudyBoard());
}
