/**
 * Worker operations on the key ring as a whole: list, rotate, delete, and the passphrase
 * backup — the only path by which secret key bytes leave this worker, encrypted.
 */
import { transfer } from 'comlink';
import { openBackup, sealBackup } from '../../src/core/vault/backup.ts';
import { closeSessions } from './session.ts';
import { deleteKeys, listKeys, loadAllSecretKeys, storeSecretKey, unreadableKeys, type KeyInfo } from './vault.ts';

export { listKeys, unreadableKeys };

/** Forgets every key pair; the next prediction makes new ones (and registers new evaluation keys). */
export async function rotate(): Promise<void> {
  await closeSessions();
  await deleteKeys();
}

/** Deletes every key and the wrapping key: nothing in this browser can decrypt old results. */
export async function deleteAll(): Promise<void> {
  await closeSessions();
  await deleteKeys({ wrappingKey: true });
}

/** The ring, encrypted under a passphrase (PBKDF2-SHA-256 600k → AES-GCM), as file bytes. */
export async function exportBackup(passphrase: string): Promise<Uint8Array> {
  const keys = await loadAllSecretKeys();
  if (keys.length === 0) throw new Error('there are no keys to back up yet');
  try {
    const file = await sealBackup(keys, passphrase);
    return transfer(file, [file.buffer as ArrayBuffer]);
  } finally {
    for (const k of keys) k.secretKey.fill(0);
  }
}

/** Replaces the ring with a backup's keys; returns the new ring. Throws BackupError for a bad file or passphrase. */
export async function importBackup(file: Uint8Array, passphrase: string): Promise<KeyInfo[]> {
  const entries = await openBackup(file, passphrase);
  await closeSessions();
  await deleteKeys();
  try {
    for (const e of entries) await storeSecretKey(e, e.parameters ?? 'restored from a backup');
  } finally {
    for (const e of entries) e.secretKey.fill(0);
  }
  return listKeys();
}
