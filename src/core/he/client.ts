/**
 * The client's side of encryption: holds the secret key, makes evaluation keys, encrypts
 * quantized records and decrypts scores. In the browser this lives inside he.worker only.
 *
 * Encryption is symmetric and seeded (half the bytes of public-key encryption), inputs go
 * uncompressed and keys compressed (docs/protocol.md §4.5); results are taken only
 * uncompressed and within the plan's size (§4.6). The secret key never leaves except through
 * `exportSecretKey`, which callers use only to wrap it for storage or a passphrase backup.
 */
import { hashParts } from '../hash.ts';
import type { QuantizedRecord } from '../model/reference.ts';
import { contextFor } from './params.ts';
import { loadSeal, sealErrorText, type Seal, type SEALContext, type SecretKey, type Ciphertext } from './seal.ts';
import { packBatch, packSingle, packSingleRegions, singleRegions, singleSlotsUsed } from './layout.ts';
import { ciphertextBytesBound, readSealHeader, type SealCompression } from './serialized.ts';
import { isPackedResult, PackedResultError, unpackCiphertext } from './packed-result.ts';
import type { HePlan } from './plan.ts';
import { HeInputError, keyIdOf, type EncryptedInput, type EncryptedResult, type EvaluationKeyBundle } from './types.ts';

export class HeClient implements Disposable {
  readonly plan: HePlan;
  readonly #seal: Seal;
  readonly #context: SEALContext;
  readonly #secretKey: SecretKey;
  readonly #keygen;
  readonly #publicKey;
  readonly #encryptor;
  readonly #decryptor;
  readonly #encoder;

  private constructor(seal: Seal, plan: HePlan, secretKey?: Uint8Array) {
    this.#seal = seal;
    this.plan = plan;
    this.#context = contextFor(seal, plan.params);
    if (secretKey) {
      const sk = new seal.SecretKey();
      try {
        sk.loadFromArray(this.#context, secretKey);
      } catch (e) {
        sk.delete();
        throw new HeInputError(`the stored secret key does not fit this model's encryption parameters (${sealErrorText(e)})`);
      }
      this.#keygen = new seal.KeyGenerator(this.#context, sk);
      sk.delete();
    } else {
      this.#keygen = new seal.KeyGenerator(this.#context);
    }
    this.#secretKey = this.#keygen.secretKey();
    // SEAL's Encryptor wants a public key even for symmetric use; it is never sent anywhere.
    this.#publicKey = this.#keygen.createPublicKey();
    this.#encryptor = new seal.Encryptor(this.#context, this.#publicKey, this.#secretKey);
    this.#decryptor = new seal.Decryptor(this.#context, this.#secretKey);
    this.#encoder = new seal.BatchEncoder(this.#context);
  }

  /** A client for a plan, with a new key pair or the given serialized secret key. */
  static async create(plan: HePlan, secretKey?: Uint8Array): Promise<HeClient> {
    return new HeClient(await loadSeal(), plan, secretKey);
  }

  get slotCount(): number {
    return this.#encoder.slotCount();
  }

  /** The serialized secret key. Handle with care: wrap it before it touches storage. */
  exportSecretKey(): Uint8Array {
    return this.#secretKey.saveToArray(this.#seal.ComprModeType.zstd) as Uint8Array;
  }

  /** A short, stable fingerprint of the key pair, for people to compare. */
  fingerprint(): string {
    return hashParts([new TextEncoder().encode('cipherclinic key fingerprint v1'), this.exportSecretKey()]).slice(0, 16);
  }

  /** Relinearization keys, plus Galois keys for the plan's rotation steps only; seeded, compressed. */
  evaluationKeys(): EvaluationKeyBundle {
    const zstd = this.#seal.ComprModeType.zstd;
    const rk = this.#keygen.createRelinKeysSerializable();
    const relin = rk.saveToArray(zstd) as Uint8Array;
    rk.delete();
    let galois: Uint8Array | null = null;
    if (this.plan.galoisSteps.length > 0) {
      const gk = this.#keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(this.plan.galoisSteps));
      galois = gk.saveToArray(zstd) as Uint8Array;
      gk.delete();
    }
    return { planHash: this.plan.hash, keyId: keyIdOf(relin, galois), relin, galois };
  }

  #encrypt(values: BigInt64Array): Uint8Array {
    const pt = new this.#seal.Plaintext();
    try {
      this.#encoder.encode(values, pt);
      const ser = this.#encryptor.encryptSymmetricSerializable(pt);
      // Seeded but not compressed: SEAL's words carry 46–60 random bits in 64, so zstd saves
      // at most ~15% on batch inputs and nothing on single ones, while inflating them was ~15%
      // of the server's evaluation time (docs/protocol.md). Keys, sent once, stay compressed.
      const bytes = ser.saveToArray(this.#seal.ComprModeType.none) as Uint8Array;
      ser.delete();
      return bytes;
    } finally {
      pt.delete();
    }
  }

  #envelope(count: number, ciphertexts: Uint8Array[]): EncryptedInput {
    return { layout: this.plan.layout, modelHash: this.plan.modelHash, planHash: this.plan.hash, count, ciphertexts };
  }

