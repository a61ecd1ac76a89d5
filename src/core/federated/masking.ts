/**
 * Pairwise-mask secure aggregation (Bonawitz et al., CCS 2017) over Z_{2^32}.
 *
 * A site i with update x_i uploads
 *   y_i = x_i + PRG(b_i) + Σ_{j ∈ U₂, j ≠ i} ±PRG(s_ij)   (mod 2^32, + when i < j, − when i > j)
 * where b_i is its self-mask seed and s_ij the X25519 agreement of the two sites' round mask
 * keys. The pairwise masks of two sites that both upload cancel in the sum; the coordinator
 * removes the self masks of the survivors (from their reconstructed seeds) and the pairwise
 * masks that survivors share with sites that dropped after sharing (from the dropped sites'
 * reconstructed mask secret keys). PRG is the ChaCha20 keystream under an HKDF-derived key
 * bound to the study, the round and the ordered pair, read as little-endian 32-bit words.
 *
 * The reveal rule — for each peer, the self-mask share or the mask-key share, never both — is
 * enforced by `RevealGuard`, held by each honest site.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { agree, agreementPublicKey, deriveKey } from './agreement.ts';

const ZERO_NONCE = new Uint8Array(12);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** `length` words of the ChaCha20 keystream under `key`, little-endian. */
export function maskStream(key: Uint8Array, length: number): Uint32Array {
  const bytes = chacha20(key, ZERO_NONCE, new Uint8Array(length * 4));
  if (LITTLE_ENDIAN) return new Uint32Array(bytes.buffer, bytes.byteOffset, length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(length);
  for (let k = 0; k < length; k++) out[k] = view.getUint32(4 * k, true);
  return out;
}

/** acc += v (mod 2^32), in place; returns acc. */
export function addInto(acc: Uint32Array, v: Uint32Array): Uint32Array {
  if (acc.length !== v.length) throw new RangeError(`vector lengths differ: ${acc.length} and ${v.length}`);
  for (let k = 0; k < acc.length; k++) acc[k] = (acc[k]! + v[k]!) >>> 0;
  return acc;
}

/** acc −= v (mod 2^32), in place; returns acc. */
export function subtractInto(acc: Uint32Array, v: Uint32Array): Uint32Array {
  if (acc.length !== v.length) throw new RangeError(`vector lengths differ: ${acc.length} and ${v.length}`);
  for (let k = 0; k < acc.length; k++) acc[k] = (acc[k]! - v[k]!) >>> 0;
  return acc;
}

/** Key of the pairwise mask of sites i and j (symmetric: both sites derive the same key). */
export async function pairwiseMaskKey(ownMaskSecretKey: Uint8Array, peerMaskKey: Uint8Array, studyHash: string, round: number, i: number, j: number): Promise<Uint8Array> {
  if (i === j) throw new RangeError('a site has no pairwise mask with itself');
  return deriveKey(await agree(ownMaskSecretKey, peerMaskKey), studyHash, 'pairwise-mask', round, Math.min(i, j), Math.max(i, j));
}

/** Key of site i's self mask in a round, from its seed. */
export function selfMaskKey(seed: Uint8Array, studyHash: string, round: number, i: number): Uint8Array {
  return deriveKey(seed, studyHash, 'self-mask', round, i);
}

export interface MaskInput {
  studyHash: string;
  round: number;
  /** This site's 1-based index. */
  site: number;
  /** x_i in Z_{2^32}: the quantized update plus this site's noise share. */
  update: Uint32Array;
  /** b_i: 32 bytes. */
  selfSeed: Uint8Array;
  /** s_i^SK: this round's X25519 mask secret key. */
  maskSecretKey: Uint8Array;
  /** Mask public keys s_j^PK of every other site in U₂ (those whose shares arrived). */
  peers: ReadonlyMap<number, Uint8Array>;
}

/** y_i: the update under its self mask and its pairwise masks with every peer in U₂. */
export async function maskUpdate(input: MaskInput): Promise<Uint32Array> {
  const { studyHash, round, site, update } = input;
  const y = Uint32Array.from(update);
  addInto(y, maskStream(selfMaskKey(input.selfSeed, studyHash, round, site), y.length));
  // The key agreements are independent: started together, native X25519 runs them in parallel.
  const peers = [...input.peers].filter(([j]) => j !== site);
  const keys = await Promise.all(peers.map(([j, peerKey]) => pairwiseMaskKey(input.maskSecretKey, peerKey, studyHash, round, site, j)));
  peers.forEach(([j], k) => {
    const mask = maskStream(keys[k]!, y.length);
    if (site < j) addInto(y, mask);
    else subtractInto(y, mask);
  });
  return y;
}

export interface UnmaskInput {
  studyHash: string;
  round: number;
  /** Vector length every upload must have. */
  length: number;
  /** y_v of every survivor v ∈ U₃. */
  masked: ReadonlyMap<number, Uint32Array>;
  /** Mask public keys of every site in U₂ (as advertised and signed). */
  maskKeys: ReadonlyMap<number, Uint8Array>;
  /** Reconstructed b_v of every survivor v ∈ U₃. */
  selfSeeds: ReadonlyMap<number, Uint8Array>;
  /** Reconstructed s_u^SK of every site u ∈ U₂ \ U₃. */
  droppedMaskKeys: ReadonlyMap<number, Uint8Array>;
}

/**
 * The exact sum Σ_{v ∈ U₃} x_v (mod 2^32), given the survivors' uploads, their self-mask seeds
 * and the dropped sites' mask secret keys. Throws when the inputs do not fit together (a seed
 * missing, a reconstructed key that is not the advertised one, a wrong length).
 */
export async function unmaskSum(input: UnmaskInput): Promise<Uint32Array> {
  const { studyHash, round, length, masked, maskKeys, selfSeeds, droppedMaskKeys } = input;
  const sum = new Uint32Array(length);
  for (const [v, y] of masked) {
    if (y.length !== length) throw new RangeError(`site ${v} uploaded ${y.length} values, not ${length}`);
    if (!maskKeys.has(v)) throw new Error(`site ${v} uploaded but had not shared its keys (not in U₂)`);
    const seed = selfSeeds.get(v);
    if (!seed) throw new Error(`no self-mask seed for surviving site ${v}`);
    addInto(sum, y);
    subtractInto(sum, maskStream(selfMaskKey(seed, studyHash, round, v), length));
  }
  for (const v of selfSeeds.keys()) if (!masked.has(v)) throw new Error(`a self-mask seed for site ${v}, which did not upload`);
  for (const [u, secret] of droppedMaskKeys) {
    if (masked.has(u)) throw new Error(`site ${u} uploaded: its mask key must not be reconstructed`);
    const advertised = maskKeys.get(u);
    if (!advertised) throw new Error(`site ${u} is not in U₂`);
    const derived = agreementPublicKey(secret);
    if (!derived.every((b, k) => b === advertised[k])) throw new Error(`the reconstructed mask key of site ${u} is not the one it advertised`);
    for (const v of masked.keys()) {
      // y_v carries +PRG(s_vu) when v < u and −PRG(s_vu) when v > u: take it back out.
      const mask = maskStream(await pairwiseMaskKey(secret, maskKeys.get(v)!, studyHash, round, u, v), length);
      if (v < u) subtractInto(sum, mask);
      else addInto(sum, mask);
    }
  }
  for (const u of maskKeys.keys()) {
    if (!masked.has(u) && !droppedMaskKeys.has(u)) throw new Error(`site ${u} shared keys but neither uploaded nor had its mask key reconstructed`);
  }
  return sum;
}

/** Which secret a share reveals: the peer's self-mask seed b_j or its mask secret key s_j^SK. */
export type ShareKind = 'self-mask' | 'mask-key';

/** An honest site refusing to reveal what would unmask a single peer. */
export class RevealRefused extends Error {
  override name = 'RevealRefused';
}

/**
 * The reveal rule, kept by each honest site for the life of a round: for each peer it reveals
 * shares of one kind only. Asking for the other kind (in the same or a later request of that
 * round) is refused, as is any reveal naming fewer than t survivors.
 */
export class RevealGuard {
  readonly #threshold: number;
  /** "round:peer" → the kind already revealed. */
  readonly #revealed = new Map<string, ShareKind>();

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  /** Throws RevealRefused unless the request is allowed; records each kind granted. */
  admit(round: number, survivors: readonly number[], dropped: readonly number[]): void {
    const survivorSet = new Set(survivors);
    if (survivorSet.size < this.#threshold) {
      throw new RevealRefused(`round ${round}: ${survivorSet.size} survivors named, fewer than the threshold ${this.#threshold}; nothing revealed`);
    }
    for (const u of dropped) {
      if (survivorSet.has(u)) throw new RevealRefused(`round ${round}: site ${u} is named both surviving and dropped`);
    }
    const wanted: [number, ShareKind][] = [...survivorSet].map((v) => [v, 'self-mask'] as [number, ShareKind]).concat(dropped.map((u) => [u, 'mask-key'] as [number, ShareKind]));
    for (const [peer, kind] of wanted) {
      const before = this.#revealed.get(`${round}:${peer}`);
      if (before && before !== kind) {
        throw new RevealRefused(`round ${round}: the ${before} share of site ${peer} was already revealed; its ${kind} share is refused`);
      }
    }
    for (const [peer, kind] of wanted) this.#revealed.set(`${round}:${peer}`, kind);
  }

  /** The kind revealed for a peer in a round, if any. */
  revealedFor(round: number, peer: number): ShareKind | undefined {
    return this.#revealed.get(`${round}:${peer}`);
  }
}
