/**
 * What a hospital's browser keeps for a study, inside the site worker only: its Ed25519
 * identity and its chosen CSV, both wrapped with AES-GCM-256 under a non-extractable WebCrypto
 * key (../shared/at-rest.ts, as the HE key ring), and which study it joined.
 * The identity's secret key and the CSV's rows exist in the clear only in this worker's memory.
 */
import { createStore, del, get, set } from 'idb-keyval';
import { atRest, type Wrapped } from '../shared/at-rest.ts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { generateIdentity, identityPublicKey } from '../../src/core/federated/agreement.ts';
import { openBackup, sealBackup } from '../../src/core/vault/backup.ts';
import type { ColumnMapping } from './mapping.ts';

export type { ColumnMapping };

const store = createStore('cipherclinic-site', 'site');
const WRAPPING_KEY = 'wrapping-key';
const IDENTITY = 'identity';
const DATA = 'data';
const STUDY = 'study';
/** Marks a site identity inside a passphrase backup file (the key backup format). */
const BACKUP_TAG = 'site-identity:';

/** What the page may know about the identity: its public key, never the secret. */
export interface IdentityInfo {
  publicKey: string;
  createdAt: string;
}


/** The chosen file as the page sees it: name, size and mapping, never the rows. */
export interface DataInfo {
  name: string;
  size: number;
  /** The header's column names (public: the manifest names its own). */
  columns: string[];
  mapping: ColumnMapping;
}

/** The study this site joined, so that a reopened tab can take part again. */
export interface JoinedStudy {
  base: string;
  id: string;
  hash: string;
  /** True while the person wants to take part (set by Join, cleared by Leave or the study's end). */
  active: boolean;
}

const secrets = atRest(store, WRAPPING_KEY);

const aad = (what: string) => new TextEncoder().encode(`cipherclinic site ${what} v1`);

function wrap(what: string, plain: Uint8Array): Promise<Wrapped> {
  return secrets.wrap(aad(what), plain);
}

async function unwrap(what: string, stored: Wrapped): Promise<Uint8Array> {
  try {
    return await secrets.unwrap(aad(what), stored);
  } catch {
    throw new Error(`the stored ${what} could not be unwrapped (the browser's storage was changed); import it again`);
  }
}

interface StoredIdentity extends Wrapped, IdentityInfo {
  version: 1;
}

export async function identityInfo(): Promise<IdentityInfo | undefined> {
  const s = await get<StoredIdentity>(IDENTITY, store);
  return s ? { publicKey: s.publicKey, createdAt: s.createdAt } : undefined;
}

async function keepIdentity(secretKey: Uint8Array, createdAt: string): Promise<IdentityInfo> {
  const publicKey = bytesToHex(identityPublicKey(secretKey));
  await set(IDENTITY, { version: 1, publicKey, createdAt, ...(await wrap('identity', secretKey)) } satisfies StoredIdentity, store);
  return { publicKey, createdAt };
}

/** Makes this browser's site identity; refuses to replace one (a manifest may already name it). */
export async function createIdentity(): Promise<IdentityInfo> {
  if (await identityInfo()) throw new Error('this browser has a site identity already; export it, or forget it first');
  const { secretKey } = generateIdentity();
  try {
    return await keepIdentity(secretKey, new Date().toISOString());
  } finally {
    secretKey.fill(0);
  }
}

/** The identity's secret key, for signing inside this worker. */
export async function loadIdentitySecret(): Promise<Uint8Array> {
  const s = await get<StoredIdentity>(IDENTITY, store);
  if (!s) throw new Error('this browser has no site identity yet: create or import one');
  return unwrap('identity', s);
}

/** A passphrase-encrypted file of the identity (the key backup format, one entry). */
export async function exportIdentity(passphrase: string): Promise<Uint8Array> {
  const info = await identityInfo();
  if (!info) throw new Error('there is no site identity to export');
  const secretKey = await loadIdentitySecret();
  try {
    return await sealBackup([{ paramsHash: BACKUP_TAG + info.publicKey, fingerprint: info.publicKey.slice(0, 16), createdAt: info.createdAt, parameters: 'Ed25519 site identity', secretKey }], passphrase);
  } finally {
    secretKey.fill(0);
  }
}

/** Reads an exported identity (refusing key backups of other kinds) and keeps it, replacing any. */
export async function importIdentity(file: Uint8Array, passphrase: string): Promise<IdentityInfo> {
  const entries = await openBackup(file, passphrase);
  const entry = entries.length === 1 && entries[0]!.paramsHash.startsWith(BACKUP_TAG) ? entries[0]! : undefined;
  if (!entry || entry.secretKey.length !== 32) throw new Error('this file is a key backup, but not of a site identity');
  if (bytesToHex(identityPublicKey(entry.secretKey)) !== entry.paramsHash.slice(BACKUP_TAG.length)) throw new Error('the identity in this file does not match its public key');
  try {
    return await keepIdentity(entry.secretKey, entry.createdAt);
  } finally {
    entry.secretKey.fill(0);
  }
}

export async function forgetIdentity(): Promise<void> {
  await del(IDENTITY, store);
}

interface StoredData extends Wrapped, DataInfo {
  version: 1;
}

/** Keeps the chosen CSV (wrapped) and its column mapping. */
export async function saveData(name: string, bytes: Uint8Array, columns: string[], mapping: ColumnMapping): Promise<DataInfo> {
  const info: DataInfo = { name, size: bytes.length, columns, mapping };
  await set(DATA, { version: 1, ...info, ...(await wrap('data', bytes)) } satisfies StoredData, store);
  return info;
}

export async function saveMapping(mapping: ColumnMapping): Promise<void> {
  const s = await get<StoredData>(DATA, store);
  if (s) await set(DATA, { ...s, mapping }, store);
}

export async function dataInfo(): Promise<DataInfo | undefined> {
  const s = await get<StoredData>(DATA, store);
  return s ? { name: s.name, size: s.size, columns: s.columns, mapping: s.mapping } : undefined;
}

export async function loadData(): Promise<{ info: DataInfo; bytes: Uint8Array }> {
  const s = await get<StoredData>(DATA, store);
  if (!s) throw new Error('choose the hospital\'s CSV file first');
  return { info: { name: s.name, size: s.size, columns: s.columns, mapping: s.mapping }, bytes: await unwrap('data', s) };
}

export async function forgetData(): Promise<void> {
  await del(DATA, store);
}

export const joinedStudy = (): Promise<JoinedStudy | undefined> => get<JoinedStudy>(STUDY, store);
export const keepJoinedStudy = (study: JoinedStudy): Promise<void> => set(STUDY, study, store);
