/**
 * The occupied cells of a grid histogram as weighted points at the cell centres: the common
 * input of every collective-state method. Reading it is O(bins²) and independent of the
 * number of people.
 */
import { binCentre, type GridView } from '../histogram.ts';

/** Weighted points (parallel arrays of length `n`), with `total` the sum of weights. */
export interface WeightedPoints {
  readonly n: number;
  /** Valence of each point. */
  readonly x: Float64Array;
  /** Arousal of each point. */
  readonly y: Float64Array;
  /** Weight of each point (people in the cell). */
  readonly w: Float64Array;
  readonly total: number;
}

/** Collects the occupied cells of `grid` (weight > 0) as weighted points at the cell centres. */
export function weightedPointsOf(grid: GridView): WeightedPoints {
  const { bins, counts } = grid;
  let n = 0;
  for (let i = 0; i < counts.length; i++) if ((counts[i] ?? 0) > 0) n++;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  let j = 0;
  let total = 0;
  for (let iy = 0; iy < bins; iy++) {
    for (let ix = 0; ix < bins; ix++) {
      const c = counts[iy * bins + ix] ?? 0;
      if (c > 0) {
        x[j] = binCentre(ix, bins);
        y[j] = binCentre(iy, bins);
        w[j] = c;
        total += c;
        j++;
      }
    }
  }
  return { n, x, y, w, total };
}

/** Builds weighted points from plain arrays (tests, simulations). */
export function weightedPoints(xs: readonly number[], ys: readonly number[], ws?: readonly number[]): WeightedPoints {
  const n = xs.length;
  const w = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    w[i] = ws?.[i] ?? 1;
    total += w[i] ?? 0;
  }
  return { n, x: Float64Array.from(xs), y: Float64Array.from(ys), w, total };
}
