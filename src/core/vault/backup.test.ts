/** The key backup format: round trip, and a clear refusal for each way a file can be wrong. */
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashBytes } from '../hash.ts';
import { BACKUP_ITERATIONS, BackupError, openBackup, sealBackup, type SecretKeyEntry } from './backup.ts';

const keys: SecretKeyEntry[] = [
  { paramsHash: 'a'.repeat(64), fingerprint: '0123456789abcdef', createdAt: '2025-01-01T00:00:00.000Z', secretKey: Uint8Array.from({ length: 5000 }, (_, i) => (i * 131) & 255) },
  { paramsHash: 'b'.repeat(64), fingerprint: 'fedcba9876543210', createdAt: '2025-01-02T00:00:00.000Z', secretKey: Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255) },
];
const pass = 'correct horse battery staple';

const edit = (bytes: Uint8Array, change: (f: Record<string, any>) => void, rehash = true) => {
  const f = JSON.parse(new TextDecoder().decode(bytes));
  change(f);
  if (rehash) {
    const { hash: _h, ...body } = f;
    f.hash = hashBytes(new TextEncoder().encode(canonicalJson(body)));
  }
  return new TextEncoder().encode(JSON.stringify(f));
};

describe('key backup', async () => {
  const file = await sealBackup(keys, pass);
  const text = new TextDecoder().decode(file);

  it('round-trips every key under the passphrase', async () => {
    expect(await openBackup(file, pass)).toEqual(keys);
  });

  it('shows only public facts in the clear', () => {
    const json = JSON.parse(text);
    expect(json).toMatchObject({ format: 'cipherclinic/key-backup', version: 1, kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: BACKUP_ITERATIONS }, cipher: { name: 'AES-GCM' } });
    expect(json.keys).toEqual(keys.map(({ paramsHash, fingerprint }) => ({ paramsHash, fingerprint })));
    const secret = Buffer.from(keys[0]!.secretKey.subarray(0, 48)).toString('base64');
    expect(text).not.toContain(secret);
  });

  it('says the passphrase is wrong', async () => {
    await expect(openBackup(file, 'wrong passphrase!')).rejects.toMatchObject({ reason: 'passphrase', message: 'the passphrase is wrong' });
  });

  it('says the file is damaged when a byte changed', async () => {
    const damaged = edit(file, (f) => (f.ciphertext = f.ciphertext.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'))), false);
    await expect(openBackup(damaged, pass)).rejects.toMatchObject({ reason: 'damaged' });
  });

  it('binds the header: a re-hashed, edited fingerprint does not decrypt', async () => {
    const edited = edit(file, (f) => (f.keys[0].fingerprint = '0000000000000000'));
    await expect(openBackup(edited, pass)).rejects.toBeInstanceOf(BackupError);
  });

  it('refuses weak settings, other formats and versions', async () => {
    await expect(openBackup(edit(file, (f) => (f.kdf.iterations = 1000)), pass)).rejects.toMatchObject({ reason: 'weak' });
    await expect(openBackup(edit(file, (f) => (f.version = 2)), pass)).rejects.toThrow(/version 2/);
    await expect(openBackup(new TextEncoder().encode('{"format":"x"}'), pass)).rejects.toMatchObject({ reason: 'format' });
    await expect(openBackup(Uint8Array.of(0xff, 0xfe, 0), pass)).rejects.toMatchObject({ reason: 'format' });
    await expect(sealBackup(keys, 'short')).rejects.toMatchObject({ reason: 'weak' });
  });

  it('refuses nesting bombs and oversized files before parsing them', async () => {
    // 200,000 levels would overflow the stack of the canonical hash if it ever got there.
    const bomb = new TextEncoder().encode('{"format":"cipherclinic/key-backup","x":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}');
    await expect(openBackup(bomb, pass)).rejects.toMatchObject({ reason: 'format', message: expect.stringMatching(/nests deeper/) });
    await expect(openBackup(new Uint8Array(33 * 1024 * 1024), pass)).rejects.toThrow(/at most/);
  });
});
