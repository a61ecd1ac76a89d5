/**
 * The privacy accountant: Rényi differential privacy (Mironov, CSF 2017) of one round of the
 * study — a Poisson-subsampled Skellam sum — composed over rounds and converted to (ε, δ)
 * per patient record under add/remove-one adjacency. It decides whether the study may run one
 * more round. No npm package does this; docs/federated.md §7 states every bound with its source.
 *
 * All orders are integers (2…64, 80, 96, 128, 256): every formula here is exact or a proven
 * upper bound at integer orders, and RDP at any set of orders gives a valid (ε, δ), so leaving
 * out fractional orders can only make ε slightly larger, never wrong.
 */
import type { StudyManifest } from './manifest.ts';
import { roundedL1Bound, roundedL2Bound } from './quantize.ts';

export const RDP_ORDERS: readonly number[] = [...Array.from({ length: 63 }, (_, k) => k + 2), 80, 96, 128, 256];

/** log(e^a + e^b) without overflow. */
function logAdd(a: number, b: number): number {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  if (lo === -Infinity) return hi;
  return hi + Math.log1p(Math.exp(lo - hi));
}

function checkOrder(order: number): void {
  if (!Number.isInteger(order) || order < 2) throw new RangeError(`RDP order ${order}: integers ≥ 2 only`);
}

/**
 * RDP at integer `order` of one step of the Poisson-subsampled Gaussian mechanism with
 * sampling rate q and noise multiplier σ (noise stddev / L2 sensitivity): log(A_α)/(α − 1) with
 * A_α = Σ_i C(α,i) q^i (1−q)^(α−i) exp((i² − i)/(2σ²)) (Mironov, Talwar, Zhang 2019, §3.3;
 * TensorFlow Privacy's `_compute_log_a_int`), in log space.
 */
export function rdpSubsampledGaussian(q: number, sigma: number, order: number): number {
  checkOrder(order);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate ${q} is not in [0, 1]`);
  if (!(sigma > 0)) throw new RangeError(`noise multiplier ${sigma} must be positive`);
  if (q === 0) return 0;
  if (q === 1) return order / (2 * sigma * sigma);
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logBinom = 0; // log C(α, 0)
  let logA = -Infinity;
  for (let i = 0; i <= order; i++) {
    logA = logAdd(logA, logBinom + i * logQ + (order - i) * log1mQ + (i * i - i) / (2 * sigma * sigma));
    logBinom += Math.log(order - i) - Math.log(i + 1);
  }
  return logA / (order - 1);
}

/** RDP of `steps` compositions of the subsampled Gaussian at each order (compute_rdp). */
export function computeRdp(q: number, sigma: number, steps: number, orders: readonly number[] = RDP_ORDERS): number[] {
  return orders.map((a) => rdpSubsampledGaussian(q, sigma, a) * steps);
}

/**
 * (ε, optimal order) for a target δ from RDP values: ε = min_α r_α + log((α−1)/α) −
 * (log δ + log α)/(α − 1) (Canonne, Kamath, Steinke 2020, Prop. 12; TensorFlow Privacy's
 * `get_privacy_spent`), and 0 where δ² + expm1(−r_α) > 0.
 */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number): { epsilon: number; order: number } {
  if (orders.length !== rdp.length) throw new RangeError('orders and RDP values differ in length');
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ ${delta} is not in (0, 1)`);
  let best = Infinity;
  let bestOrder = orders[0]!;
  orders.forEach((a, k) => {
    const r = rdp[k]!;
    if (r < 0) throw new RangeError(`negative RDP ${r}`);
    let eps: number;
    if (delta * delta + Math.expm1(-r) > 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  });
  return { epsilon: Math.max(0, best), order: bestOrder };
}

/** Sensitivities and noise of one round, in integer units (after scaling and rounding). */
export interface SkellamRound {
  /** q: Poisson sampling rate per record. */
  samplingRate: number;
  /** Δ₂: L2 norm bound of one record's rounded contribution. */
  l2: number;
  /** Δ₁: L1 norm bound of one record's rounded contribution. */
  l1: number;
  /** V: variance of the aggregate Skellam noise per coordinate (the honest sites' part). */
  variance: number;
}

/**
 * RDP at integer `order` of the Skellam mechanism (no subsampling), Agarwal, Kairouz, Liu 2021,
 * Corollary 4.1, in integer units: α Δ₂²/(2V) + min(((2α − 1)Δ₂² + 6Δ₁)/(4V²), 3Δ₁/(2V))
 * (google-research/federated distributed_dp/accounting_utils.py `_skellam_rdp` with scale 1).
 */
export function rdpSkellam(order: number, m: Pick<SkellamRound, 'l1' | 'l2' | 'variance'>): number {
  checkOrder(order);
  const { l1, l2, variance: v } = m;
  return (order * l2 * l2) / (2 * v) + Math.min(((2 * order - 1) * l2 * l2 + 6 * l1) / (4 * v * v), (3 * l1) / (2 * v));
}

/**
 * Upper bound on the RDP at integer `order` of a mechanism with RDP curve `eps` under Poisson
 * subsampling with rate q (Zhu and Wang, ICML 2019, Theorem 5, as used by
 * google-research/federated `_compute_rdp_subsampled` with upper_bound=True):
 * 1/(α−1) · log[(1−q)^(α−1)(αq − q + 1) + C(α,2) q² (1−q)^(α−2) e^ε(2)
 *               + 3 Σ_{ℓ=3..α} C(α,ℓ) (1−q)^(α−ℓ) q^ℓ e^((ℓ−1)ε(ℓ))].
 */
