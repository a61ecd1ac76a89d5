/**
 * The training lab (DESIGN §5): a model builder's own CSV, trained in the training worker with
 * the same code as the command-line `train`, a float baseline beside the ternary network,
 * the held-out results, the encryption preview, download and publishing. The file never
 * leaves this device; what can leave is the trained model file, when the person publishes it.
 */
import { idFromFileName, labelFromName } from '../../../core/data/infer.ts';
import type { FeatureSpec, TernaryModel } from '../../../core/model/format.ts';
import { saveFile } from '../../lib/download.ts';
import { searchForRuns } from '../../../train/search.ts';
import type { HeBridge } from '../../lib/he-bridge.ts';
import type { BackendPreference, LabSettings, ModelNaming, TrainBridge, TrainRequest } from '../../lib/train-bridge.ts';
import type { FeatureEdit } from '../../../../workers/train/dataset.ts';
import type { ModelAbout } from '../../../../workers/train/train.ts';
import type { ModelCatalog } from '../catalog.svelte.ts';
import { LabData } from './data.svelte.ts';
import { type KnownDataset, knownDataset } from './known-data.ts';
import { EncryptionPreview, ModelPublisher } from './preview.svelte.ts';
import { RepeatedSplits } from './repeat.svelte.ts';
import { TrainingRun } from './run.svelte.ts';

/**
 * The lab's defaults are trainModel's, which are the command line's: with the same file,
 * columns and seed, the lab and `cipherclinic train` make the same model. The batch size is
 * left to trainModel unless the person sets one (it takes larger batches for larger files).
 * A default model's data set (`knownDataset`) trains as its spec says instead: its features and
 * their declared directions (shown as edits the person can change), its missing-as-zero columns
 * and its measured training settings.
 */
export const LAB_DEFAULTS: LabSettings = { hidden: 8, epochs: 60, seed: 42, search: 'full' };

/** A spec's feature as the lab's edit of it: its words, unit, range and declared direction, for the person to see and change. */
function specEdit(f: FeatureSpec): FeatureEdit {
  return {
    name: f.name,
    label: f.label,
    unit: f.unit,
    ...(f.kind === 'number' ? { min: f.min, max: f.max } : {}),
    ...(f.monotone ? { monotone: { direction: f.monotone.direction, reason: f.monotone.reason, ...(f.monotone.source ? { source: f.monotone.source } : {}) } } : {}),
  };
}

/** The model file exactly as it is downloaded (and as the command line writes it). */
export function modelFileText(model: TernaryModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}

export class TrainingLab {
  readonly data = new LabData();
  readonly run: TrainingRun;
  /** The shown model's request trained again on more splits, on request. */
  readonly repeated: RepeatedSplits;
  readonly preview: EncryptionPreview;
  readonly publisher = new ModelPublisher();
  settings = $state<LabSettings>({ ...LAB_DEFAULTS });
  naming = $state<ModelNaming>({ id: 'model', title: 'Model', description: '', classes: ['negative', 'positive'] });
  backendPreference = $state<BackendPreference>('auto');
  /** What the model predicts and of whom, in the builder's words (shown with every risk it gives). */
  about = $state<ModelAbout>({ outcome: '', who: '', sex: '' });
  /** What the builder changed in each feature's inferred spec, by column name. */
  edits = $state<Record<string, FeatureEdit>>({});
  /** The default model's spec this file is the data set of, when that spec sets training settings. */
  known = $state.raw<KnownDataset | undefined>();

  readonly #catalog: ModelCatalog;

  constructor(trainBridge: TrainBridge, heBridge: HeBridge, catalog: ModelCatalog) {
    this.run = new TrainingRun(trainBridge);
    this.repeated = new RepeatedSplits(trainBridge);
    this.preview = new EncryptionPreview(heBridge);
    this.#catalog = catalog;
  }

