/**
 * The client's side of encryption: holds the secret key, makes evaluation keys, encrypts
 * quantized records and decrypts scores. In the browser this lives inside he.worker only.
 *
 * Encryption is symmetric and seeded (half the bytes of public-key encryption). Batch inputs go
 * uncompressed, single ones (coefficient-encoded feature vectors, quadratic.ts) zstd-compressed,
 * keys compressed (docs/protocol.md §4.5). Batch results are taken only uncompressed and within
 * the plan's size (§4.6); single ones only in the sparse format, checked against the plan before
 * anything is allocated (sparse-result.ts). The secret key never leaves except through
 * `exportSecretKey`, which callers use only to wrap it for storage or a passphrase backup.
 */
import { hashParts } from '../hash.ts';
import type { QuantizedRecord } from '../model/reference.ts';
import { contextFor } from './params.ts';
import { loadSeal, sealErrorText, type Seal, type SEALContext, type SecretKey, type Ciphertext } from './seal.ts';
import { packBatch } from './layout.ts';
import { ciphertextBytesBound, readSealHeader, type SealCompression } from './serialized.ts';
import { SparseResultError, unpackSparseResult } from './sparse-result.ts';
import { coefficientPlaintext, readCoefficients } from './coefficients.ts';
import { outputPositions, packRegions } from './quadratic.ts';
import type { HePlan, QuadraticCircuit } from './plan.ts';
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
  readonly #plainModulus: bigint;
  /** Single plans: the coefficient of each region's output. */
  readonly #positions: number[];

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
    this.#plainModulus = BigInt(plan.params.plainModulus);
    this.#positions = plan.circuit.layout === 'single' ? outputPositions(plan.circuit.regionLength, plan.circuit.regions) : [];
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

  /**
   * The public keys the plan names (plan.keys), seeded and zstd-compressed: relinearization keys
   * for batch plans; for single plans the public key, under which the server re-randomizes
   * each result. Galois keys only for rotation steps, which no plan has today.
   */
  evaluationKeys(): EvaluationKeyBundle {
    const zstd = this.#seal.ComprModeType.zstd;
    const save = (key: { saveToArray(mode: typeof zstd): unknown; delete(): void }): Uint8Array => {
      try {
        return key.saveToArray(zstd) as Uint8Array;
      } finally {
        key.delete();
      }
    };
    const relin = this.plan.keys.relin ? save(this.#keygen.createRelinKeysSerializable()) : null;
    const galois = this.plan.galoisSteps.length > 0 ? save(this.#keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(this.plan.galoisSteps))) : null;
    const publicKey = this.plan.keys.publicKey ? save(this.#keygen.createPublicKeySerializable()) : null;
    return { planHash: this.plan.hash, keyId: keyIdOf(relin, galois, publicKey), relin, galois, publicKey };
  }

  #encrypt(values: BigInt64Array): Uint8Array {
    const pt = new this.#seal.Plaintext();
    try {
      this.#encoder.encode(values, pt);
      const ser = this.#encryptor.encryptSymmetricSerializable(pt);
      // Seeded but not compressed: SEAL's words carry 46–60 random bits in 64, so zstd saves
      // at most ~15% on batch inputs, while inflating them was ~15% of the server's evaluation
      // time (docs/protocol.md). Keys, sent once, stay compressed.
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

  #single(what: string): QuadraticCircuit {
    if (this.plan.circuit.layout !== 'single') throw new Error(`${what} needs a single-record plan`);
    return this.plan.circuit;
  }

  /** Single layout: one record in one ciphertext (region 0). */
  encryptRecord(record: QuantizedRecord): EncryptedInput {
    this.#single('encryptRecord');
    return this.encryptVariants([record]);
  }

  /**
   * Regions of a single-layout ciphertext (quadratic.ts): how many records `encryptVariants` can
   * carry in the one ciphertext a single prediction sends.
   */
  get regions(): number {
    return this.#single('regions').regions;
  }

  /**
   * Single layout: a record and variants of it, record r in region r, in one ciphertext of the
   * same size as `encryptRecord`'s. The server runs the same product; `decryptVariants` reads
   * each region's output. Seeded and zstd-compressed: the coefficients of a seeded ciphertext's
   * c0 are below its primes (46–47 bits of 64), so zstd saves about 15% (65.6 → 55.8 KB).
   */
  encryptVariants(records: readonly QuantizedRecord[]): EncryptedInput {
    this.#single('encryptVariants');
    const coeffs = packRegions(records, this.plan.featureCount, this.plan.params.polyModulusDegree, this.regions);
    const pt = coefficientPlaintext(this.#seal, this.#context, this.plan.params.polyModulusDegree, this.#plainModulus, coeffs);
    try {
      const ser = this.#encryptor.encryptSymmetricSerializable(pt);
      try {
        return this.#envelope(1, [ser.saveToArray(this.#seal.ComprModeType.zstd) as Uint8Array]);
      } finally {
        ser.delete();
      }
    } finally {
      pt.delete();
    }
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

  #load(result: EncryptedResult, everyPosition = false): Ciphertext {
    if (result.planHash !== this.plan.hash) throw new HeInputError(`the result was computed for plan ${result.planHash.slice(0, 12)}…, not this client's plan ${this.plan.hash.slice(0, 12)}…`);
    if (this.plan.circuit.layout === 'single') return this.#loadSparse(result, this.plan.circuit, everyPosition);
    return this.#loadSeal(result);
  }

  /** The data level: results of single plans stay there (the sparse format has its own widths). */
  get #dataPrimes(): number {
    return this.plan.params.coeffModulus.length - 1;
  }

  /**
   * A sparse result (sparse-result.ts), checked against the plan's widths, positions and length
   * before it is expanded into SEAL bytes of one data-level ciphertext. `everyPosition`: the
   * compiler's full result, with c0 at every coefficient.
   */
  #loadSparse(result: EncryptedResult, circuit: QuadraticCircuit, everyPosition: boolean): Ciphertext {
    const positions = everyPosition ? Array.from({ length: this.plan.params.polyModulusDegree }, (_, i) => i) : this.#positions;
    let bytes: Uint8Array;
    try {
      bytes = unpackSparseResult(this.plan.params, result.ciphertext, positions, { ...circuit.result, primes: this.#dataPrimes }, (primes) => this.#templateAt(primes));
    } catch (e) {
      if (e instanceof SparseResultError) throw new HeInputError(e.message);
      throw e;
    }
    return this.#loadSeal({ ...result, ciphertext: bytes });
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

  /** Decrypts a result and decodes every slot (batch). */
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

  /** Decrypts a single result and reads the first `count` regions' outputs. */
  #outputs(result: EncryptedResult, count: number): number[] {
    const ct = this.#load(result);
    const pt = new this.#seal.Plaintext();
    try {
      this.#decryptor.decrypt(ct, pt);
      return readCoefficients(this.#seal, pt, this.#plainModulus, this.#positions.slice(0, count)).map(Number);
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  /** Decrypts the integer network outputs, one per record the input carried. */
  decryptScores(result: EncryptedResult): number[] {
    if (this.plan.layout === 'single') return this.#outputs(result, 1);
    return Array.from(this.#slots(result).subarray(0, result.count), Number);
  }

  /**
   * The outputs of the first `count` regions of a single-layout result, region 0 (the record's
   * own score, what decryptScores gives) first.
   */
  decryptVariants(result: EncryptedResult, count: number): number[] {
    const regions = this.#single('decryptVariants').regions;
    if (!Number.isInteger(count) || count < 1 || count > regions) throw new RangeError(`a result holds 1 to ${regions} region outputs, asked for ${count}`);
    return this.#outputs(result, count);
  }

  /**
   * Noise budget left in a result, in bits (0 means decryption is no longer exact). A single
   * result carries c0 at its output positions only, so its budget is measurable only on a result
   * with every position (`everyPosition`, which the compiler asks the evaluator for).
   */
  noiseBudget(result: EncryptedResult, everyPosition = false): number {
    if (this.plan.layout === 'single' && !everyPosition) throw new Error('a single-record result carries c0 at its output positions only; measure the budget on a result with every position');
    const ct = this.#load(result, everyPosition);
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
