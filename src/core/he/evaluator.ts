/**
 * The server's side: evaluates a model's circuit on ciphertexts with public evaluation keys
 * only. Everything a client sends is checked before SEAL sees it, and every SEAL refusal is
 * turned into an HeInputError that says what was wrong.
 */
import type { TernaryModel } from '../model/format.ts';
import { TernaryCircuit, type CircuitKeys } from './circuit.ts';
import { contextFor } from './params.ts';
import { loadSeal, sealErrorText, type Ciphertext, type Seal, type SEALContext } from './seal.ts';
import type { HePlan } from './plan.ts';
import { packCiphertext } from './packed-result.ts';
import { HeInputError, type EncryptedInput, type EncryptedResult, type EvaluationKeyBundle, type OpTimer } from './types.ts';

/** Evaluation keys loaded into SEAL; free with `dispose` (or `using`). */
export class LoadedKeys implements Disposable, CircuitKeys {
  constructor(
    readonly relin: CircuitKeys['relin'],
    readonly galois: CircuitKeys['galois'],
  ) {}
  [Symbol.dispose](): void {
    this.dispose();
  }
  dispose(): void {
    this.relin.delete();
    this.galois?.delete();
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

/** Bits per coefficient of a packed result's c0 and c1 (docs/protocol.md §9). */
export interface ResultPacking {
  k0: number;
  k1: number;
}

export class HeEvaluator implements Disposable {
  readonly model: TernaryModel;
  readonly plan: HePlan;
  readonly #seal: Seal;
  readonly #context: SEALContext;
  readonly #circuit: TernaryCircuit;
  readonly #firstParms: string;

  private constructor(seal: Seal, model: TernaryModel, plan: HePlan) {
    if (plan.modelHash !== model.hash) throw new Error(`plan ${plan.hash.slice(0, 12)}… was compiled for another model`);
    this.#seal = seal;
    this.model = model;
    this.plan = plan;
    this.#context = contextFor(seal, plan.params);
    this.#circuit = new TernaryCircuit(seal, this.#context, model, plan.circuit);
    const first = this.#context.firstParmsId();
    this.#firstParms = String(first.values());
    first.delete();
  }

  static async create(model: TernaryModel, plan: HePlan): Promise<HeEvaluator> {
    return new HeEvaluator(await loadSeal(), model, plan);
  }

  /**
   * Loads a client's evaluation keys, refusing keys for another plan or missing rotations. Their
   * id is not checked here: whoever takes keys from elsewhere checks it against the bytes as
   * they arrived (the server's pool worker), before any inflating.
   */
  loadKeys(bundle: Pick<EvaluationKeyBundle, 'planHash' | 'relin' | 'galois'>): LoadedKeys {
    if (bundle.planHash !== this.plan.hash) throw new HeInputError(`evaluation keys were made for plan ${bundle.planHash.slice(0, 12)}…, this model's ${this.plan.layout} plan is ${this.plan.hash.slice(0, 12)}…`);
    const relin = new this.#seal.RelinKeys();
    let galois = null;
    try {
      relin.loadFromArray(this.#context, bundle.relin);
    } catch (e) {
      relin.delete();
      throw new HeInputError(`relinearization keys could not be read: ${sealErrorText(e)}`);
    }
    if (this.plan.galoisSteps.length > 0) {
      galois = new this.#seal.GaloisKeys();
      try {
        if (!bundle.galois) throw new HeInputError('this plan needs Galois keys and none were sent');
        try {
          galois.loadFromArray(this.#context, bundle.galois);
        } catch (e) {
          throw new HeInputError(`Galois keys could not be read: ${sealErrorText(e)}`);
        }
        for (const step of this.plan.galoisSteps) {
          if (!galois.hasKey(galoisElement(step, this.plan.params.polyModulusDegree))) throw new HeInputError(`Galois keys lack rotation step ${step}`);
        }
      } catch (e) {
        relin.delete();
        galois.delete();
        throw e;
      }
    }
    return new LoadedKeys(relin, galois);
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
    return ct;
  }

  /**
   * Runs the model on one encrypted input and returns the encrypted scores. Client mistakes
   * throw HeInputError; anything else that fails after the inputs were accepted is a fault of
   * ours and surfaces as an ordinary Error.
   */
  evaluate(input: EncryptedInput, keys: LoadedKeys, timer?: OpTimer, packing?: ResultPacking): EncryptedResult {
    this.#check(input);
    const cts: Ciphertext[] = [];
    try {
      input.ciphertexts.forEach((bytes, i) => cts.push(this.#load(bytes, i)));
      const out = this.#circuit.evaluate(cts, keys, timer);
      try {
        // Uncompressed: clients refuse compressed results (a bomb would be inflated by SEAL in
        // full), and zstd saved ~15% on batch results and nothing on single ones.
        // Packed (packed-result.ts) only when a caller asks with measured bit widths.
        const ciphertext = packing
          ? packCiphertext(this.#seal, this.#context, this.plan.params, out, packing.k0, packing.k1)
          : (out.saveToArray(this.#seal.ComprModeType.none) as Uint8Array);
        return { layout: input.layout, modelHash: input.modelHash, planHash: input.planHash, count: input.count, ciphertext };
      } finally {
        out.delete();
      }
    } finally {
      cts.forEach((c) => c.delete());
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
