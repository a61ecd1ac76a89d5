/**
 * A client written from docs/protocol.md alone: node-seal, @msgpack/msgpack and node:crypto,
 * and from src/ only the sparse result's reader (a pure codec the page specifies byte by byte).
 * It proves the document is enough to use the service, and lets the tests build inputs our own
 * client would never make (public-key encryption, uncompressed or transparent ciphertexts,
 * damaged keys, keys of the wrong kind).
 */
import { createHash } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import SEAL from 'node-seal/throws';
import type { SEALContext } from 'node-seal/throws';
import { unpackSparseResult } from '../../src/core/he/sparse-result.ts';

type Seal = Awaited<ReturnType<typeof SEAL>>;
type Layout = 'batch' | 'single';

/** The parts of a model card this client reads (docs/protocol.md §3). */
export interface Card {
  id: string;
  modelHash: string;
  features: { name: string; min: number; max: number }[];
  input: { bits: number; scale: number; mean: number[]; std: number[]; impute: number[] };
  output: { scale: number; bias: number };
  plans: Record<Layout, Plan>;
}

interface Plan {
  hash: string;
  layout: Layout;
  params: { scheme: 'bfv' | 'bgv'; polyModulusDegree: number; coeffModulus: string[]; plainModulus: string };
  /** single: the quadratic coefficient layout (§3, §4.4) and the sparse result's widths (§4.6). */
  circuit: { layout: Layout; regionLength?: number; regions?: number; result?: { k0: number; k1: number } };
  featureCount: number;
  recordsPerInput: number;
  ciphertextsPerInput: number;
  galoisSteps: number[];
  keys: { relin: boolean; publicKey: boolean };
}

type Mode = 'none' | 'zlib' | 'zstd';

/** The keys message of §5 (not sent). */
export interface KeysMessage {
  type: 'keys';
  protocol: 2;
  modelHash: string;
  planHash: string;
  keyId: string;
  relin: Uint8Array | null;
  galois: Uint8Array | null;
  publicKey: Uint8Array | null;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  json?: any;
  message?: any;
}

let sealLoading: Promise<Seal> | undefined;

/** POSTs a MessagePack map; decodes MessagePack or JSON answers. */
export async function postMsgpack(url: string, body: unknown | Uint8Array): Promise<HttpAnswer> {
  const bytes = body instanceof Uint8Array ? body : encode(body);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: bytes });
  const type = res.headers.get('content-type') ?? '';
  const raw = new Uint8Array(await res.arrayBuffer());
  if (type.startsWith('application/msgpack')) return { status: res.status, headers: res.headers, message: decode(raw) };
  return { status: res.status, headers: res.headers, json: raw.length ? JSON.parse(new TextDecoder().decode(raw)) : undefined };
}

