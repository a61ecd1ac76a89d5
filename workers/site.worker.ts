/**
 * The site worker: a hospital's part of a private training study (docs/federated.md), off the
 * page's thread. It holds the site's identity and CSV (wrapped in IndexedDB, workers/site/vault.ts)
 * and runs the rounds — masking, Shamir shares and the local training step, float64 JavaScript
 * in this worker — with the same loop as the command-line site (workers/site/run.ts). The page
 * imports only the type `SiteWorkerApi`.
 */
import { expose } from 'comlink';
import { proposeMapping } from './site/mapping.ts';
import { checkData, join, leave } from './site/run.ts';
import { createIdentity, dataInfo, exportIdentity, forgetData, forgetIdentity, identityInfo, importIdentity, joinedStudy, keepJoinedStudy, saveData, saveMapping } from './site/vault.ts';

const api = {
  identityInfo,
  createIdentity,
  exportIdentity,
  importIdentity,
  forgetIdentity,
  saveData,
  saveMapping,
  dataInfo,
  forgetData,
  joinedStudy,
  keepJoinedStudy,
  proposeMapping,
  checkData,
  join,
  leave,
};

export type SiteWorkerApi = typeof api;

expose(api);
