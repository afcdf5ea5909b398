/**
 * Weighted k-means over the occupied cells, with k-means++ seeding or a warm start, and the
 * simplified silhouette used to choose k.
 *
 * Sources: S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28(2),
 * 1982 (the iteration); D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
 * seeding", SODA 2007 (the seeding); P. J. Rousseeuw, "Silhouettes", J. Comput. Appl. Math.
 * 20, 1987, in the simplified (centroid) form of E. R. Hruschka et al., "Evolutionary
 * algorithms for clustering gene-expression data", ICDM 2004 — s(i) = (b − a)/max(a, b) with
 * a, b the distances to the own and the nearest other centroid — which costs O(m·k) instead of
 * O(m²). A run costs O(m·k·iterations) for m occupied cells.
 */
import type { Rng } from './prng.ts';
import type { WeightedPoints } from './weightedPoints.ts';

/** A centroid. */
export interface Centroid {
  readonly x: number;
  readonly y: number;
}

/** The result of one k-means run. */
export interface KMeansResult {
  readonly k: number;
  readonly centroids: readonly Centroid[];
  /** Weight per cluster. */
  readonly weights: readonly number[];
  /** Cluster of each point. */
  readonly labels: Int32Array;
  /** Weighted within-cluster sum of squares. */
  readonly inertia: number;
  readonly iterations: number;
}

function nearest(px: number, py: number, cx: Float64Array, cy: Float64Array, k: number): number {
  let best = 0;
  let bd = Infinity;
  for (let c = 0; c < k; c++) {
    const dx = px - (cx[c] as number);
    const dy = py - (cy[c] as number);
    const d = dx * dx + dy * dy;
    if (d < bd) {
      bd = d;
      best = c;
    }
  }
  return best;
}

/** k-means++ seeding over weighted points (probability ∝ w·D²). */
export function seedKMeansPlusPlus(points: WeightedPoints, k: number, rng: Rng): Centroid[] {
  const { n, x, y, w, total } = points;
  const out: Centroid[] = [];
  if (n === 0) return out;
  let r = rng.next() * total;
  let first = n - 1;
  for (let i = 0; i < n; i++) {
    r -= w[i] as number;
    if (r < 0) {
      first = i;
      break;
    }
  }
  out.push({ x: x[first] as number, y: y[first] as number });
  const d2 = new Float64Array(n).fill(Infinity);
  while (out.length < k) {
    const last = out[out.length - 1] as Centroid;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const dx = (x[i] as number) - last.x;
      const dy = (y[i] as number) - last.y;
      const d = dx * dx + dy * dy;
      if (d < (d2[i] as number)) d2[i] = d;
      sum += (w[i] as number) * (d2[i] as number);
    }
    if (!(sum > 0)) break;
    let t = rng.next() * sum;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      t -= (w[i] as number) * (d2[i] as number);
      if (t < 0) {
        pick = i;
        break;
      }
    }
    out.push({ x: x[pick] as number, y: y[pick] as number });
  }
  return out;
}

/**
 * Runs weighted Lloyd iterations from `init` (its length is k) until no label changes or
 * `maxIterations`. A cluster that empties is re-seeded at the point farthest from its centroid.
 */
export function weightedKMeans(points: WeightedPoints, init: readonly Centroid[], maxIterations = 25): KMeansResult {
  const { n, x, y, w } = points;
  const k = init.length;
  const cx = Float64Array.from(init, (c) => c.x);
  const cy = Float64Array.from(init, (c) => c.y);
  const labels = new Int32Array(n).fill(-1);
  const sw = new Float64Array(k);
  const sx = new Float64Array(k);
  const sy = new Float64Array(k);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      const c = nearest(x[i] as number, y[i] as number, cx, cy, k);
      if (c !== labels[i]) {
        labels[i] = c;
        changed = true;
      }
    }
    if (!changed && iterations > 0) break;
    sw.fill(0);
    sx.fill(0);
    sy.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i] as number;
      const wi = w[i] as number;
      sw[c] = (sw[c] as number) + wi;
      sx[c] = (sx[c] as number) + wi * (x[i] as number);
      sy[c] = (sy[c] as number) + wi * (y[i] as number);
    }
    for (let c = 0; c < k; c++) {
      if ((sw[c] as number) > 0) {
        cx[c] = (sx[c] as number) / (sw[c] as number);
        cy[c] = (sy[c] as number) / (sw[c] as number);
      } else {
        // Empty cluster: move it to the point farthest from its current centroid.
        let far = -1;
        let fd = -1;
        for (let i = 0; i < n; i++) {
          const l = labels[i] as number;
          const d = ((x[i] as number) - (cx[l] as number)) ** 2 + ((y[i] as number) - (cy[l] as number)) ** 2;
          if (d > fd) {
            fd = d;
            far = i;
          }
        }
        if (far >= 0) {
          cx[c] = x[far] as number;
          cy[c] = y[far] as number;
        }
      }
    }
  }
  let inertia = 0;
  sw.fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i] as number;
    if (c < 0) continue;
    sw[c] = (sw[c] as number) + (w[i] as number);
    inertia += (w[i] as number) * (((x[i] as number) - (cx[c] as number)) ** 2 + ((y[i] as number) - (cy[c] as number)) ** 2);
  }
  const centroids: Centroid[] = [];
  for (let c = 0; c < k; c++) centroids.push({ x: cx[c] as number, y: cy[c] as number });
  return { k, centroids, weights: Array.from(sw), labels, inertia, iterations };
}

/**
 * The weighted simplified silhouette of a clustering in [−1, 1] (module header). Undefined for
 * k = 1, where it returns 0.
 */
export function simplifiedSilhouette(points: WeightedPoints, result: KMeansResult): number {
  const { n, x, y, w } = points;
  const k = result.k;
  if (k < 2 || n === 0) return 0;
  let sum = 0;
  let tw = 0;
  for (let i = 0; i < n; i++) {
    const own = result.labels[i] as number;
    let a = 0;
    let b = Infinity;
    for (let c = 0; c < k; c++) {
      const cc = result.centroids[c] as Centroid;
      const d = Math.hypot((x[i] as number) - cc.x, (y[i] as number) - cc.y);
      if (c === own) a = d;
      else if ((result.weights[c] as number) > 0 && d < b) b = d;
    }
    if (!Number.isFinite(b)) continue;
    const m = Math.max(a, b);
    const s = m > 0 ? (b - a) / m : 0;
    sum += (w[i] as number) * s;
    tw += w[i] as number;
  }
  return tw > 0 ? sum / tw : 0;
}