function u64be(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** §4.2: SHA-256 over the length-prefixed relin, galois and publicKey bytes (nil as 0 bytes). */
export function keyIdOf(relin: Uint8Array | null, galois: Uint8Array | null, publicKey: Uint8Array | null): string {
  const hash = createHash('sha256');
  for (const part of [relin, galois, publicKey]) {
    const bytes = part ?? new Uint8Array();
    hash.update(u64be(bytes.length)).update(bytes);
  }
  return hash.digest('hex');
}

/** §4.4, single: z(q) = q, then q_i·q_k for i ≤ k, row-major. */
export function featureVector(q: Int32Array): number[] {
  const z = Array.from(q);
  for (let i = 0; i < q.length; i++) for (let k = i; k < q.length; k++) z.push(q[i]! * q[k]!);
  return z;
}

export class IndependentClient {
  readonly base: string;
  readonly card: Card;
  readonly plan: Plan;
  readonly seal: Seal;
  readonly context: SEALContext;
  readonly #keygen;
  readonly #encoder;
  readonly #encryptor;
  readonly #decryptor;
  readonly #publicKey;
  keyId = '';

  private constructor(base: string, card: Card, layout: Layout, seal: Seal) {
    this.base = base;
    this.card = card;
    this.plan = card.plans[layout];
    this.seal = seal;
    // §4.1
    const p = this.plan.params;
    const parms = new seal.EncryptionParameters(seal.SchemeType[p.scheme]);
    parms.setPolyModulusDegree(p.polyModulusDegree);
    const mods = p.coeffModulus.map((q) => new seal.Modulus(BigInt(q)));
    const vec = seal.vecFromArrayModulus(mods);
    parms.setCoeffModulus(vec);
    const t = new seal.Modulus(BigInt(p.plainModulus));
    parms.setPlainModulus(t);
    this.context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
    [parms, vec, t, ...mods].forEach((o) => o.delete());
    if (!this.context.parametersSet()) throw new Error('the card parameters are not valid');
    this.#keygen = new seal.KeyGenerator(this.context);
    this.#publicKey = this.#keygen.createPublicKey();
    const sk = this.#keygen.secretKey();
    this.#encryptor = new seal.Encryptor(this.context, this.#publicKey, sk);
    this.#decryptor = new seal.Decryptor(this.context, sk);
    sk.delete();
    this.#encoder = new seal.BatchEncoder(this.context);
  }

  static async connect(base: string, modelId: string, layout: Layout): Promise<IndependentClient> {
    const res = await fetch(`${base}/api/models/${modelId}`);
    if (res.status !== 200) throw new Error(`card: ${res.status}`);
    sealLoading ??= SEAL();
    return new IndependentClient(base, (await res.json()) as Card, layout, await sealLoading);
  }

  get slots(): number {
    return this.#encoder.slotCount();
  }

  /** single: L, the coefficients of one record's region, and the regions of one ciphertext. */
  get regionLength(): number {
    return this.plan.circuit.regionLength!;
  }

  get regions(): number {
    return this.plan.circuit.regions!;
  }

  /** single: where region r's score lands (§4.6): r·L + L − 1. */
  outputPositions(): number[] {
    return Array.from({ length: this.regions }, (_, r) => r * this.regionLength + this.regionLength - 1);
  }

  /**
   * §4.2: the keys message (not sent), with the keys the plan's `keys` names: relin for batch,
   * the public key (seeded) for single. `kinds` overrides which are sent, to test refusals.
   */
  keysMessage(mode: Mode = 'zstd', kinds: { relin: boolean; publicKey: boolean; galoisSteps: number[] } = { ...this.plan.keys, galoisSteps: this.plan.galoisSteps }): KeysMessage {
    const m = this.seal.ComprModeType[mode];
    let relin: Uint8Array | null = null;
    if (kinds.relin) {
      const rk = this.#keygen.createRelinKeysSerializable();
      relin = rk.saveToArray(m) as Uint8Array;
      rk.delete();
    }
    let galois: Uint8Array | null = null;
    if (kinds.galoisSteps.length > 0) {
      const gk = this.#keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(kinds.galoisSteps));
      galois = gk.saveToArray(m) as Uint8Array;
      gk.delete();
    }
    let publicKey: Uint8Array | null = null;
    if (kinds.publicKey) {
      const pk = this.#keygen.createPublicKeySerializable();
      publicKey = pk.saveToArray(m) as Uint8Array;
      pk.delete();
    }
    return { type: 'keys', protocol: 2, modelHash: this.card.modelHash, planHash: this.plan.hash, keyId: keyIdOf(relin, galois, publicKey), relin, galois, publicKey };
  }

  async registerKeys(): Promise<HttpAnswer> {
    const message = this.keysMessage();
    const answer = await postMsgpack(`${this.base}/api/keys`, message);
    if (answer.status === 200 || answer.status === 201) this.keyId = message.keyId;
    return answer;
  }

  /** §4.3 */
  quantize(values: readonly (number | null)[]): Int32Array {
    const { bits, scale, mean, std, impute } = this.card.input;
    const qMax = 2 ** (bits - 1) - 1;
    return Int32Array.from(values, (x, i) => Math.max(-qMax, Math.min(qMax, Math.round((((x ?? impute[i]!) - mean[i]!) / std[i]!) * scale))));
  }

  /**
   * §4.4: the vectors of an input. batch: one slot vector per feature. single: one vector of n
   * plaintext coefficients, record r's z in region r (the first record is the request's, the
   * others fill further regions as variants would).
   */
  pack(records: readonly Int32Array[]): BigInt64Array[] {
    const n = this.slots;
    if (this.plan.layout === 'batch') {
      return Array.from({ length: this.plan.featureCount }, (_, j) => {
        const v = new BigInt64Array(n);
        records.forEach((q, r) => (v[r] = BigInt(q[j]!)));
        return v;
      });
    }
    const L = this.regionLength;
    const v = new BigInt64Array(n);
    records.forEach((q, r) => featureVector(q).forEach((x, m) => (v[r * L + m] = BigInt(x))));
    return [v];
  }

  /**
   * §4.5. batch: slots batch-encoded, encrypted with the public key (the service accepts any
   * fresh encryption). single: coefficients written into a plaintext template (values mod t),
   * encrypted symmetrically and seeded; `seeded = false` gives the full ciphertext.
   */
  encrypt(vector: BigInt64Array, mode: Mode = 'zstd', seeded = true): Uint8Array {
    const pt = this.plan.layout === 'single' ? this.#coefficientPlaintext(vector) : new this.seal.Plaintext();
    const ct = new this.seal.Ciphertext();
    try {
      if (this.plan.layout === 'batch') {
        this.#encoder.encode(vector, pt);
        this.#encryptor.encrypt(pt, ct);
        return ct.saveToArray(this.seal.ComprModeType[mode]) as Uint8Array;
      }
      if (!seeded) {
        this.#encryptor.encryptSymmetric(pt, ct);
        return ct.saveToArray(this.seal.ComprModeType[mode]) as Uint8Array;
      }
      const serializable = this.#encryptor.encryptSymmetricSerializable(pt);
      try {
        return serializable.saveToArray(this.seal.ComprModeType[mode]) as Uint8Array;
      } finally {
        serializable.delete();
      }
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  /** §4.5: a Plaintext whose coefficient i is vector[i] mod t, by patching SEAL's bytes. */
  #coefficientPlaintext(vector: BigInt64Array): InstanceType<Seal['Plaintext']> {
    const n = this.plan.params.polyModulusDegree;
    const t = BigInt(this.plan.params.plainModulus);
    const template = new this.seal.Plaintext(n);
    const bytes = (template.saveToArray(this.seal.ComprModeType.none) as Uint8Array).slice();
    template.delete();
    const view = new DataView(bytes.buffer);
    const at = bytes.length - n * 8;
    vector.forEach((x, i) => view.setBigUint64(at + i * 8, ((x % t) + t) % t, true));
    const pt = new this.seal.Plaintext();
    pt.loadFromArray(this.context, bytes);
    return pt;
  }

  /** §5: `count` is the records of a batch input, and 1 for single (its other regions are the client's own). */
  classifyMessage(records: readonly Int32Array[], mode: Mode = 'zstd') {
    const count = this.plan.layout === 'single' ? 1 : records.length;
    return { type: 'classify', protocol: 2, modelHash: this.card.modelHash, planHash: this.plan.hash, keyId: this.keyId, layout: this.plan.layout, count, ciphertexts: this.pack(records).map((v) => this.encrypt(v, mode)) };
  }

  /**
   * §4.6: the integer scores a result carries. batch: slot r for r < count. single: the sparse
   * result rebuilt as a ciphertext, decrypted, and read at the output positions of the first
   * `regions` regions.
   */
  decrypt(result: { count: number; ciphertext: Uint8Array }, regions = 1): number[] {
    const ct = new this.seal.Ciphertext();
    const pt = new this.seal.Plaintext();
    try {
      if (this.plan.layout === 'batch') {
        ct.loadFromArray(this.context, result.ciphertext);
        this.#decryptor.decrypt(ct, pt);
        const slots = this.#encoder.decodeBigInt64(pt) as BigInt64Array;
        return Array.from(slots.subarray(0, result.count), Number);
      }
      const positions = this.outputPositions();
      const primes = this.plan.params.coeffModulus.length - 1;
      const rebuilt = unpackSparseResult(this.plan.params, result.ciphertext, positions, { ...this.plan.circuit.result!, primes }, () => this.#zeroCiphertext());
      ct.loadFromArray(this.context, rebuilt);
      this.#decryptor.decrypt(ct, pt);
      const bytes = pt.saveToArray(this.seal.ComprModeType.none) as Uint8Array;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const count = pt.coeffCount();
      const at = bytes.length - count * 8;
      const t = BigInt(this.plan.params.plainModulus);
      return positions.slice(0, regions).map((p) => {
        const v = p < count ? view.getBigUint64(at + p * 8, true) : 0n;
        return Number(v > t / 2n ? v - t : v);
      });
    } finally {
      ct.delete();
      pt.delete();
    }
  }

  /** A full symmetric encryption of zero at the data level: the template a sparse result fills. */
  #zeroCiphertext(): Uint8Array {
    const pt = new this.seal.Plaintext(this.plan.params.polyModulusDegree);
    const ct = new this.seal.Ciphertext();
    try {
      this.#encryptor.encryptSymmetric(pt, ct);
      return ct.saveToArray(this.seal.ComprModeType.none) as Uint8Array;
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  /** Encrypts, classifies and decrypts records (one input's worth; for single, one per region). */
  async classify(records: readonly Int32Array[]): Promise<number[]> {
    const answer = await postMsgpack(`${this.base}/api/models/${this.card.id}/classify`, this.classifyMessage(records));
    if (answer.status !== 200) throw new Error(`classify: ${answer.status} ${JSON.stringify(answer.json)}`);
    return this.decrypt(answer.message, this.plan.layout === 'single' ? records.length : 1);
  }

  dispose(): void {
    [this.#encoder, this.#decryptor, this.#encryptor, this.#publicKey, this.#keygen, this.context].forEach((o) => o.delete());
  }
}