export function rdpPoissonSubsampled(order: number, q: number, eps: (order: number) => number): number {
  checkOrder(order);
  if (!(q > 0 && q <= 1)) throw new RangeError(`sampling rate ${q} is not in (0, 1]`);
  if (q === 1) return eps(order);
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let total = (order - 1) * log1mQ + Math.log(order * q - q + 1);
  // log C(α, 2)
  let logBinom = Math.log((order * (order - 1)) / 2);
  total = logAdd(total, logBinom + 2 * logQ + (order - 2) * log1mQ + eps(2));
  for (let l = 3; l <= order; l++) {
    logBinom += Math.log(order - l + 1) - Math.log(l);
    total = logAdd(total, Math.log(3) + logBinom + (order - l) * log1mQ + l * logQ + (l - 1) * eps(l));
  }
  return total / (order - 1);
}

/** RDP of one round of the subsampled Skellam mechanism at each order (min with unamplified). */
export function rdpSkellamRound(m: SkellamRound, orders: readonly number[] = RDP_ORDERS): number[] {
  const eps = (a: number) => rdpSkellam(a, m);
  return orders.map((a) => Math.min(rdpPoissonSubsampled(a, m.samplingRate, eps), eps(a)));
}

/**
 * One round of a study as the accountant sees it: q from the schedule, Δ₂ and Δ₁ from the
 * clip, scale and dimension (conditional rounding with β = e^(−1/2), quantize.ts), and the noise
 * variance that h honest survivors carry: V = (z · C · scale)². Null when the study has no DP.
 */
export function skellamRoundOf(manifest: StudyManifest, dimension: number): SkellamRound | null {
  const p = manifest.privacy;
  if (!p) return null;
  const { clip, scale } = manifest.update;
  const l2 = roundedL2Bound(clip, scale, dimension);
  const sd = p.noiseMultiplier * clip * scale;
  // Each site adds V/h (noise.ts): any h honest survivors together carry V exactly.
  return { samplingRate: manifest.schedule.samplingRate, l2, l1: roundedL1Bound(l2, dimension), variance: sd * sd };
}

/** What the accountant reports. */
export interface PrivacySpent {
  rounds: number;
  epsilon: number;
  delta: number;
  /** The RDP order that gave ε. */
  order: number;
}

/**
 * Tracks the rounds a study has been charged and answers whether one more fits the budget.
 * Charge a round (`recordRound`) as soon as any masked upload of it was accepted.
 */
export class PrivacyAccountant {
  readonly #round: SkellamRound | null;
  readonly #perRound: number[];
  readonly #budget: { epsilon: number; delta: number } | null;
  #rounds: number;

  /** `dimension`: length of the update vector; `rounds`: rounds already charged (restarts). */
  constructor(manifest: StudyManifest, dimension: number, rounds = 0) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension ${dimension} must be a positive integer`);
    this.#round = skellamRoundOf(manifest, dimension);
    this.#perRound = this.#round ? rdpSkellamRound(this.#round) : [];
    this.#budget = manifest.privacy ? { epsilon: manifest.privacy.epsilon, delta: manifest.privacy.delta } : null;
    this.#rounds = rounds;
  }

  get rounds(): number {
    return this.#rounds;
  }

  /** The mechanism of one round (null without DP). */
  get mechanism(): SkellamRound | null {
    return this.#round;
  }

  /** (ε, δ) after `rounds` rounds (default: those charged). ε is Infinity without DP. */
  spentAfter(rounds = this.#rounds): PrivacySpent {
    if (!this.#budget) return { rounds, epsilon: Infinity, delta: 0, order: 0 };
    if (rounds === 0) return { rounds, epsilon: 0, delta: this.#budget.delta, order: RDP_ORDERS[0]! };
    const { epsilon, order } = epsilonFromRdp(RDP_ORDERS, this.#perRound.map((r) => r * rounds), this.#budget.delta);
    return { rounds, epsilon, delta: this.#budget.delta, order };
  }

  spent(): PrivacySpent {
    return this.spentAfter();
  }

  /** True when one more round keeps ε within the budget (always true for a study without DP). */
  canRunRound(): boolean {
    return !this.#budget || this.spentAfter(this.#rounds + 1).epsilon <= this.#budget.epsilon;
  }

  /** How many more rounds fit the budget (Infinity without DP). */
  budgetLeft(): number {
    if (!this.#budget) return Infinity;
    // ε grows with rounds: find the largest total within budget by doubling, then bisection.
    const fits = (r: number) => this.spentAfter(r).epsilon <= this.#budget!.epsilon;
    if (!fits(this.#rounds + 1)) return 0;
    let lo = this.#rounds + 1;
    let hi = lo * 2;
    while (fits(hi) && hi < 1e9) {
      lo = hi;
      hi *= 2;
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    return lo - this.#rounds;
  }

  /** Charges one round; throws when it would exceed the budget (ask canRunRound first). */
  recordRound(): PrivacySpent {
    if (!this.canRunRound()) throw new Error(`round ${this.#rounds + 1} would exceed the privacy budget ε = ${this.#budget!.epsilon}`);
    this.#rounds += 1;
    return this.spent();
  }

  /**
   * The Gaussian approximation, for comparison only (never for the stop rule): the tight
   * subsampled-Gaussian RDP with σ = √V / Δ₂, i.e. the Skellam treated as a Gaussian of the
   * same variance.
   */
  gaussianApproximation(rounds = this.#rounds): PrivacySpent {
    if (!this.#round || !this.#budget) return { rounds, epsilon: Infinity, delta: 0, order: 0 };
    const sigma = Math.sqrt(this.#round.variance) / this.#round.l2;
    const { epsilon, order } = epsilonFromRdp(RDP_ORDERS, computeRdp(this.#round.samplingRate, sigma, rounds), this.#budget.delta);
    return { rounds, epsilon, delta: this.#budget.delta, order };
  }
}
