/**
 * The server's side: evaluates a model's circuit on ciphertexts with public evaluation keys
 * only. Everything a client sends is checked before SEAL sees it, and every SEAL refusal is
 * turned into an HeInputError that says what was wrong. Single-record results are re-randomized
 * under the client's public key and flooded (rerandomize.ts) before they leave, so the client
 * learns its outputs and nothing of how they were computed, then sent sparse (sparse-result.ts).
 */
import type { TernaryModel } from '../model/format.ts';
import { TernaryCircuit, type CircuitKeys } from './circuit.ts';
import { contextFor } from './params.ts';
import { loadSeal, sealErrorText, type Ciphertext, type GaloisKeys, type PublicKey, type Seal, type SEALContext } from './seal.ts';
import type { HePlan, QuadraticCircuit } from './plan.ts';
import { packSparseResult } from './sparse-result.ts';
import { rerandomize } from './rerandomize.ts';
import { outputPositions } from './quadratic.ts';
import { HeInputError, type EncryptedInput, type EncryptedResult, type EvaluationKeyBundle, type OpTimer } from './types.ts';

/** Evaluation keys loaded into SEAL, those the plan names and null for the others; free with `dispose` (or `using`). */
export class LoadedKeys implements Disposable, CircuitKeys {
  constructor(
    readonly relin: CircuitKeys['relin'],
    readonly galois: GaloisKeys | null,
    readonly publicKey: PublicKey | null,
  ) {}
  [Symbol.dispose](): void {
    this.dispose();
  }
  dispose(): void {
    this.relin?.delete();
    this.galois?.delete();
    this.publicKey?.delete();
  }
}

/** Galois element of a row rotation by `step` in SEAL's batching: 3^step mod 2n. */
export function galoisElement(step: number, n: number): number {
  const m = BigInt(2 * n);
  let r = 1n;
  let b = 3n;
  let e = BigInt(step);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return Number(r);
}

export interface EvaluateOptions {
  /**
   * Single results: c0 at every coefficient, not only the output positions. For the compiler's
   * proof with throwaway keys, which measures the noise budget of the whole flooded result.
   */
  everyPosition?: boolean;
}

export class HeEvaluator implements Disposable {
  readonly model: TernaryModel;
  readonly plan: HePlan;
  readonly #seal: Seal;
  readonly #context: SEALContext;
  readonly #circuit: TernaryCircuit;
  readonly #firstParms: string;
  readonly #positions: number[];

  private constructor(seal: Seal, model: TernaryModel, plan: HePlan) {
    if (plan.modelHash !== model.hash) throw new Error(`plan ${plan.hash.slice(0, 12)}… was compiled for another model`);
    this.#seal = seal;
    this.model = model;
    this.plan = plan;
    this.#context = contextFor(seal, plan.params);
    this.#circuit = new TernaryCircuit(seal, this.#context, model, plan.circuit);
    this.#positions = plan.circuit.layout === 'single' ? outputPositions(plan.circuit.regionLength, plan.circuit.regions) : [];
    const first = this.#context.firstParmsId();
    this.#firstParms = String(first.values());
    first.delete();
  }

  static async create(model: TernaryModel, plan: HePlan): Promise<HeEvaluator> {
    return new HeEvaluator(await loadSeal(), model, plan);
  }

