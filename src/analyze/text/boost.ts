/**
 * Gradient-boosted regression trees (Friedman, "Greedy Function Approximation: A Gradient
 * Boosting Machine", Annals of Statistics 2001) with squared loss, used as a small non-linear
 * correction on the ridge model's valence residual from a few dense features.
 *
 * Trees are complete binary trees of a fixed depth, stored flat: node `k` has children `2k+1`
 * and `2k+2`; the `2^depth` leaves follow the `2^depth − 1` inner nodes. A node that could not be
 * split sends everything left (threshold +∞), so evaluation is always `depth` comparisons.
 * Deterministic: no sampling, fixed iteration order, splits chosen by the first best gain.
 */

/** A fitted ensemble. */
export interface BoostedTrees {
  readonly depth: number;
  readonly trees: number;
  /** Input feature of each inner node, `trees × (2^depth − 1)`. */
  readonly feature: Uint32Array;
  /** Threshold of each inner node: go left when `x ≤ threshold`. */
  readonly threshold: Float32Array;
  /** Leaf values (already multiplied by the learning rate), `trees × 2^depth`. */
  readonly leaf: Float32Array;
}

/** Options for {@link fitBoostedTrees}. */
export interface BoostOptions {
  readonly trees: number;
  readonly depth: number;
  readonly learningRate: number;
  /** Fewest rows in a leaf. */
  readonly minLeaf: number;
}

/**
 * Fits trees to `y` (row-major inputs `x`, `n × f`). Returns the ensemble; add its output to
 * whatever `y` is the residual of.
 */
export function fitBoostedTrees(x: Float64Array, f: number, y: Float64Array, opts: BoostOptions): BoostedTrees {
  const n = y.length;
  const inner = (1 << opts.depth) - 1;
  const leaves = 1 << opts.depth;
  const feature = new Uint32Array(opts.trees * inner);
  const threshold = new Float32Array(opts.trees * inner).fill(Number.POSITIVE_INFINITY);
  const leaf = new Float32Array(opts.trees * leaves);
  // Rows sorted by each feature, once.
  const order: Int32Array[] = [];
  for (let j = 0; j < f; j++) {
    const o = Int32Array.from({ length: n }, (_, i) => i);
    o.sort((a, b) => (x[a * f + j] as number) - (x[b * f + j] as number) || a - b);
    order.push(o);
  }
  const res = Float64Array.from(y);
  const node = new Int32Array(n);
  const width = 1 << (opts.depth - 1);
  const sum = new Float64Array(width);
  const cnt = new Float64Array(width);
  const lsum = new Float64Array(width);
  const lcnt = new Float64Array(width);
  const prev = new Float64Array(width);
  const bestGain = new Float64Array(width);
  const bestF = new Int32Array(width);
  const bestT = new Float64Array(width);
  for (let t = 0; t < opts.trees; t++) {
    node.fill(0);
    for (let level = 0; level < opts.depth; level++) {
      const first = (1 << level) - 1;
      const m = 1 << level;
      sum.fill(0);
      cnt.fill(0);
      for (let i = 0; i < n; i++) {
        const k = (node[i] as number) - first;
        sum[k] = (sum[k] as number) + (res[i] as number);
        cnt[k] = (cnt[k] as number) + 1;
      }
      bestGain.fill(1e-12);
      bestF.fill(-1);
      for (let j = 0; j < f; j++) {
        lsum.fill(0);
        lcnt.fill(0);
        prev.fill(Number.NEGATIVE_INFINITY);
        const o = order[j] as Int32Array;
        for (let q = 0; q < n; q++) {
          const i = o[q] as number;
          const k = (node[i] as number) - first;
          const xi = x[i * f + j] as number;
          const lc = lcnt[k] as number;
          const c = cnt[k] as number;
          if (lc >= opts.minLeaf && c - lc >= opts.minLeaf && xi > (prev[k] as number)) {
            const ls = lsum[k] as number;
            const s = sum[k] as number;
            const gain = (ls * ls) / lc + ((s - ls) * (s - ls)) / (c - lc) - (s * s) / c;
            if (gain > (bestGain[k] as number)) {
              bestGain[k] = gain;
              bestF[k] = j;
              bestT[k] = ((prev[k] as number) + xi) / 2;
            }
          }
          lsum[k] = (lsum[k] as number) + (res[i] as number);
          lcnt[k] = lc + 1;
          prev[k] = xi;
        }
      }
      for (let k = 0; k < m; k++) {
        if ((bestF[k] as number) < 0) continue;
        feature[t * inner + first + k] = bestF[k] as number;
        threshold[t * inner + first + k] = bestT[k] as number;
      }
      // Route rows one level down (using the stored, float32 threshold, as prediction will).
      for (let i = 0; i < n; i++) {
        const nd = node[i] as number;
        const fj = feature[t * inner + nd] as number;
        const th = threshold[t * inner + nd] as number;
        node[i] = 2 * nd + ((x[i * f + fj] as number) <= th ? 1 : 2);
      }
    }
    // Leaf values: the mean residual of each leaf, times the learning rate.
    const ls = new Float64Array(leaves);
    const lc = new Float64Array(leaves);
    for (let i = 0; i < n; i++) {
      const k = (node[i] as number) - inner;
      ls[k] = (ls[k] as number) + (res[i] as number);
      lc[k] = (lc[k] as number) + 1;
    }
    for (let k = 0; k < leaves; k++) {
      leaf[t * leaves + k] = (lc[k] as number) > 0 ? (opts.learningRate * (ls[k] as number)) / (lc[k] as number) : 0;
    }
    for (let i = 0; i < n; i++) res[i] = (res[i] as number) - (leaf[t * leaves + (node[i] as number) - inner] as number);
  }
  return { depth: opts.depth, trees: opts.trees, feature, threshold, leaf };
}

/** The ensemble's output for one input row `x` (length ≥ the largest feature index + 1). */
export function predictBoosted(b: BoostedTrees, x: ArrayLike<number>): number {
  const inner = (1 << b.depth) - 1;
  const leaves = 1 << b.depth;
  let out = 0;
  for (let t = 0; t < b.trees; t++) {
    let nd = 0;
    const base = t * inner;
    for (let d = 0; d < b.depth; d++) {
      nd = 2 * nd + ((x[b.feature[base + nd] as number] as number) <= (b.threshold[base + nd] as number) ? 1 : 2);
    }
    out += b.leaf[t * leaves + nd - inner] as number;
  }
  return out;
}
