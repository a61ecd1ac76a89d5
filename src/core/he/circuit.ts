/**
 * The homomorphic circuit of a TernaryNet: the only server-side computation. It is the integer
 * reference (model/reference.ts) rewritten for ciphertexts:
 *   - batch: ternary weights become additions and subtractions of ciphertexts, the square
 *     activation the only ciphertext multiplication (depth 1), relinearized once; the linear skip
 *     term Σ l_i x_i is one plaintext-scalar product per distinct |l_i| of the signed sum of its
 *     inputs, added at the squares' level; results are modulus-switched to the last level before
 *     leaving;
 *   - single: the model as a quadratic form (quadratic.ts): one plaintext product of the
 *     client's feature vectors by the weight polynomial W, plus C at the output positions. No
 *     rotation, no square, no relinearization: no keys at all. The evaluator then floods it.
 * Plaintext constants are encoded once per model and freed by `dispose`.
 */
import type { ModelBody } from '../model/format.ts';
import type { Ciphertext, Plaintext, Seal, SEALContext, RelinKeys } from './seal.ts';
import type { CircuitShape } from './plan.ts';
import { coefficientPlaintext } from './coefficients.ts';
import { outputPositions, quadraticForm, weightPolynomial } from './quadratic.ts';
import type { OpTimer } from './types.ts';

export type { CircuitShape } from './plan.ts';

/** What the circuit needs of the client's evaluation keys: relinearization for batch only. */
export interface CircuitKeys {
  relin: RelinKeys | null;
}

/** Inputs summed with signs: Σ₊ x_i − Σ₋ x_i. */
interface SignedSum {
  plus: number[];
  minus: number[];
}

/** The linear skip term's inputs that share one |l_i|, times that magnitude (null when 1). */
interface LinearGroup extends SignedSum {
  scale: Plaintext | null;
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
  readonly #linear: LinearGroup[] = [];
  #constant: Plaintext | null = null;
  #weights: Plaintext | null = null;

  constructor(seal: Seal, context: SEALContext, model: Pick<ModelBody, 'hidden' | 'output' | 'features'>, shape: CircuitShape) {
    this.#seal = seal;
    this.#context = context;
    this.#shape = shape;
    this.#evaluator = new seal.Evaluator(context);
    this.#encoder = new seal.BatchEncoder(context);
    if (shape.layout === 'batch') this.#prepareBatch(model);
    else this.#prepareSingle(model, context);
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
    // Grouped by |l_i|, so a magnitude shared by several features costs one product; scalars stay
    // positive (signs become additions and subtractions), which keeps each product's noise at |l_i|.
    const groups = new Map<number, SignedSum>();
    model.output.linear?.forEach((l, i) => {
      if (l === 0) return;
      const g = groups.get(Math.abs(l)) ?? { plus: [], minus: [] };
      (l > 0 ? g.plus : g.minus).push(i);
      groups.set(Math.abs(l), g);
    });
    for (const [m, g] of groups) this.#linear.push({ ...g, scale: m === 1 ? null : this.#scalar(m) });
  }