  /** Batch layout: up to `plan.recordsPerInput` records, one ciphertext per feature. */
  encryptBatch(records: readonly QuantizedRecord[]): EncryptedInput {
    if (this.plan.layout !== 'batch') throw new Error('encryptBatch needs a batch plan');
    const vectors = packBatch(records, this.plan.featureCount, this.slotCount);
    return this.#envelope(records.length, vectors.map((v) => this.#encrypt(v)));
  }

  /** Single layout: one record, replicated as the plan's packing asks, in one ciphertext. */
  encryptRecord(record: QuantizedRecord): EncryptedInput {
    if (this.plan.layout !== 'single' || !this.plan.circuit.single) throw new Error('encryptRecord needs a single-record plan');
    return this.#envelope(1, [this.#encrypt(packSingle(this.plan.circuit.single, record, this.slotCount))]);
  }

  /**
   * Regions of a single-layout ciphertext (layout.ts): how many records `encryptVariants` can
   * carry in the one ciphertext a single prediction sends.
   */
  get regions(): number {
    if (this.plan.layout !== 'single' || !this.plan.circuit.single) throw new Error('regions exist in single-record plans only');
    return singleRegions(this.plan.circuit.single, this.slotCount);
  }

  /**
   * Single layout: a record and variants of it, record r in region r, in one ciphertext of the
   * same size as `encryptRecord`'s. The server runs the same circuit; `decryptVariants` reads
   * each region's output.
   */
  encryptVariants(records: readonly QuantizedRecord[]): EncryptedInput {
    if (this.plan.layout !== 'single' || !this.plan.circuit.single) throw new Error('encryptVariants needs a single-record plan');
    return this.#envelope(1, [this.#encrypt(packSingleRegions(this.plan.circuit.single, records, this.slotCount))]);
  }

  /** Encrypts any number of records, split into as many inputs as the plan needs. */
  encryptRecords(records: readonly QuantizedRecord[]): EncryptedInput[] {
    if (this.plan.layout === 'single') return records.map((r) => this.encryptRecord(r));
    const out: EncryptedInput[] = [];
    for (let i = 0; i < records.length; i += this.plan.recordsPerInput) out.push(this.encryptBatch(records.slice(i, i + this.plan.recordsPerInput)));
    return out;
  }

  readonly #templates = new Map<number, Uint8Array>();

  /** A size-2 ciphertext of this plan at a level of `primes` primes, uncompressed, coefficient form. */
  #templateAt(primes: number): Uint8Array {
    const cached = this.#templates.get(primes);
    if (cached) return cached;
    const pt = new this.#seal.Plaintext();
    const ct = new this.#seal.Ciphertext();
    const ev = new this.#seal.Evaluator(this.#context);
    try {
      this.#encoder.encode(new BigInt64Array(this.slotCount), pt);
      this.#encryptor.encryptSymmetric(pt, ct);
      while (ct.coeffModulusSize() > primes) ev.cipherModSwitchToNextInplace(ct);
      if (ct.isNttForm()) ev.cipherTransformFromNttInplace(ct);
      const bytes = ct.saveToArray(this.#seal.ComprModeType.none) as Uint8Array;
      this.#templates.set(primes, bytes);
      return bytes;
    } finally {
      ev.delete();
      ct.delete();
      pt.delete();
    }
  }

