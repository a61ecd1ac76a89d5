/**
 * What left the browser, checked over every request body one e2e file's browser sent: never
 * the secret key, only protocol messages, no readable text beyond the hashes naming model,
 * plan and keys, and no plaintext value in any readable encoding. Every file that predicts
 * runs these four tests after its flows: each file has its own browser, so each checks its own.
 */
import { describe, expect, it } from 'vitest';
import type { TernaryModel } from '../../../src/core/model/format.ts';
import { quantizeRecord, type PlainRecord } from '../../../src/core/model/reference.ts';
import { decodeMessage } from '../../../src/core/protocol/codec.ts';
import { openBackup, type SecretKeyEntry } from '../../../src/core/vault/backup.ts';
import { exportBackup, nav } from './forms.ts';
import type { AppSession } from './harness.ts';
import { batchProbe, binaryFields, leaksIn, printableRuns, probes, withoutBlobs, type SentRecord } from './leaks.ts';

/** The records a file's flows entered: the values no request may hold in readable form. */
export class SentRecords {
  readonly records: { model: TernaryModel; record: SentRecord }[] = [];
  /** Whole CSV files sent as batches, each probed as one. */
  readonly batches: SentRecord[][] = [];

  remember(model: TernaryModel, values: PlainRecord, line?: string): void {
    this.records.push({ model, record: { values, quantized: quantizeRecord(model, values), line } });
  }

  /** A CSV file's valid rows (`line`: 1-based line in `csv`): the batch, and every `every`-th row on its own. */
  rememberBatch(model: TernaryModel, rows: readonly { line: number; values: PlainRecord }[], csv: string, every: number): void {
    const lines = csv.split('\n');
    const records = rows.map((r) => ({ values: r.values, quantized: quantizeRecord(model, r.values), line: lines[r.line - 1]! }));
    this.batches.push(records);
    records.filter((_, i) => i % every === 0).forEach((r) => this.records.push({ model, record: r }));
  }
}

/** The secret keys the browser holds, read from a backup exported on the Keys screen. */
export async function secretKeysInBrowser(app: AppSession): Promise<SecretKeyEntry[]> {
  const passphrase = 'a passphrase for the leak checks';
  await nav(app.page, 'Keys');
  return openBackup(await exportBackup(app.page, passphrase), passphrase);
}

export interface WhatLeftOptions {
  /** The secret keys to look for (read when the test runs). */
  secretKeys: () => SecretKeyEntry[] | Promise<SecretKeyEntry[]>;
  /** What the file's flows sent at the least, so that the checks below cannot pass on nothing. */
  atLeast: { posts: number; records: number };
}

/** Registers the four checks, as describe('what left the browser'), to run after the file's flows. */
export function whatLeftTheBrowser(app: AppSession, sent: SentRecords, options: WhatLeftOptions): void {
  const posts = () => app.browser.requests.filter((r) => r.method === 'POST');

  describe('what left the browser', () => {
    it('was never the secret key', async () => {
      const posted = posts();
      expect(posted.length).toBeGreaterThanOrEqual(options.atLeast.posts);
      const keys = await options.secretKeys();
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        // Skip SEAL's 16-byte serialization header, which every SEAL object shares.
        for (let at = 64; at + 32 <= key.secretKey.length; at += Math.max(32, Math.floor(key.secretKey.length / 40))) {
          const slice = Buffer.from(key.secretKey.subarray(at, at + 32));
          for (const r of posted) expect(r.body.includes(slice), `${r.url} holds secret key bytes`).toBe(false);
        }
      }
    });

    it('was only protocol messages: hashes, counts and ciphertexts or public keys', () => {
      for (const r of posts()) {
        const path = new URL(r.url).pathname;
        const bytes = new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.byteLength);
        if (path === '/api/keys') {
          const keys = decodeMessage(bytes, 'keys');
          expect(Object.keys(keys).sort()).toEqual(['galois', 'keyId', 'modelHash', 'planHash', 'protocol', 'publicKey', 'relin', 'type']);
          // Only the keys a plan needs: a public key (single) or relinearization keys (batch), no Galois keys.
          expect(keys.galois).toBeNull();
          expect((keys.relin === null) !== (keys.publicKey === null), `${r.url}: a public key or relinearization keys, one of them`).toBe(true);
        } else {
          expect(path).toMatch(/^\/api\/models\/[a-z-]+\/classify$/);
          expect(Object.keys(decodeMessage(bytes, 'classify')).sort()).toEqual(['ciphertexts', 'count', 'keyId', 'layout', 'modelHash', 'planHash', 'protocol', 'type']);
        }
      }
    });

    it('held no readable text beyond the hashes naming model, plan and keys', () => {
      for (const r of posts()) {
        const bytes = new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.byteLength);
        const blobs = binaryFields(decodeMessage(bytes, new URL(r.url).pathname === '/api/keys' ? 'keys' : 'classify'));
        const runs = printableRuns(withoutBlobs(bytes, blobs));
        // MessagePack writes a 64-character string as 0xd9 0x40 then the text, and 0x40 is "@".
        expect(runs.filter((t) => !/^@?[0-9a-f]{64}$/.test(t)), `${r.url}: readable text`).toEqual([]);
        expect(runs.length, `${r.url}: the three hashes`).toBeLessThanOrEqual(3);
        expect(runs.length, `${r.url}: the hashes are read (only the blobs were blanked)`).toBeGreaterThanOrEqual(2);
        // Inside the compressed keys and ciphertexts (printableRuns says why), no run of 64.
        for (const blob of blobs) expect(printableRuns(blob, 64), `${r.url}: readable text in a key or ciphertext`).toEqual([]);
      }
    });

    it('never held a plaintext value in any readable encoding', () => {
      const posted = posts();
      expect(sent.records.length).toBeGreaterThanOrEqual(options.atLeast.records);
      for (const { model, record } of sent.records) {
        const list = probes(record, model.features.map((f) => f.name));
        for (const r of posted) expect(leaksIn(r.body, list), `${r.url} holds ${JSON.stringify(record.values)}`).toEqual([]);
      }
      for (const records of sent.batches) {
        const probe = batchProbe(records)!;
        for (const r of posted) expect(r.body.includes(probe[1]), probe[0]).toBe(false);
      }
    });
  });
}
