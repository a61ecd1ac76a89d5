/**
 * A client written from docs/protocol.md alone: node-seal, @msgpack/msgpack and node:crypto,
 * nothing from src/. It proves the document is enough to use the service, and lets the tests
 * build inputs our own client would never make (public-key encryption, uncompressed or
 * transparent ciphertexts, damaged keys).
 */
import { createHash } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import SEAL from 'node-seal/throws';
import type { SEALContext } from 'node-seal/throws';

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
  circuit: { single?: { unitStride: number } };
  featureCount: number;
  recordsPerInput: number;
  ciphertextsPerInput: number;
  galoisSteps: number[];
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

/** §4.2: SHA-256 over the length-prefixed relin and galois bytes. */
export function keyIdOf(relin: Uint8Array, galois: Uint8Array | null): string {
  const g = galois ?? new Uint8Array();
  return createHash('sha256').update(u64be(relin.length)).update(relin).update(u64be(g.length)).update(g).digest('hex');
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

  /** §4.2: the keys message (not sent). */
  keysMessage(mode: 'none' | 'zlib' | 'zstd' = 'zstd', steps = this.plan.galoisSteps): { type: 'keys'; protocol: 1; modelHash: string; planHash: string; keyId: string; relin: Uint8Array; galois: Uint8Array | null } {
    const m = this.seal.ComprModeType[mode];
    const rk = this.#keygen.createRelinKeysSerializable();
    const relin = rk.saveToArray(m) as Uint8Array;
    rk.delete();
    let galois: Uint8Array | null = null;
    if (steps.length > 0) {
      const gk = this.#keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(steps));
      galois = gk.saveToArray(m) as Uint8Array;
      gk.delete();
    }
    return { type: 'keys', protocol: 1, modelHash: this.card.modelHash, planHash: this.plan.hash, keyId: keyIdOf(relin, galois), relin, galois };
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

  /** §4.4: slot vectors of an input. */
  pack(records: readonly Int32Array[]): BigInt64Array[] {
    const n = this.slots;
    if (this.plan.layout === 'batch') {
      return Array.from({ length: this.plan.featureCount }, (_, j) => {
        const v = new BigInt64Array(n);
        records.forEach((q, r) => (v[r] = BigInt(q[j]!)));
        return v;
      });
    }
    const S = this.plan.circuit.single!.unitStride;
    const v = new BigInt64Array(n);
    records[0]!.forEach((q, i) => {
      for (let k = 0; k < S; k++) v[i * S + k] = BigInt(q);
    });
    return [v];
  }

  /** §4.5, with public-key encryption (the service accepts any fresh encryption). */
  encrypt(vector: BigInt64Array, mode: 'none' | 'zlib' | 'zstd' = 'zstd'): Uint8Array {
    const pt = new this.seal.Plaintext();
    const ct = new this.seal.Ciphertext();
    try {
      this.#encoder.encode(vector, pt);
      this.#encryptor.encrypt(pt, ct);
      return ct.saveToArray(this.seal.ComprModeType[mode]) as Uint8Array;
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  classifyMessage(records: readonly Int32Array[], mode: 'none' | 'zlib' | 'zstd' = 'zstd') {
    return { type: 'classify', protocol: 1, modelHash: this.card.modelHash, planHash: this.plan.hash, keyId: this.keyId, layout: this.plan.layout, count: records.length, ciphertexts: this.pack(records).map((v) => this.encrypt(v, mode)) };
  }

  /** §4.6: the integer scores a result carries. */
  decrypt(result: { count: number; ciphertext: Uint8Array }): number[] {
    const ct = new this.seal.Ciphertext();
    const pt = new this.seal.Plaintext();
    try {
      ct.loadFromArray(this.context, result.ciphertext);
      this.#decryptor.decrypt(ct, pt);
      const slots = this.#encoder.decodeBigInt64(pt) as BigInt64Array;
      return Array.from(slots.subarray(0, this.plan.layout === 'single' ? 1 : result.count), Number);
    } finally {
      ct.delete();
      pt.delete();
    }
  }

  /** Encrypts, classifies and decrypts records (one input's worth). */
  async classify(records: readonly Int32Array[]): Promise<number[]> {
    const answer = await postMsgpack(`${this.base}/api/models/${this.card.id}/classify`, this.classifyMessage(records));
    if (answer.status !== 200) throw new Error(`classify: ${answer.status} ${JSON.stringify(answer.json)}`);
    return this.decrypt(answer.message);
  }

  dispose(): void {
    [this.#encoder, this.#decryptor, this.#encryptor, this.#publicKey, this.#keygen, this.context].forEach((o) => o.delete());
  }
}
