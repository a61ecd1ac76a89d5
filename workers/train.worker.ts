/**
 * The training worker: owns TensorFlow.js (DESIGN §5). A thin comlink entry; the job lives in
 * workers/train/. The page imports only the type `TrainWorkerApi`, so no tfjs code lands in
 * the main bundle. Stopping a run means terminating this worker (the bridge does it).
 */
import { expose } from 'comlink';
import { backend, train } from './train/train.ts';

const api = { backend, train };

export type TrainWorkerApi = typeof api;

expose(api);