  /**
   * Loads a client's evaluation keys, refusing keys for another plan and bundles that lack a key
   * the plan needs or carry one it does not. Their id is not checked here: whoever takes keys
   * from elsewhere checks it against the bytes as they arrived (the server's pool worker), before
   * any inflating.
   */
  loadKeys(bundle: Pick<EvaluationKeyBundle, 'planHash' | 'relin' | 'galois' | 'publicKey'>): LoadedKeys {
    if (bundle.planHash !== this.plan.hash) throw new HeInputError(`evaluation keys were made for plan ${bundle.planHash.slice(0, 12)}…, this model's ${this.plan.layout} plan is ${this.plan.hash.slice(0, 12)}…`);
    const needs = this.plan.keys;
    const rotates = this.plan.galoisSteps.length > 0;
    const expect = (what: string, needed: boolean, sent: Uint8Array | null) => {
      if (needed && !sent) throw new HeInputError(`this plan needs ${what} and none were sent`);
      if (!needed && sent) throw new HeInputError(`this plan takes no ${what}; send none`);
    };
    expect('relinearization keys', needs.relin, bundle.relin);
    expect('Galois keys', rotates, bundle.galois);
    expect('public key', needs.publicKey, bundle.publicKey);
    const loaded: { delete(): void }[] = [];
    const load = <K extends { loadFromArray(context: SEALContext, bytes: Uint8Array): void; delete(): void }>(key: K, bytes: Uint8Array, what: string): K => {
      loaded.push(key);
      try {
        key.loadFromArray(this.#context, bytes);
      } catch (e) {
        throw new HeInputError(`${what} could not be read: ${sealErrorText(e)}`);
      }
      return key;
    };
    try {
      const relin = bundle.relin ? load(new this.#seal.RelinKeys(), bundle.relin, 'relinearization keys') : null;
      const galois = bundle.galois ? load(new this.#seal.GaloisKeys(), bundle.galois, 'Galois keys') : null;
      for (const step of this.plan.galoisSteps) {
        if (!galois!.hasKey(galoisElement(step, this.plan.params.polyModulusDegree))) throw new HeInputError(`Galois keys lack rotation step ${step}`);
      }
      const publicKey = bundle.publicKey ? load(new this.#seal.PublicKey(), bundle.publicKey, 'the public key') : null;
      return new LoadedKeys(relin, galois, publicKey);
    } catch (e) {
      loaded.forEach((k) => k.delete());
      throw e;
    }
  }

  #check(input: EncryptedInput): void {
    const p = this.plan;
    if (input.modelHash !== p.modelHash) throw new HeInputError(`ciphertexts were made for model ${input.modelHash.slice(0, 12)}…, not ${this.model.id} (${p.modelHash.slice(0, 12)}…)`);
    if (input.planHash !== p.hash) throw new HeInputError(`ciphertexts were made for plan ${input.planHash.slice(0, 12)}…, not this model's ${p.layout} plan ${p.hash.slice(0, 12)}…`);
    if (input.layout !== p.layout) throw new HeInputError(`layout "${input.layout}" does not match the plan's "${p.layout}"`);
    if (input.ciphertexts.length !== p.ciphertextsPerInput) throw new HeInputError(`expected ${p.ciphertextsPerInput} ciphertexts, got ${input.ciphertexts.length}`);
    if (!Number.isInteger(input.count) || input.count < 1 || input.count > p.recordsPerInput) throw new HeInputError(`record count ${input.count} is outside 1..${p.recordsPerInput}`);
  }

  #load(bytes: Uint8Array, index: number): Ciphertext {
    const ct = new this.#seal.Ciphertext();
    const fail = (why: string) => {
      ct.delete();
      return new HeInputError(`ciphertext ${index}: ${why}`);
    };
    try {
      ct.loadFromArray(this.#context, bytes);
    } catch (e) {
      throw fail(`could not be read for this model's encryption parameters (${sealErrorText(e)})`);
    }
    const parms = ct.parmsId();
    const level = String(parms.values());
    parms.delete();
    if (level !== this.#firstParms) throw fail('is not a fresh encryption at this plan\'s first level');
    if (ct.size() !== 2) throw fail(`has size ${ct.size()}, expected 2`);
    if (ct.isTransparent()) throw fail('is transparent (it would reveal the result to anyone)');
    // SEAL loads either form, then throws mid-circuit on the wrong one (BFV in NTT form): refuse it here.
    const ntt = this.plan.params.scheme !== 'bfv';
    if (ct.isNttForm() !== ntt) throw fail(`must be in ${ntt ? 'NTT' : 'coefficient'} form for ${this.plan.params.scheme.toUpperCase()}`);
    return ct;
  }

  /**
   * Runs the model on one encrypted input and returns the encrypted scores. Client mistakes
   * throw HeInputError; anything else that fails after the inputs were accepted is a fault of
   * ours and surfaces as an ordinary Error.
   */
  evaluate(input: EncryptedInput, keys: LoadedKeys, timer?: OpTimer, options: EvaluateOptions = {}): EncryptedResult {
    this.#check(input);
    const cts: Ciphertext[] = [];
    try {
      input.ciphertexts.forEach((bytes, i) => cts.push(this.#load(bytes, i)));
      const out = this.#circuit.evaluate(cts, keys, timer);
      try {
        const circuit = this.plan.circuit;
        const ciphertext =
          circuit.layout === 'single'
            ? this.#privateResult(out, circuit, keys, timer, options.everyPosition ?? false)
            : // Uncompressed: clients refuse compressed results (a bomb would be inflated by SEAL in full).
              (out.saveToArray(this.#seal.ComprModeType.none) as Uint8Array);
        return { layout: input.layout, modelHash: input.modelHash, planHash: input.planHash, count: input.count, ciphertext };
      } finally {
        out.delete();
      }
    } finally {
      cts.forEach((c) => c.delete());
    }
  }

  /**
   * A single result as it leaves: re-randomized under the client's public key with f bits of
   * flooding (plan.circuit.floodBits), then only what the client reads, sparse.
   */
  #privateResult(product: Ciphertext, circuit: QuadraticCircuit, keys: LoadedKeys, timer: OpTimer | undefined, everyPosition: boolean): Uint8Array {
    if (!keys.publicKey) throw new Error('the single-record plan needs the client\'s public key');
    const t0 = performance.now();
    const flooded = rerandomize(this.#seal, this.#context, this.plan.params, product, keys.publicKey, circuit.floodBits);
    try {
      const t1 = performance.now();
      timer?.('flood', t1 - t0);
      const positions = everyPosition ? Array.from({ length: this.plan.params.polyModulusDegree }, (_, i) => i) : this.#positions;
      const bytes = packSparseResult(this.#seal, this.#context, this.plan.params, flooded, positions, circuit.result.k0, circuit.result.k1);
      timer?.('pack', performance.now() - t1);
      return bytes;
    } finally {
      flooded.delete();
    }
  }

  /** Loads ciphertexts without evaluating, for benchmarks that time the circuit alone. */
  loadInputs(input: EncryptedInput): Ciphertext[] {
    this.#check(input);
    return input.ciphertexts.map((b, i) => this.#load(b, i));
  }

  get circuit(): TernaryCircuit {
    return this.#circuit;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  dispose(): void {
    this.#circuit.dispose();
  }
}
