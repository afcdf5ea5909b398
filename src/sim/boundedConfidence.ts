/**
 * Bounded-confidence opinion dynamics on [0, 1].
 *
 * Sources: G. Deffuant, D. Neau, F. Amblard and G. Weisbuch, "Mixing beliefs among
 * interacting agents", Advances in Complex Systems 3, 2000 (random pairs closer than ε each
 * move a fraction μ toward the other); R. Hegselmann and U. Krause, "Opinion dynamics and
 * bounded confidence: models, analysis and simulation", JASSS 5(3), 2002 (everyone moves to
 * the mean of the opinions within ε of their own, synchronously). Both converge to clusters
 * about 2ε apart; with ε below the gap between two camps the camps never merge.
 */
import type { Rng } from '../core/collective/prng.ts';

/**
 * Deffuant: `pairs` random interactions along graph edges (or uniformly random pairs when
 * `adjacency` is empty). Updates `x` in place.
 */
export function deffuantStep(x: Float64Array, adjacency: readonly (readonly number[])[], epsilon: number, mu: number, pairs: number, rng: Rng): void {
  const n = x.length;
  if (n < 2) return;
  for (let t = 0; t < pairs; t++) {
    const i = rng.int(n);
    const nb = adjacency[i];
    const j = nb && nb.length > 0 ? (nb[rng.int(nb.length)] as number) : rng.int(n);
    if (i === j) continue;
    const xi = x[i] as number;
    const xj = x[j] as number;
    if (Math.abs(xi - xj) < epsilon) {
      x[i] = xi + mu * (xj - xi);
      x[j] = xj + mu * (xi - xj);
    }
  }
}

/** Hegselmann–Krause: one synchronous step; returns the new opinions. O(n log n). */
export function hegselmannKrauseStep(x: Float64Array, epsilon: number): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (x[a] as number) - (x[b] as number));
  const sorted = order.map((i) => x[i] as number);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] as number) + (sorted[i] as number);
  const out = new Float64Array(n);
  let lo = 0;
  let hi = 0;
  for (let r = 0; r < n; r++) {
    const v = sorted[r] as number;
    while ((sorted[lo] as number) < v - epsilon) lo++;
    while (hi < n && (sorted[hi] as number) <= v + epsilon) hi++;
    out[order[r] as number] = ((prefix[hi] as number) - (prefix[lo] as number)) / (hi - lo);
  }
  return out;
}
