/**
 * Hostile MessagePack: bodies that cost a few bytes to send and, believed, gigabytes to decode
 * (nesting of every container type and width, declared-size lies, element totals, trailing
 * bytes). Each bomb is a complete body; the server must refuse it before decoding.
 */
import { encode } from '@msgpack/msgpack';

export interface Bomb {
  name: string;
  bytes: Uint8Array;
}

const be = (n: number, width: 2 | 4): number[] => (width === 2 ? [(n >> 8) & 255, n & 255] : [(n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255]);

/** `levels` copies of `header`, then `tail` (a nil by default). */
export function nested(header: readonly number[], levels: number, tail: readonly number[] = [0xc0]): Uint8Array {
  const out = new Uint8Array(header.length * levels + tail.length);
  for (let i = 0; i < levels; i++) out.set(header, i * header.length);
  out.set(tail, header.length * levels);
  return out;
}

/** Container headers: [name, header bytes of one level, elements it claims]. */
const CONTAINERS: [string, number[]][] = [
  ['fixarray of 1', [0x91]],
  ['fixarray of 15', [0x9f]],
  ['array16 of 4096', [0xdc, ...be(4096, 2)]],
  ['array16 of 65535', [0xdc, ...be(65535, 2)]],
  ['array32 of 4096', [0xdd, ...be(4096, 4)]],
  ['array32 of 2^32-1', [0xdd, ...be(0xffffffff, 4)]],
  ['fixmap of 1 (nested in the key)', [0x81]],
  ['fixmap of 1 (nested in the value)', [0x81, 0xa1, 0x6b]],
  ['fixmap of 15', [0x8f]],
  ['map16 of 4096', [0xde, ...be(4096, 2)]],
  ['map16 of 1 (nested in the value)', [0xde, ...be(1, 2), 0xa1, 0x6b]],
  ['map32 of 4096', [0xdf, ...be(4096, 4)]],
  ['map32 of 2^31', [0xdf, ...be(0x80000000, 4)]],
];

/** The issue's bomb: 150,000 nested array16 headers each claiming 4,096 elements (450 KB). */
export function issueBomb(): Uint8Array {
  return nested([0xdc, 0x10, 0x00], 150_000);
}

/** Nesting bombs of every container type and width, deep and shallow. */
export function nestingBombs(): Bomb[] {
  const bombs: Bomb[] = [{ name: 'issue: 150,000 nested array16 of 4096 (450 KB)', bytes: issueBomb() }];
  for (const [name, header] of CONTAINERS) {
    bombs.push({ name: `${name}, nested 100,000 deep`, bytes: nested(header, 100_000) });
    bombs.push({ name: `${name}, nested 5 deep`, bytes: nested(header, 5) });
  }
  // Inside an otherwise plausible message: the ciphertexts array holds a nest.
  const prefix = encode({ type: 'classify', protocol: 2 });
  const opened = new Uint8Array([0x83, ...prefix.subarray(1), 0xab, ...new TextEncoder().encode('ciphertexts')]);
  bombs.push({ name: 'a message whose ciphertexts field nests array16 50,000 deep', bytes: concat(opened, nested([0xdc, 0x10, 0x00], 50_000)) });
  return bombs;
}

/** Headers that claim more bytes or elements than the body holds. */
export function sizeLies(): Bomb[] {
  const pad = (n: number) => new Uint8Array(n).fill(0x61);
  const lie = (name: string, header: number[], following = 16): Bomb => ({ name, bytes: concat(new Uint8Array(header), pad(following)) });
  const bombs = [
    lie('fixstr of 31 with 3 bytes', [0xbf], 3),
    lie('str8 of 255 with 16 bytes', [0xd9, 0xff]),
    lie('str16 of 65535', [0xda, 0xff, 0xff]),
    lie('str32 of 2^32-1', [0xdb, 0xff, 0xff, 0xff, 0xff]),
    lie('bin8 of 255', [0xc4, 0xff]),
    lie('bin16 of 65535', [0xc5, 0xff, 0xff]),
    lie('bin32 of 2 GiB', [0xc6, 0x80, 0x00, 0x00, 0x00]),
    lie('ext8 of 255', [0xc7, 0xff, 0x01]),
    lie('ext16 of 65535', [0xc8, 0xff, 0xff, 0x01]),
    lie('ext32 of 2^32-1', [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01]),
    lie('fixext16 with 3 bytes', [0xd8, 0x01], 3),
    lie('float64 with 2 bytes', [0xcb], 2),
    lie('a length cut short (str32 header of 2 bytes)', [0xdb, 0x00], 0),
    lie('array16 of 1000 with 10 elements', [0xdc, ...be(1000, 2)], 10),
    lie('array32 of 100,000 with 10 elements', [0xdd, ...be(100_000, 4)], 10),
    lie('map16 of 1000 with 4 entries', [0xde, ...be(1000, 2)], 8),
    lie('map32 of 2^31 with 4 entries', [0xdf, ...be(0x80000000, 4)], 8),
    lie('fixarray of 15 with 2 elements', [0x9f], 2),
  ];
  // A lie inside a real-looking keys message: relin claims 2 GiB, 100 bytes follow.
  const head = encode({ type: 'keys', protocol: 2 });
  const relinKey = new TextEncoder().encode('relin');
  bombs.push({ name: 'keys message whose relin bin32 claims 2 GiB', bytes: concat(new Uint8Array([0x83, ...head.subarray(1), 0xa5, ...relinKey, 0xc6, 0x80, 0, 0, 0]), pad(100)) });
  return bombs;
}

/** Bodies honest about every size that declare more elements in all than a message may. */
export function elementFloods(): Bomb[] {
  return [
    { name: 'array16 of 65,535 nils', bytes: concat(new Uint8Array([0xdc, 0xff, 0xff]), new Uint8Array(65_535).fill(0xc0)) },
    { name: 'map16 of 20,000 nil→nil entries', bytes: concat(new Uint8Array([0xde, ...be(20_000, 2)]), new Uint8Array(40_000).fill(0xc0)) },
    { name: 'array32 of 1,000,000 zeros (1 MB)', bytes: concat(new Uint8Array([0xdd, ...be(1_000_000, 4)]), new Uint8Array(1_000_000)) },
    {
      name: 'a map of 8 arrays of 4,000 nils (32,000 in all, each array within bounds)',
      bytes: concat(new Uint8Array([0x88]), ...Array.from({ length: 8 }, (_, i) => concat(new Uint8Array([0xa1, 0x61 + i, 0xdc, ...be(4000, 2)]), new Uint8Array(4000).fill(0xc0)))),
    },
  ];
}

/** A valid message followed by more bytes. */
export function trailingBytes(valid: Uint8Array): Bomb[] {
  return [
    { name: 'one nil after the message', bytes: concat(valid, new Uint8Array([0xc0])) },
    { name: 'the message twice', bytes: concat(valid, valid) },
    { name: '64 KiB of zeros after the message', bytes: concat(valid, new Uint8Array(64 * 1024)) },
    { name: 'an array16 bomb after the message', bytes: concat(valid, nested([0xdc, 0x10, 0x00], 10_000)) },
  ];
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `[[[…]]]` JSON text of `bytes` bytes: the nesting bomb of JSON. */
export function jsonNest(bytes: number): Uint8Array {
  const half = bytes >> 1;
  const out = new Uint8Array(half * 2);
  out.fill(0x5b, 0, half);
  out.fill(0x5d, half);
  return out;
}
