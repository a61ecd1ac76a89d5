/**
 * The homomorphic circuit of a TernaryNet: the only server-side computation. It is the integer
 * reference (model/reference.ts) rewritten for ciphertexts:
 *   - ternary weights become additions and subtractions of ciphertexts (batch) or one weight
 *     mask and rotations (single);
 *   - the square activation is the only ciphertext multiplication (depth 1), relinearized once;
 *   - results are modulus-switched to the last level before leaving.
 * Plaintext constants are encoded once per model and freed by `dispose`.
 */
import type { ModelBody } from '../model/format.ts';
import type { Ciphertext, Plaintext, Seal, SEALContext, RelinKeys, GaloisKeys } from './seal.ts';
import { singleBiasVector, singleSlotsUsed, singleWeightMask, type SingleLayout, type LayoutName } from './layout.ts';
import type { OpTimer } from './types.ts';

export interface CircuitShape {
  layout: LayoutName;
  /** Modulus switches after the first layer (before rotations and the square). */
  switchBeforeSquare: number;
  /** Modulus switches after the square (before the output fold). */
  switchAfterSquare: number;
  single?: SingleLayout;
}

export interface CircuitKeys {
  relin: RelinKeys;
  galois: GaloisKeys | null;
}

interface BatchUnit {
  plus: number[];
  minus: number[];
  alpha: Plaintext | null;
  beta: Plaintext | null;
  sign: 1 | -1;
}

export class TernaryCircuit implements Disposable {
  readonly #seal: Seal;
  readonly #context: SEALContext;
  readonly #shape: CircuitShape;
  readonly #evaluator;
  readonly #encoder;
  readonly #plaintexts: Plaintext[] = [];
  readonly #units: BatchUnit[] = [];
  #constant: Plaintext | null = null;
  #mask: Plaintext | null = null;
  #bias: Plaintext | null = null;
  readonly #plainModulus: bigint;

  constructor(seal: Seal, context: SEALContext, model: Pick<ModelBody, 'hidden' | 'output' | 'features'>, shape: CircuitShape) {
    this.#seal = seal;
    this.#context = context;
    this.#shape = shape;
    this.#evaluator = new seal.Evaluator(context);
    this.#encoder = new seal.BatchEncoder(context);
    const data = context.firstContextData();
    const parms = data.parms();
    const t = parms.plainModulus();
    this.#plainModulus = t.value();
    t.delete();
    parms.delete();
    data.delete();
    if (shape.layout === 'batch') this.#prepareBatch(model);
    else this.#prepareSingle(model);
  }

  get slotCount(): number {
    return this.#encoder.slotCount();
  }

