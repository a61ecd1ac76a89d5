/**
 * The key ring as the page sees it: fingerprints and dates, never a key. Rotation, deletion,
 * backup and restore are requests to the HE worker, which does the work on the secret keys.
 */
import { parametersHash } from '../../core/he/params.ts';
import type { HePlan } from '../../core/he/plan.ts';
import { saveFile } from '../lib/download.ts';
import type { HeBridge, KeyInfo } from '../lib/he-bridge.ts';
import type { Registrations } from '../lib/registrations.ts';
import type { DropNotice } from '../lib/stored.ts';

/** What the key ring asks of the HE worker. */
export type KeyBridge = Pick<HeBridge, 'listKeys' | 'unreadableKeys' | 'rotate' | 'deleteAll' | 'exportBackup' | 'importBackup'>;

export class KeyRing {
  readonly #bridge: KeyBridge;
  readonly #registrations: Pick<Registrations, 'forget'>;
  readonly #drop: DropNotice;
  #keys = $state<KeyInfo[]>([]);
  #busy = $state('');
  #error = $state('');
  #notice = $state('');

  /** `drop` is told when stored keys cannot be read. */
  constructor(bridge: KeyBridge, registrations: Pick<Registrations, 'forget'>, drop: DropNotice) {
    this.#bridge = bridge;
    this.#registrations = registrations;
    this.#drop = drop;
  }

  get keys(): readonly KeyInfo[] {
    return this.#keys;
  }
  /** What is running, in words ('' when idle). */
  get busy() {
    return this.#busy;
  }
  get error() {
    return this.#error;
  }
  get notice() {
    return this.#notice;
  }

  /** The key a plan uses, once it exists. */
  keyFor(plan: HePlan | undefined): KeyInfo | undefined {
    if (!plan) return undefined;
    const h = parametersHash(plan.params);
    return this.#keys.find((k) => k.paramsHash === h);
  }

  async refresh(): Promise<void> {
    this.#keys = await this.#bridge.listKeys();
    const unreadable = await this.#bridge.unreadableKeys();
    if (unreadable > 0) this.#drop(`${unreadable === 1 ? 'A key' : `${unreadable} keys`} stored on this device could not be read by this version of the app. ${unreadable === 1 ? 'It is' : 'They are'} kept but not used; a prediction that needs one makes a new key, so earlier results decrypted with ${unreadable === 1 ? 'it' : 'them'} cannot be read again unless a backup is restored.`);
  }

  /** Records a key the worker just made or loaded. */
  noteKey(key: KeyInfo): void {
    if (!this.#keys.some((k) => k.paramsHash === key.paramsHash && k.fingerprint === key.fingerprint)) void this.refresh();
  }

  async #run(label: string, work: () => Promise<string>): Promise<boolean> {
    this.#busy = label;
    this.#error = '';
    this.#notice = '';
    try {
      this.#notice = await work();
      return true;
    } catch (e) {
      this.#error = (e as Error).message;
      return false;
    } finally {
      this.#busy = '';
      await this.refresh().catch(() => undefined);
    }
  }

  rotate(): Promise<boolean> {
    return this.#run('Making new keys…', async () => {
      await this.#bridge.rotate();
      await this.#registrations.forget();
      return 'The old keys are gone. New keys are made with your next prediction, and their evaluation keys are registered then.';
    });
  }

  deleteKeys(): Promise<boolean> {
    return this.#run('Deleting keys…', async () => {
      await this.#bridge.deleteAll();
      await this.#registrations.forget();
      return 'Every key on this device was deleted.';
    });
  }

  /** Seals the ring under a passphrase and hands the file to the browser's download. */
  exportBackup(passphrase: string): Promise<boolean> {
    return this.#run('Encrypting the backup…', async () => {
      const bytes = await this.#bridge.exportBackup(passphrase);
      saveFile(bytes, `cipherclinic-keys-${new Date().toISOString().slice(0, 10)}.json`, 'application/json');
      return 'The backup was saved. Keep it and its passphrase apart; either alone cannot decrypt anything.';
    });
  }

  importBackup(file: File, passphrase: string): Promise<boolean> {
    return this.#run('Opening the backup…', async () => {
      const keys = await this.#bridge.importBackup(new Uint8Array(await file.arrayBuffer()), passphrase);
      await this.#registrations.forget();
      return `Restored ${keys.length} key${keys.length === 1 ? '' : 's'} from ${file.name}.`;
    });
  }
}