  /** The trained model, once a run finished. */
  get model(): TernaryModel | undefined {
    return this.run.outcome?.model;
  }

  /** Says which backend would train (starts the worker's backend). */
  detectBackend(): Promise<void> {
    return this.run.detect(this.backendPreference);
  }

  async load(file: File): Promise<void> {
    await this.data.load(file);
    const loaded = this.data.file;
    if (!loaded || loaded.name !== file.name) return;
    const id = idFromFileName(loaded.name);
    this.naming = { id, title: labelFromName(id), description: `Trained from ${loaded.name}.`, classes: ['negative', 'positive'] };
    this.edits = {};
    this.about = { outcome: '', who: '', sex: '' };
    this.#recognize();
  }

  /** Changes the column to predict; the file is a default's data set only with the spec's label. */
  chooseLabel(name: string): void {
    this.data.setLabel(name);
    this.#recognize();
  }

  /**
   * A default model's data set (same file name and label, every feature of its spec among the
   * columns) trains as its spec says (cipherclinic train --spec): its features, meanings and
   * directions are proposed as edits, and its measured settings set. Any other file or label
   * trains with trainModel's settings; edits the person made stay.
   */
  #recognize(): void {
    const loaded = this.data.file;
    const known = loaded ? knownDataset(loaded.name, this.data.label) : undefined;
    const columns = new Set(this.data.columns.filter((c) => c.numeric).map((c) => c.name));
    this.known = known?.features.every((f) => columns.has(f.name)) ? known : undefined;
    this.settings.inputBits = this.known?.inputBits;
    this.settings.distill = this.known?.distill;
    this.settings.inputWeights = this.known?.inputWeights;
    this.settings.ensemble = this.known?.ensemble;
    this.settings.search = searchForRuns(this.known?.runs);
    if (this.known) {
      this.data.chooseFeatures(this.known.features.map((f) => f.name));
      this.edits = Object.fromEntries(this.known.features.map((f) => [f.name, specEdit(f)]));
    }
  }

  /** Trains with the chosen columns and settings; then compiles the encryption preview. */
  async train(): Promise<void> {
    const file = this.data.file;
    if (!file || this.data.problem) return;
    this.preview.clear();
    this.publisher.clear();
    const request: TrainRequest = {
      name: file.name,
      bytes: this.data.bytesForWorker(),
      label: this.data.label,
      features: [...this.data.features],
      // Plain objects: the worker receives a structured clone, which reactive proxies are not.
      edits: this.data.features.flatMap((name) => (this.edits[name] ? [$state.snapshot(this.edits[name]) as FeatureEdit] : [])),
      ...(this.known ? { known: this.known.features, missingAsZero: [...this.known.missingAsZero] } : {}),
      naming: { ...this.naming, classes: [...this.naming.classes] },
      about: $state.snapshot(this.about) as ModelAbout,
      settings: $state.snapshot(this.settings) as LabSettings,
      backend: this.backendPreference,
    };
    this.repeated.remember(request);
    const outcome = await this.run.start(request);
    if (outcome) await this.preview.compile(outcome.model);
  }

  cancel(): void {
    this.run.cancel();
    this.repeated.cancel();
  }

  /** Publishes the model; once the service serves it, the patient and clinic screens offer it. */
  async publish(token: string): Promise<boolean> {
    const model = this.model;
    if (!model) return false;
    const card = await this.publisher.publish(model, token);
    if (!card) return false;
    await this.#catalog.load();
    this.#catalog.select(card.id);
    return true;
  }

  /** Bytes of the model file download() saves (UTF-8). */
  get modelBytes(): number {
    const model = this.model;
    return model ? new TextEncoder().encode(modelFileText(model)).length : 0;
  }

  /** The model file, as the server loads it and the CLI writes it. */
  download(): void {
    const model = this.model;
    if (model) saveFile(modelFileText(model), `${model.id}.json`, 'application/json');
  }
}