  #encode(values: BigInt64Array): Plaintext {
    const pt = new this.#seal.Plaintext();
    this.#encoder.encode(values, pt);
    this.#plaintexts.push(pt);
    return pt;
  }

  #scalar(value: number | bigint): Plaintext {
    return this.#encode(new BigInt64Array(this.slotCount).fill(BigInt(value)));
  }

  #prepareBatch(model: Pick<ModelBody, 'hidden' | 'output'>): void {
    const alphas = new Map<number, Plaintext>();
    let constant = 0n;
    model.hidden.weights.forEach((row, j) => {
      const t = model.output.weights[j]!;
      if (t === 0) return;
      const a = model.hidden.alpha[j]!;
      const b = model.hidden.beta[j]!;
      const plus = row.flatMap((w, i) => (w === 1 ? [i] : []));
      const minus = row.flatMap((w, i) => (w === -1 ? [i] : []));
      if (a === 0 || plus.length + minus.length === 0) {
        // The unit ignores its inputs: it contributes the constant t·β².
        constant += BigInt(t) * BigInt(b) * BigInt(b);
        return;
      }
      let alpha: Plaintext | null = null;
      if (a !== 1) {
        alpha = alphas.get(a) ?? this.#scalar(a);
        alphas.set(a, alpha);
      }
      this.#units.push({ plus, minus, alpha, beta: b === 0 ? null : this.#scalar(b), sign: t });
    });
    if (constant !== 0n) this.#constant = this.#scalar(constant);
  }

  #prepareSingle(model: Pick<ModelBody, 'hidden' | 'output' | 'features'>): void {
    const layout = this.#shape.single!;
    this.#mask = this.#encode(singleWeightMask(model, layout, this.slotCount));
    this.#bias = this.#encode(singleBiasVector(model, layout, this.slotCount));
  }

  /**
   * Evaluates the circuit. `inputs` are loaded ciphertexts at the first data level (owned by the
   * caller); the returned ciphertext is new and owned by the caller.
   */
  evaluate(inputs: readonly Ciphertext[], keys: CircuitKeys, timer?: OpTimer): Ciphertext {
    const op = timer
      ? <T>(name: string, f: () => T): T => {
          const t0 = performance.now();
          const r = f();
          timer(name, performance.now() - t0);
          return r;
        }
      : <T>(_name: string, f: () => T): T => f();
    return this.#shape.layout === 'batch' ? this.#evaluateBatch(inputs, keys, op) : this.#evaluateSingle(inputs[0]!, keys, op);
  }

  #switch(ct: Ciphertext, times: number, op: Op): void {
    for (let k = 0; k < times; k++) op('modSwitch', () => this.#evaluator.cipherModSwitchToNextInplace(ct));
  }

  #finish(y: Ciphertext, keys: CircuitKeys, op: Op): void {
    const ev = this.#evaluator;
    if (y.size() > 2) op('relinearize', () => ev.relinearizeInplace(y, keys.relin));
    const last = this.#context.lastParmsId();
    op('modSwitch', () => ev.cipherModSwitchToInplace(y, last));
    last.delete();
  }

  #evaluateBatch(inputs: readonly Ciphertext[], keys: CircuitKeys, op: Op): Ciphertext {
    const ev = this.#evaluator;
    let y: Ciphertext | null = null;
    try {
      for (const unit of this.#units) {
        const acc = this.#hidden(unit, inputs, op);
        if (y === null) {
          y = acc;
          if (unit.sign === -1) op('negate', () => ev.negateInplace(acc));
          continue;
        }
        if (unit.sign === 1) op('add', () => ev.addInplace(y!, acc));
        else op('sub', () => ev.subInplace(y!, acc));
        acc.delete();
      }
      if (y === null) throw new Error('the model has no unit that reads its inputs');
      if (this.#constant) op('addPlain', () => ev.addPlainInplace(y!, this.#constant!));
      this.#switch(y, this.#shape.switchAfterSquare, op);
      this.#finish(y, keys, op);
      return y;
    } catch (e) {
      y?.delete();
      throw e;
    }
  }

  /** One batch unit: (α·(Σ₊ x_i − Σ₋ x_i) + β)², as a new ciphertext. */
  #hidden(unit: BatchUnit, inputs: readonly Ciphertext[], op: Op): Ciphertext {
    const ev = this.#evaluator;
    const acc = new this.#seal.Ciphertext();
    try {
      const first = unit.plus.length > 0 ? unit.plus : unit.minus;
      const rest = unit.plus.length > 0 ? unit.minus : [];
      // With only minus terms, sum them and negate.
      if (first.length >= 2) op('add', () => ev.add(inputs[first[0]!]!, inputs[first[1]!]!, acc));
      else op('copy', () => acc.assign(inputs[first[0]!]!));
      for (const i of first.slice(2)) op('add', () => ev.addInplace(acc, inputs[i]!));
      for (const i of rest) op('sub', () => ev.subInplace(acc, inputs[i]!));
      if (unit.plus.length === 0) op('negate', () => ev.negateInplace(acc));
      if (unit.alpha) op('multiplyPlain', () => ev.multiplyPlainInplace(acc, unit.alpha!));
      if (unit.beta) op('addPlain', () => ev.addPlainInplace(acc, unit.beta!));
      this.#switch(acc, this.#shape.switchBeforeSquare, op);
      op('square', () => ev.squareInplace(acc));
      return acc;
    } catch (e) {
      acc.delete();
      throw e;
    }
  }

  #evaluateSingle(input: Ciphertext, keys: CircuitKeys, op: Op): Ciphertext {
    const ev = this.#evaluator;
    const seal = this.#seal;
    const layout = this.#shape.single!;
    if (!keys.galois) throw new Error('the single-record layout needs Galois keys');
    const galois = keys.galois;
    const x = new seal.Ciphertext();
    const tmp = new seal.Ciphertext();
    let done = false;
    try {
      op('multiplyPlain', () => ev.multiplyPlain(input, this.#mask!, x));
      this.#switch(x, this.#shape.switchBeforeSquare, op);
      // Sum the feature blocks: unit j's pre-activation lands in slot j.
      for (let s = 1; s < layout.blocks; s *= 2) {
        op('rotate', () => ev.rotateRows(x, layout.unitStride * s, galois, tmp));
        op('add', () => ev.addInplace(x, tmp));
      }
      op('addPlain', () => ev.addPlainInplace(x, this.#bias!));
      op('square', () => ev.squareInplace(x));
      op('relinearize', () => ev.relinearizeInplace(x, keys.relin));
      this.#switch(x, this.#shape.switchAfterSquare, op);
      // Fold each sign group into its first slot, then slot 0 − slot P.
      for (let s = 1; s < layout.groupSize; s *= 2) {
        op('rotate', () => ev.rotateRows(x, s, galois, tmp));
        op('add', () => ev.addInplace(x, tmp));
      }
      op('rotate', () => ev.rotateRows(x, layout.groupSize, galois, tmp));
      op('sub', () => ev.subInplace(x, tmp));
      this.#finish(x, keys, op);
      // Slots other than each region's first hold partial sums of hidden activations; blind them.
      const blind = this.#blinding(singleSlotsUsed(layout));
      op('addPlain', () => ev.addPlainInplace(x, blind));
      blind.delete();
      done = true;
      return x;
    } finally {
      if (!done) x.delete();
      tmp.delete();
    }
  }

  /**
   * A fresh plaintext, uniform mod t in every slot but the first of each region of `period`
   * slots, which is zero: a region's output is the model's answer for the record the client put
   * there, the same answer one request per record would give.
   */
  #blinding(period: number): Plaintext {
    const n = this.slotCount;
    const t = this.#plainModulus;
    const words = new BigUint64Array(n);
    crypto.getRandomValues(words);
    const v = new BigInt64Array(n);
    // Centered representatives: the encoder takes values in [-(t-1)/2, (t-1)/2].
    for (let s = 1; s < n; s++) {
      if (s % period === 0) continue;
      const r = words[s]! % t;
      v[s] = r > t / 2n ? r - t : r;
    }
    const pt = new this.#seal.Plaintext();
    this.#encoder.encode(v, pt);
    return pt;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  dispose(): void {
    for (const pt of this.#plaintexts) pt.delete();
    this.#plaintexts.length = 0;
    this.#encoder.delete();
    this.#evaluator.delete();
  }
}

type Op = <T>(name: string, f: () => T) => T;
