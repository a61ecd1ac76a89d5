/**
 * Bounds checked on untrusted bytes before any decoder allocates for them. MessagePack and JSON
 * nest containers cheaply: three bytes of MessagePack can declare an array of 4,096 elements,
 * and a decoder that believes the header allocates for it at once, so a 450 KB body of nested
 * headers once cost gigabytes. These scans walk the bytes without building anything (explicit
 * stacks of counters, no recursion) and refuse a body that nests too deep, declares more
 * elements than the limit, or declares more than its remaining bytes can hold.
 *
 * Isomorphic: the server's routes, the pool's workers and the browser (results, backup files)
 * use the same checks.
 */

export interface MsgpackLimits {
  /** Containers inside containers: the top-level map is depth 1. */
  maxDepth: number;
  /** Elements declared by all containers together (a map entry counts twice). */
  maxElements: number;
}

/** Protocol messages are a map of scalars, binaries and one array of binaries: depth 2. */
export const MESSAGE_LIMITS: MsgpackLimits = { maxDepth: 4, maxElements: 16_384 };

/** Why a body was refused before decoding; the message names the limit or the offset. */
export class BoundsError extends Error {
  override name = 'BoundsError';
}

/** Payload sizes of the fixed-width MessagePack types, by first byte. */
function fixedSize(b: number): number {
  switch (b) {
    case 0xc0: case 0xc2: case 0xc3: return 0;
    case 0xcc: case 0xd0: return 1;
    case 0xcd: case 0xd1: return 2;
    case 0xca: case 0xce: case 0xd2: return 4;
    case 0xcb: case 0xcf: case 0xd3: return 8;
    case 0xd4: return 2;
    case 0xd5: return 3;
    case 0xd6: return 5;
    case 0xd7: return 9;
    case 0xd8: return 17;
    default: return -1;
  }
}

/**
 * Checks that `bytes` hold exactly one MessagePack value within `limits`, every declared length
 * fitting in the bytes that follow it. Throws BoundsError; returns nothing otherwise.
 */
export function checkMsgpack(bytes: Uint8Array, limits: MsgpackLimits = MESSAGE_LIMITS): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  /** Elements still to read in each open container, innermost last. */
  const open: number[] = [];
  let declared = 0;
  let at = 0;
  const need = (n: number, what: string) => {
    if (n > end - at) throw new BoundsError(`${what} at byte ${at} declares ${n} bytes, but only ${end - at} remain`);
  };
  const lengthOf = (width: 1 | 2 | 4): number => {
    need(width, 'a length');
    const n = width === 1 ? view.getUint8(at) : width === 2 ? view.getUint16(at) : view.getUint32(at);
    at += width;
    return n;
  };
  const container = (n: number, perEntry: 1 | 2) => {
    const elements = n * perEntry;
    if (open.length + 1 > limits.maxDepth) throw new BoundsError(`containers nest deeper than ${limits.maxDepth} levels (at byte ${at})`);
    declared += elements;
    if (declared > limits.maxElements) throw new BoundsError(`the containers declare more than ${limits.maxElements} elements in all`);
    // Every element takes at least one byte: a header that claims more is a lie.
    if (elements > end - at) throw new BoundsError(`a container at byte ${at} declares ${elements} elements, but only ${end - at} bytes remain`);
    if (elements > 0) open.push(elements);
    return elements > 0;
  };

  do {
    if (at >= end) throw new BoundsError(`the body ends at byte ${at} inside a value`);
    const b = view.getUint8(at++);
    let opened = false;
    if (b <= 0x7f || b >= 0xe0) {
      // fixint
    } else if (b <= 0x8f) opened = container(b & 0x0f, 2);
    else if (b <= 0x9f) opened = container(b & 0x0f, 1);
    else if (b <= 0xbf) {
      const n = b & 0x1f;
      need(n, 'a string');
      at += n;
    } else if (b === 0xc4 || b === 0xd9) {
      const n = lengthOf(1);
      need(n, 'a string or binary');
      at += n;
    } else if (b === 0xc5 || b === 0xda) {
      const n = lengthOf(2);
      need(n, 'a string or binary');
      at += n;
    } else if (b === 0xc6 || b === 0xdb) {
      const n = lengthOf(4);
      need(n, 'a string or binary');
      at += n;
    } else if (b === 0xc7 || b === 0xc8 || b === 0xc9) {
      const n = lengthOf(b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4);
      need(n + 1, 'an extension');
      at += n + 1;
    } else if (b === 0xdc) opened = container(lengthOf(2), 1);
    else if (b === 0xdd) opened = container(lengthOf(4), 1);
    else if (b === 0xde) opened = container(lengthOf(2), 2);
    else if (b === 0xdf) opened = container(lengthOf(4), 2);
    else {
      const n = fixedSize(b);
      if (n < 0) throw new BoundsError(`byte ${at - 1} (0x${b.toString(16)}) starts no MessagePack value`);
      need(n, 'a number');
      at += n;
    }
    // A value is complete: count it against its container, closing every container it fills.
    if (!opened) {
      while (open.length > 0) {
        const left = open.length - 1;
        open[left]!--;
        if (open[left]! > 0) break;
        open.pop();
      }
    }
  } while (open.length > 0);
  if (at !== end) throw new BoundsError(`${end - at} bytes follow the message`);
}

/**
 * True when JSON text nests no deeper than `maxDepth` (a lone scalar is depth 0). Counts
 * brackets outside strings; the text is not otherwise validated (JSON.parse does that next).
 */
export function jsonTextDepthWithin(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

/** True when a decoded value nests no deeper than `maxDepth` (iterative: no stack to overflow). */
export function depthWithin(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (depth + 1 > maxDepth) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}