  #load(result: EncryptedResult): Ciphertext {
    if (result.planHash !== this.plan.hash) throw new HeInputError(`the result was computed for plan ${result.planHash.slice(0, 12)}…, not this client's plan ${this.plan.hash.slice(0, 12)}…`);
    // A packed result (packed-result.ts) is checked against the plan before it is expanded into
    // SEAL bytes no larger than a first-level ciphertext.
    if (isPackedResult(result.ciphertext)) {
      let bytes: Uint8Array;
      try {
        bytes = unpackCiphertext(this.plan.params, result.ciphertext, (primes) => this.#templateAt(primes));
      } catch (e) {
        if (e instanceof PackedResultError) throw new HeInputError(e.message);
        throw e;
      }
      return this.#loadSeal({ ...result, ciphertext: bytes });
    }
    return this.#loadSeal(result);
  }

  #loadSeal(result: EncryptedResult): Ciphertext {
    // SEAL would inflate a compressed result in full before checking it: a server (or anyone on
    // the way) could send a decompression bomb. Results come uncompressed, within the plan's size.
    let compression: SealCompression;
    try {
      compression = readSealHeader(result.ciphertext, 'the result ciphertext');
    } catch (e) {
      throw new HeInputError((e as Error).message);
    }
    if (compression !== 'none') throw new HeInputError(`the result ciphertext is ${compression}-compressed; results are taken only uncompressed`);
    const bound = ciphertextBytesBound(this.plan.params);
    if (result.ciphertext.length > bound) throw new HeInputError(`the result ciphertext is ${result.ciphertext.length} bytes; this plan's are at most ${bound}`);
    const ct = new this.#seal.Ciphertext();
    try {
      ct.loadFromArray(this.#context, result.ciphertext);
      if (this.plan.params.scheme === 'bgv' && !ct.isNttForm()) {
        const ev = new this.#seal.Evaluator(this.#context);
        try {
          ev.cipherTransformToNttInplace(ct);
        } finally {
          ev.delete();
        }
      }
      return ct;
    } catch (e) {
      ct.delete();
      throw new HeInputError(`the result ciphertext could not be read: ${sealErrorText(e)}`);
    }
  }

  /** Decrypts a result and decodes every slot. */
  #slots(result: EncryptedResult): BigInt64Array {
    const ct = this.#load(result);
    const pt = new this.#seal.Plaintext();
    try {
      this.#decryptor.decrypt(ct, pt);
      return this.#encoder.decodeBigInt64(pt) as BigInt64Array;
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  /** Decrypts the integer network outputs, one per record the input carried. */
  decryptScores(result: EncryptedResult): number[] {
    return Array.from(this.#slots(result).subarray(0, result.layout === 'single' ? 1 : result.count), Number);
  }

  /**
   * The outputs of the first `count` regions of a single-layout result, region 0 (the record's
   * own score, what decryptScores gives) first.
   */
  decryptVariants(result: EncryptedResult, count: number): number[] {
    if (this.plan.layout !== 'single' || !this.plan.circuit.single) throw new Error('decryptVariants needs a single-record plan');
    if (!Number.isInteger(count) || count < 1 || count > this.regions) throw new RangeError(`a result holds 1 to ${this.regions} region outputs, asked for ${count}`);
    const R = singleSlotsUsed(this.plan.circuit.single);
    const slots = this.#slots(result);
    return Array.from({ length: count }, (_, r) => Number(slots[r * R]!));
  }

  /** Noise budget left in a result, in bits (0 means decryption is no longer exact). */
  noiseBudget(result: EncryptedResult): number {
    const ct = this.#load(result);
    try {
      return this.#decryptor.invariantNoiseBudget(ct);
    } finally {
      ct.delete();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  dispose(): void {
    this.#encoder.delete();
    this.#decryptor.delete();
    this.#encryptor.delete();
    this.#publicKey.delete();
    this.#secretKey.delete();
    this.#keygen.delete();
  }
}
