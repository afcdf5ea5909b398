/**
 * An incremental square grid histogram over the valence × arousal plane [-1,1]².
 *
 * Adding or removing one point is O(1); reading the whole grid is O(bins²), whatever the
 * number of people. Cell (ix, iy) covers valence [-1 + ix·w, -1 + (ix+1)·w) and arousal
 * [-1 + iy·w, -1 + (iy+1)·w) with w = 2 / bins; the last cell of each axis is closed at +1.
 * Storage is row-major by arousal: index = iy · bins + ix.
 */

/** A read-only view of a grid histogram: what the collective-state maths consumes. */
export interface GridView {
  /** Cells per axis. */
  readonly bins: number;
  /** Weights per cell, row-major by arousal (index = iy · bins + ix). Do not mutate. */
  readonly counts: Float64Array;
  /** Sum of all weights. */
  readonly total: number;
}

/** The cell index along one axis for a coordinate in [-1, 1]. */
export function binIndex(x: number, bins: number): number {
  const i = Math.floor(((x + 1) / 2) * bins);
  return i < 0 ? 0 : i >= bins ? bins - 1 : i;
}

/** The centre coordinate of cell `i` along one axis. */
export function binCentre(i: number, bins: number): number {
  return -1 + ((i + 0.5) * 2) / bins;
}

/** A mutable grid histogram with O(1) add/remove. */
export class GridHistogram implements GridView {
  readonly bins: number;
  readonly counts: Float64Array;
  total = 0;

  constructor(bins = 16) {
    if (!Number.isInteger(bins) || bins < 2 || bins > 256) throw new RangeError('bins must be an integer in [2, 256]');
    this.bins = bins;
    this.counts = new Float64Array(bins * bins);
  }

  /** The flat cell index of a point. */
  cellOf(valence: number, arousal: number): number {
    return binIndex(arousal, this.bins) * this.bins + binIndex(valence, this.bins);
  }

  /** Adds `weight` at a point; returns the cell index used, so it can be removed later in O(1). */
  add(valence: number, arousal: number, weight = 1): number {
    const c = this.cellOf(valence, arousal);
    this.counts[c] = (this.counts[c] ?? 0) + weight;
    this.total += weight;
    return c;
  }

  /** Removes `weight` from cell `cell` (as returned by {@link add}). */
  removeCell(cell: number, weight = 1): void {
    const v = (this.counts[cell] ?? 0) - weight;
    // Guard against float drift leaving tiny negatives.
    this.counts[cell] = v < 1e-9 ? 0 : v;
    this.total -= weight;
    if (this.total < 1e-9) this.total = 0;
  }

  /** Removes every point. */
  clear(): void {
    this.counts.fill(0);
    this.total = 0;
  }
}
