/**
 * The training worker: owns TensorFlow.js (DESIGN §5). A thin comlink entry; the job lives in
 * workers/train/. The page imports only the type `TrainWorkerApi`, so no tfjs code lands in
 * the main bundle. Stopping a run means terminating this worker (the bridge does it). A study
 * site's worker starts its own copy for `localStep` (workers/train/study-step.ts).
 */
import { expose } from 'comlink';
import { localStep } from './train/study-step.ts';
import { repeat } from './train/repeat.ts';
import { backend, train } from './train/train.ts';

const api = { backend, train, repeat, localStep };

export type TrainWorkerApi = typeof api;

expose(api);
