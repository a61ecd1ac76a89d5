/**
 * The passphrase-encrypted key backup: the one way a secret key leaves the HE worker, and only
 * when the person asks for it. Isomorphic (WebCrypto), so Node tests run the same code.
 *
 * File: versioned JSON (readable header, one opaque field).
 *   { format, version, createdAt, keys: [{ paramsHash, fingerprint }],      ← public header
 *     kdf: { name: "PBKDF2", hash: "SHA-256", iterations, salt },          ← passphrase → key
 *     cipher: { name: "AES-GCM", iv },                                     ← 256-bit key, 96-bit IV
 *     ciphertext,                                                         ← the secret keys
 *     hash }                                                              ← SHA-256 of all of the above
 * The header is the AES-GCM additional data, so changing a fingerprint or the iteration count
 * fails decryption; `hash` tells a damaged file ("the file is damaged") from a wrong passphrase.
 * PBKDF2-SHA-256 at 600,000 iterations is OWASP's 2023 floor; files asking fewer are refused.
 */
import { canonicalJson, hashBytes } from '../hash.ts';
import { jsonTextDepthWithin } from '../protocol/bounds.ts';

export const BACKUP_FORMAT = 'cipherclinic/key-backup';
export const BACKUP_VERSION = 1;
export const BACKUP_ITERATIONS = 600_000;
/** Refuse files that would make the importer spin for minutes. */
const MAX_ITERATIONS = 10_000_000;
/**
 * A backup holds a few secret keys (hundreds of KB each): anything far larger, or nested deeper
 * than its own shape, is refused before JSON.parse and the canonical hash (which recurses).
 */
const MAX_BACKUP_BYTES = 32 * 1024 * 1024;
const MAX_BACKUP_DEPTH = 4;
const MIN_PASSPHRASE = 8;

/** One secret key as the vault holds it, in the clear: only ever inside the HE worker. */
export interface SecretKeyEntry {
  /** Hash of the HE parameters the key belongs to. */
  paramsHash: string;
  /** Short fingerprint people compare. */
  fingerprint: string;
  /** ISO 8601. */
  createdAt: string;
  /** Human description of the parameters, e.g. "BFV n=8192 q=60+60+60 bits t=21 bits". */
  parameters?: string;
  /** SEAL SecretKey, serialized. */
  secretKey: Uint8Array;
}

interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  createdAt: string;
  keys: { paramsHash: string; fingerprint: string }[];
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  cipher: { name: 'AES-GCM'; iv: string };
}

interface BackupFile extends BackupHeader {
  ciphertext: string;
  hash: string;
}

/** A backup that cannot be read, with the reason in words a person can act on. */
export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    readonly reason: 'format' | 'damaged' | 'passphrase' | 'weak',
    message: string,
  ) {
    super(message);
  }
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const utf8 = new TextEncoder();

async function passphraseKey(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

function headerOf(file: BackupHeader): BackupHeader {
  const { format, version, createdAt, keys, kdf, cipher } = file;
  return { format, version, createdAt, keys, kdf, cipher };
}

/** Encrypts the key ring under a passphrase; returns the file's bytes (UTF-8 JSON). */
export async function sealBackup(keys: readonly SecretKeyEntry[], passphrase: string, iterations = BACKUP_ITERATIONS): Promise<Uint8Array> {
  if (passphrase.length < MIN_PASSPHRASE) throw new BackupError('weak', `choose a passphrase of at least ${MIN_PASSPHRASE} characters`);
  if (iterations < BACKUP_ITERATIONS) throw new BackupError('weak', `at least ${BACKUP_ITERATIONS} PBKDF2 iterations are required`);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: new Date().toISOString(),
    keys: keys.map(({ paramsHash, fingerprint }) => ({ paramsHash, fingerprint })),
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: toBase64(salt) },
    cipher: { name: 'AES-GCM', iv: toBase64(iv) },
  };
  const payload = utf8.encode(JSON.stringify(keys.map((k) => ({ ...k, secretKey: toBase64(k.secretKey) }))));
  const key = await passphraseKey(passphrase, salt, iterations);
  const aad = utf8.encode(canonicalJson(header));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, payload));
  payload.fill(0);
  const body = { ...header, ciphertext: toBase64(sealed) };
  const file: BackupFile = { ...body, hash: hashBytes(utf8.encode(canonicalJson(body))) };
  return utf8.encode(JSON.stringify(file, null, 1));
}

/** Reads a backup file; throws BackupError saying whether the file or the passphrase is wrong. */
export async function openBackup(bytes: Uint8Array, passphrase: string): Promise<SecretKeyEntry[]> {
  let file: BackupFile;
  if (bytes.length > MAX_BACKUP_BYTES) throw new BackupError('format', `this file is ${bytes.length} bytes; a key backup is at most ${MAX_BACKUP_BYTES}`);
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (!jsonTextDepthWithin(text, MAX_BACKUP_DEPTH)) throw new BackupError('format', 'this is not a Cipher Clinic key backup (it nests deeper than a backup does)');
    file = JSON.parse(text) as BackupFile;
  } catch (e) {
    if (e instanceof BackupError) throw e;
    throw new BackupError('format', 'this is not a Cipher Clinic key backup (it is not JSON text)');
  }
  if (file?.format !== BACKUP_FORMAT) throw new BackupError('format', 'this is not a Cipher Clinic key backup');
  if (file.version !== BACKUP_VERSION) throw new BackupError('format', `this backup has version ${JSON.stringify(file.version)}; this app reads version ${BACKUP_VERSION}`);
  const { hash, ...body } = file;
  if (typeof hash !== 'string' || hashBytes(utf8.encode(canonicalJson(body))) !== hash) throw new BackupError('damaged', 'the backup file is damaged (its content does not match its hash)');
  const header = headerOf(file);
  if (header.kdf?.name !== 'PBKDF2' || header.kdf.hash !== 'SHA-256' || header.cipher?.name !== 'AES-GCM') throw new BackupError('format', 'the backup uses an encryption this app does not know');
  const { iterations } = header.kdf;
  if (!Number.isInteger(iterations) || iterations < BACKUP_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new BackupError('weak', `the backup asks for ${iterations} PBKDF2 iterations; this app accepts ${BACKUP_ITERATIONS} to ${MAX_ITERATIONS}`);
  }
  const key = await passphraseKey(passphrase, fromBase64(header.kdf.salt), iterations);
  let plain: Uint8Array;
  try {
    const aad = utf8.encode(canonicalJson(header));
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(header.cipher.iv), additionalData: aad }, key, fromBase64(file.ciphertext)));
  } catch {
    throw new BackupError('passphrase', 'the passphrase is wrong');
  }
  // Authenticated by AES-GCM, so made by this app: its shape needs no further bound.
  const entries = JSON.parse(new TextDecoder().decode(plain)) as (Omit<SecretKeyEntry, 'secretKey'> & { secretKey: string })[];
  plain.fill(0);
  return entries.map((e) => ({ paramsHash: e.paramsHash, fingerprint: e.fingerprint, createdAt: e.createdAt, ...(e.parameters ? { parameters: e.parameters } : {}), secretKey: fromBase64(e.secretKey) }));
}
