/**
 * A weighted logistic regression by Newton's method, in plain numbers: the start of a
 * TernaryNet's linear skip term (and its output bias), so that the ternary units learn what a
 * linear model leaves over rather than the linear part again. Few inputs (d ≤ a few dozen), so
 * the (d+1)² Hessian is solved directly.
 */
import { balancedClassWeights } from '../core/metrics.ts';
import { logistic } from '../core/model/reference.ts';

/** Solves H·x = g for a small symmetric positive-definite H (Gaussian elimination, partial pivoting). */
function solve(H: number[][], g: number[]): number[] {
  const n = g.length;
  const a = H.map((row, i) => [...row, g[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-15) continue;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r]![col]! / p;
      if (f !== 0) for (let c = col; c <= n; c++) a[r]![c]! -= f * a[col]![c]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-15 ? 0 : row[n]! / row[i]!));
}

/** Class-balanced logistic regression with a ridge on the weights: logit = x·w + b. */
export function fitLogistic(x: readonly ArrayLike<number>[], labels: readonly number[], ridge = 1e-2): { weights: number[]; bias: number } {
  const d = x[0]?.length ?? 0;
  const sampleWeights = balancedClassWeights(labels);
  const n = x.length;
  const beta = new Array<number>(d + 1).fill(0); // [w…, b]
  for (let iteration = 0; iteration < 50; iteration++) {
    const g = new Array<number>(d + 1).fill(0);
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let r = 0; r < n; r++) {
      const row = x[r]!;
      let z = beta[d]!;
      for (let i = 0; i < d; i++) z += beta[i]! * row[i]!;
      const p = logistic(z);
      const w = sampleWeights[r]! / n;
      const residual = w * (p - labels[r]!);
      const curvature = w * p * (1 - p);
      for (let i = 0; i <= d; i++) {
        const xi = i === d ? 1 : row[i]!;
        g[i] += residual * xi;
        for (let k = 0; k <= i; k++) H[i]![k]! += curvature * xi * (k === d ? 1 : row[k]!);
      }
    }
    for (let i = 0; i <= d; i++) for (let k = 0; k < i; k++) H[k]![i] = H[i]![k]!;
    for (let i = 0; i < d; i++) {
      g[i] += ridge * beta[i]!;
      H[i]![i]! += ridge;
    }
    H[d]![d]! += 1e-12;
    const step = solve(H, g);
    step.forEach((s, i) => (beta[i]! -= s));
    if (step.reduce((m, s) => Math.max(m, Math.abs(s)), 0) < 1e-10) break;
  }
  return { weights: beta.slice(0, d), bias: beta[d]! };
}