  /** W(X) and C at every region's output position, as coefficient plaintexts. */
  #prepareSingle(model: Pick<ModelBody, 'hidden' | 'output'>, context: SEALContext): void {
    if (this.#shape.layout !== 'single') return;
    const data = context.firstContextData();
    const parms = data.parms();
    const t = parms.plainModulus();
    const n = Number(parms.polyModulusDegree());
    const plainModulus = t.value();
    [t, parms, data].forEach((o) => o.delete());
    const form = quadraticForm(model);
    if (form.regionLength !== this.#shape.regionLength) throw new Error(`the plan's regions are ${this.#shape.regionLength} coefficients, the model's quadratic form has ${form.regionLength}`);
    // One product, not one per weight sign: SEAL's multiply_plain lifts coefficients ≥ t/2 to
    // their negatives, so the noise grows by ||v||₁ either way.
    this.#weights = coefficientPlaintext(this.#seal, context, n, plainModulus, weightPolynomial(form));
    this.#plaintexts.push(this.#weights);
    const constant = new Array<bigint>(n).fill(0n);
    for (const p of outputPositions(form.regionLength, this.#shape.regions)) constant[p] = form.constant;
    this.#constant = coefficientPlaintext(this.#seal, context, n, plainModulus, constant);
    this.#plaintexts.push(this.#constant);
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
    return this.#shape.layout === 'batch' ? this.#evaluateBatch(inputs, keys, op) : this.#evaluateSingle(inputs[0]!, op);
  }

  #switch(ct: Ciphertext, times: number, op: Op): void {
    if (times === 0) return;
    for (let k = 0; k < times; k++) op('modSwitch', () => this.#evaluator.cipherModSwitchToNextInplace(ct));
  }

  #finish(y: Ciphertext, keys: CircuitKeys, op: Op): void {
    const ev = this.#evaluator;
    if (y.size() > 2) {
      if (!keys.relin) throw new Error('the batch circuit needs relinearization keys');
      op('relinearize', () => ev.relinearizeInplace(y, keys.relin!));
    }
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
        try {
          if (unit.sign === 1) op('add', () => ev.addInplace(y!, acc));
          else op('sub', () => ev.subInplace(y!, acc));
        } finally {
          acc.delete();
        }
      }
      const linear = this.#linearTerm(inputs, op);
      if (linear && y === null) y = linear;
      else if (linear) {
        try {
          op('add', () => ev.addInplace(y!, linear));
        } finally {
          linear.delete();
        }
      }
      if (y === null) throw new Error('the model has no unit that reads its inputs');
      if (this.#constant) op('addPlain', () => ev.addPlainInplace(y!, this.#constant!));
      this.#switch(y, this.#shape.layout === 'batch' ? this.#shape.switchAfterSquare : 0, op);
      this.#finish(y, keys, op);
      return y;
    } catch (e) {
      y?.delete();
      throw e;
    }
  }

  /** Σ₊ x_i − Σ₋ x_i as a new ciphertext (at least one index). */
  #signedSum(sum: SignedSum, inputs: readonly Ciphertext[], op: Op): Ciphertext {
    const ev = this.#evaluator;
    const acc = new this.#seal.Ciphertext();
    try {
      const first = sum.plus.length > 0 ? sum.plus : sum.minus;
      const rest = sum.plus.length > 0 ? sum.minus : [];
      // With only minus terms, sum them and negate.
      if (first.length >= 2) op('add', () => ev.add(inputs[first[0]!]!, inputs[first[1]!]!, acc));
      else op('copy', () => acc.assign(inputs[first[0]!]!));
      for (const i of first.slice(2)) op('add', () => ev.addInplace(acc, inputs[i]!));
      for (const i of rest) op('sub', () => ev.subInplace(acc, inputs[i]!));
      if (sum.plus.length === 0) op('negate', () => ev.negateInplace(acc));
      return acc;
    } catch (e) {
      acc.delete();
      throw e;
    }
  }

  /**
   * Σ_i l_i x_i as a new ciphertext at the squares' level (switched as the units are before
   * their square), or null when the model has no linear term.
   */
  #linearTerm(inputs: readonly Ciphertext[], op: Op): Ciphertext | null {
    const ev = this.#evaluator;
    let sum: Ciphertext | null = null;
    try {
      for (const group of this.#linear) {
        const part = this.#signedSum(group, inputs, op);
        if (sum === null) sum = part;
        try {
          if (group.scale) op('multiplyPlain', () => ev.multiplyPlainInplace(part, group.scale!));
          if (part !== sum) op('add', () => ev.addInplace(sum!, part));
        } finally {
          if (part !== sum) part.delete();
        }
      }
      if (sum) this.#switch(sum, this.#shape.layout === 'batch' ? this.#shape.switchBeforeSquare : 0, op);
      return sum;
    } catch (e) {
      sum?.delete();
      throw e;
    }
  }

  /** One batch unit: (α·(Σ₊ x_i − Σ₋ x_i) + β)², as a new ciphertext. */
  #hidden(unit: BatchUnit, inputs: readonly Ciphertext[], op: Op): Ciphertext {
    const ev = this.#evaluator;
    const acc = this.#signedSum(unit, inputs, op);
    try {
      if (unit.alpha) op('multiplyPlain', () => ev.multiplyPlainInplace(acc, unit.alpha!));
      if (unit.beta) op('addPlain', () => ev.addPlainInplace(acc, unit.beta!));
      this.#switch(acc, this.#shape.layout === 'batch' ? this.#shape.switchBeforeSquare : 0, op);
      op('square', () => ev.squareInplace(acc));
      return acc;
    } catch (e) {
      acc.delete();
      throw e;
    }
  }

  /** c · W + C: coefficient r·L + L − 1 of the result decrypts to record r's output. */
  #evaluateSingle(input: Ciphertext, op: Op): Ciphertext {
    const ev = this.#evaluator;
    const y = new this.#seal.Ciphertext();
    try {
      op('multiplyPlain', () => ev.multiplyPlain(input, this.#weights!, y));
      op('addPlain', () => ev.addPlainInplace(y, this.#constant!));
      return y;
    } catch (e) {
      y.delete();
      throw e;
    }
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
