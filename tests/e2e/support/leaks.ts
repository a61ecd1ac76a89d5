/**
 * Does a request body hold a plaintext value in a readable form? A ciphertext is
 * random-looking bytes, so each probe below is long enough (≥ 6 bytes of text, or a whole
 * binary record) that finding it by chance in megabytes of ciphertext is practically
 * impossible: a hit means a leak, not bad luck.
 */
import { encode } from '@msgpack/msgpack';
import { featureVector } from '../../../src/core/he/quadratic.ts';

export interface SentRecord {
  /** Values as entered (model order, null = blank). */
  values: readonly (number | null)[];
  /** The quantized record the client encrypts. */
  quantized: Int32Array;
  /** The CSV line it came from, if any. */
  line?: string;
}

const utf16 = (s: string) => Buffer.from(s, 'utf16le');

/** Text forms of one value long enough to be a meaningful probe ("187.67", "0.4732…"). */
function valueTexts(v: number): string[] {
  const forms = new Set([String(v), v.toFixed(2), v.toFixed(1)]);
  return [...forms].filter((s) => s.length >= 6);
}

function float64(v: number, littleEndian: boolean): Buffer {
  const b = Buffer.alloc(8);
  if (littleEndian) b.writeDoubleLE(v);
  else b.writeDoubleBE(v);
  return b;
}

/** Byte strings that would betray a record, each with a name for the failure message. */
export function probes(record: SentRecord, featureNames: readonly string[]): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  const json = JSON.stringify(record.values);
  const named = JSON.stringify(Object.fromEntries(featureNames.map((n, i) => [n, record.values[i]])));
  out.push(['JSON array', Buffer.from(json)], ['JSON object', Buffer.from(named)], ['JSON (UTF-16)', utf16(json)]);
  out.push(['JSON (base64)', Buffer.from(Buffer.from(json).toString('base64').slice(0, 24))]);
  out.push(['JSON (hex)', Buffer.from(Buffer.from(json).toString('hex').slice(0, 32))]);
  out.push(['MessagePack array', Buffer.from(encode(record.values))]);
  out.push(['CSV', Buffer.from(record.values.map((v) => v ?? '').join(','))]);
  if (record.line) out.push(['CSV line', Buffer.from(record.line)]);
  out.push(['float64 record', Buffer.from(new Float64Array(record.values.map((v) => v ?? Number.NaN)).buffer)]);
  // A mostly-zero quantized record would be a run of zero bytes, which headers can hold by chance.
  if (record.quantized.filter((q) => q !== 0).length >= 4) {
    out.push(['quantized int32', Buffer.from(record.quantized.buffer, record.quantized.byteOffset, record.quantized.byteLength)]);
    out.push(['quantized int64', Buffer.from(BigInt64Array.from(record.quantized, BigInt).buffer)]);
    out.push(['quantized int8', Buffer.from(Int8Array.from(record.quantized).buffer)]);
    // What a single-record plaintext holds before encryption: the values and their pairwise products.
    const z = featureVector(record.quantized);
    out.push(['quadratic feature vector int32', Buffer.from(z.buffer, z.byteOffset, z.byteLength)]);
    out.push(['quadratic feature vector int64', Buffer.from(BigInt64Array.from(z, BigInt).buffer)]);
  }
  for (const v of record.values) {
    if (v === null) continue;
    for (const t of valueTexts(v)) out.push([`value ${t}`, Buffer.from(t)], [`value ${t} (UTF-16)`, utf16(t)]);
    if (!Number.isInteger(v)) out.push([`value ${v} as float64 LE`, float64(v, true)], [`value ${v} as float64 BE`, float64(v, false)]);
  }
  for (const name of featureNames) if (name.length >= 6) out.push([`feature name ${name}`, Buffer.from(name)]);
  return out;
}

/** Feature-major batch packing: feature 0 of the first records, as the slots a plaintext would hold. */
export function batchProbe(records: readonly SentRecord[]): [string, Buffer] | undefined {
  if (records.length < 8) return undefined;
  const slots = BigInt64Array.from(records.slice(0, 16), (r) => BigInt(r.quantized[1]!));
  return ['batch slots of feature 1 (int64)', Buffer.from(slots.buffer)];
}

/** Names of the probes found in the body. */
export function leaksIn(body: Buffer, probeList: readonly [string, Buffer][]): string[] {
  return probeList.filter(([, bytes]) => body.includes(bytes)).map(([name]) => name);
}

/**
 * Runs of at least `min` printable ASCII characters in a body: readable text. In uniform random
 * bytes a 24-character run turns up about once per 25 GB; the protocol's only long strings are
 * 64-digit hex hashes. Keys and ciphertexts are SEAL's zstd-compressed serializations, whose
 * entropy-coded bytes are not uniform: one held "xm191:2;:3fffffffffffN1K" by chance, so callers
 * hold those blobs to a longer run (withoutBlobs, binaryFields).
 */
export function printableRuns(body: Uint8Array, min = 24): string[] {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= body.length; i++) {
    const c = i < body.length ? body[i]! : 0;
    const printable = c >= 0x20 && c <= 0x7e;
    if (printable && start < 0) start = i;
    else if (!printable && start >= 0) {
      if (i - start >= min) runs.push(Buffer.from(body.subarray(start, i)).toString('latin1'));
      start = -1;
    }
  }
  return runs;
}

/** Every byte string among a decoded message's fields (keys and ciphertexts), arrays included. */
export function binaryFields(message: unknown): Uint8Array[] {
  if (message instanceof Uint8Array) return [message];
  if (Array.isArray(message)) return message.flatMap(binaryFields);
  if (message && typeof message === 'object') return Object.values(message).flatMap(binaryFields);
  return [];
}

/** A copy of the body with each blob's bytes zeroed where it occurs: the message's envelope. */
export function withoutBlobs(body: Uint8Array, blobs: readonly Uint8Array[]): Buffer {
  const out = Buffer.from(body);
  for (const blob of blobs) {
    const at = out.indexOf(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
    if (at >= 0) out.fill(0, at, at + blob.byteLength);
  }
  return out;
}
