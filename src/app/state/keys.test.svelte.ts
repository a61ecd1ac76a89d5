/**
 * The key ring as the page sees it, on the HE worker's own functions (real SEAL, the vault on
 * IndexedDB and WebCrypto): a key made for a plan is listed by fingerprint; a stored key record
 * that cannot be read is kept, unused, and told about once; rotating forgets every registration.
 */
import { createStore, get, set } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../core/he/compile.ts';
import { deleteAll, exportBackup, importBackup, listKeys, rotate, unreadableKeys } from '../../../workers/he/keyring.ts';
import { appParts, he, loadModel } from '../../../tests/support/app-parts.ts';
import { KeyRing } from './keys.svelte.ts';

describe('key ring', () => {
  it('lists the key made for a plan, tells of an unreadable one once, and forgets registrations on rotation', async () => {
    const parts = appParts('keys');
    const keys = new KeyRing({ listKeys, unreadableKeys, rotate, deleteAll, exportBackup, importBackup }, parts.registrations, (w) => parts.notices.add(w));
    const plan = await compilePlan(await loadModel('framingham-chd'), 'single');
    const key = await he.prepare(plan);
    // Kept, not sent: no service is needed to make the registration record.
    await parts.registrations.ensure(plan, key, { send: false });
    const registrations = createStore('keys-registrations', 'registrations');
    expect(await get(`${key.fingerprint}:${plan.hash}`, registrations)).toBeDefined();

    await set('secret:damaged', { version: 1, paramsHash: 'x', wrapped: 'not a key' }, createStore('cipherclinic-vault', 'keys'));
    await keys.refresh();
    expect(keys.keys.map((k) => k.fingerprint)).toEqual([key.fingerprint]);
    expect(keys.keyFor(plan)?.fingerprint).toBe(key.fingerprint);
    await keys.refresh();
    expect(parts.notices.items).toEqual([
      'A key stored on this device could not be read by this version of the app. It is kept but not used; a prediction that needs one makes a new key, so earlier results decrypted with it cannot be read again unless a backup is restored.',
    ]);

    expect(await keys.rotate()).toBe(true);
    expect(keys.error).toBe('');
    expect(keys.keys).toEqual([]);
    expect(await get(`${key.fingerprint}:${plan.hash}`, registrations)).toBeUndefined();
  });
});
