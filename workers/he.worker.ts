/**
 * The HE worker: owns SEAL and the secret keys (DESIGN §3). A thin comlink entry; each
 * operation lives in workers/he/. The page imports only the type `HeWorkerApi`, so no worker
 * code (and no SEAL) lands in the main bundle.
 */
import { expose } from 'comlink';
import { decryptResults, encryptRecords, prepare, registration } from './he/requests.ts';
import { deleteAll, exportBackup, importBackup, listKeys, rotate, unreadableKeys } from './he/keyring.ts';
import { compile } from './he/compile.ts';

const api = {
  prepare,
  registration,
  encryptRecords,
  decryptResults,
  listKeys,
  unreadableKeys,
  rotate,
  deleteAll,
  exportBackup,
  importBackup,
  compile,
};

export type HeWorkerApi = typeof api;

expose(api);
