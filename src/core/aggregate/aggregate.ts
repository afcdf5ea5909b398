/**
 * The mergeable aggregate of a crowd's points: cell counts of the valence × arousal grid,
 * quadrant counts and the sums behind the mean and spread. `add` and `remove` are O(1),
 * `merge` is O(bins²), and all three are **exact**: coordinates are quantised to 2⁻¹⁶ and every
 * sum is an integer held in a double, so an aggregate built in any order — or merged from the
 * partial aggregates of several nodes — is equal, bit for bit, to the aggregate of the whole
 * crowd, and removing a point leaves no floating-point residue.
 *
 * Bound: with |q| ≤ 2¹⁶ per coordinate, Σq² ≤ n·2³²; doubles hold integers exactly up to 2⁵³, so
 * one aggregate is exact for up to 2²¹ = 2,097,152 points ({@link MAX_POINTS}).
 *
 * The grid has an even number of cells per axis, so every cell lies in one quadrant; a point's
 * quadrant is its cell's. Cell layout is the grid histogram's (src/core/histogram.ts): row-major by arousal,
 * index = iy · bins + ix; cell (ix, iy) covers valence [-1 + ix·w, -1 + (ix+1)·w), w = 2 / bins.
 */
import { binIndex, type GridView } from '../histogram.ts';

/** Quantisation step of a coordinate: 2⁻¹⁶. */
export const QUANTUM = 65_536;

/** The most points one aggregate holds exactly (2²¹; see the header). */
export const MAX_POINTS = 2 ** 21;

/** A coordinate in [-1, 1] as an integer multiple of 2⁻¹⁶. */
export function quantise(x: number): number {
  return Math.round(x * QUANTUM);
}

/** A point as the aggregate stores it: its cell, quadrant and quantised coordinates. */
export interface AggregatePoint {
  readonly cell: number;
  readonly quadrant: 0 | 1 | 2 | 3;
  /** Quantised valence (integer, |qv| ≤ 2¹⁶). */
  readonly qv: number;
  /** Quantised arousal. */
  readonly qa: number;
}

/** Plain moments read off an aggregate. */
export interface Moments {
  readonly count: number;
  readonly mean: { readonly valence: number; readonly arousal: number } | null;
  readonly spread: { readonly valence: number; readonly arousal: number } | null;
  /** Shares in QUADRANTS order, or null for an empty aggregate. */
  readonly quadrants: readonly [number, number, number, number] | null;
}

/** A mutable, mergeable aggregate. Implements {@link GridView} for the collective-state maths. */
export class Aggregate implements GridView {
  readonly bins: number;
  readonly counts: Float64Array;
  /** Points per quadrant, in QUADRANTS order. */
  readonly quadrantCounts: [number, number, number, number] = [0, 0, 0, 0];
  /** Number of points. */
  n = 0;
  /** Bumped by every change: equal versions of one aggregate hold the same points. */
  version = 0;
  /** Σ qv, Σ qa, Σ qv², Σ qa² (exact integers). */
  sv = 0;
  sa = 0;
  svv = 0;
  saa = 0;

  constructor(bins = 16) {
    if (!Number.isInteger(bins) || bins < 2 || bins > 256 || bins % 2 !== 0) throw new RangeError('bins must be an even integer in [2, 256]');
    this.bins = bins;
    this.counts = new Float64Array(bins * bins);
  }

  /** Sum of all weights (GridView): the number of points. */
  get total(): number {
    return this.n;
  }

  /** The stored form of a point; pass it back to {@link remove}. */
  pointOf(valence: number, arousal: number): AggregatePoint {
    const ix = binIndex(valence, this.bins);
    const iy = binIndex(arousal, this.bins);
    const h = this.bins / 2;
    return {
      cell: iy * this.bins + ix,
      // The quadrant is the cell's, so quadrant shares always agree with the histogram (a
      // valence of −1e−17 rounds into the first pleasant column and counts as pleasant).
      quadrant: ix >= h ? (iy >= h ? 0 : 1) : iy >= h ? 3 : 2,
      qv: quantise(valence),
      qa: quantise(arousal),
    };
  }

  /** Adds a point. O(1). */
  add(p: AggregatePoint): void {
    if (this.n >= MAX_POINTS) throw new RangeError(`an aggregate holds at most ${MAX_POINTS} points exactly`);
    this.version++;
    this.counts[p.cell] = (this.counts[p.cell] ?? 0) + 1;
    this.quadrantCounts[p.quadrant]++;
    this.n++;
    this.sv += p.qv;
    this.sa += p.qa;
    this.svv += p.qv * p.qv;
    this.saa += p.qa * p.qa;
  }

  /** Removes a point that was added. O(1). */
  remove(p: AggregatePoint): void {
    this.version++;
    this.counts[p.cell] = (this.counts[p.cell] ?? 0) - 1;
    this.quadrantCounts[p.quadrant]--;
    this.n--;
    this.sv -= p.qv;
    this.sa -= p.qa;
    this.svv -= p.qv * p.qv;
    this.saa -= p.qa * p.qa;
  }

  /** Adds every point of `other` (a partial aggregate from another node). O(bins²). */
  merge(other: Aggregate): this {
    if (other.bins !== this.bins) throw new RangeError('cannot merge aggregates of different grids');
    this.version++;
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    for (let q = 0; q < 4; q++) this.quadrantCounts[q as 0] += other.quadrantCounts[q as 0];
    this.n += other.n;
    this.sv += other.sv;
    this.sa += other.sa;
    this.svv += other.svv;
    this.saa += other.saa;
    return this;
  }

  /** Becomes a copy of `other` (a cluster's merged counts, §K). O(bins²). */
  assign(other: Aggregate): this {
    if (other.bins !== this.bins) throw new RangeError('cannot assign aggregates of different grids');
    this.version++;
    this.counts.set(other.counts);
    for (let q = 0; q < 4; q++) this.quadrantCounts[q as 0] = other.quadrantCounts[q as 0];
    this.n = other.n;
    this.sv = other.sv;
    this.sa = other.sa;
    this.svv = other.svv;
    this.saa = other.saa;
    return this;
  }

  /** A copy. */
  clone(): Aggregate {
    return new Aggregate(this.bins).merge(this);
  }

  /** Whether two aggregates hold the same points (exact). */
  equals(other: Aggregate): boolean {
    if (other.bins !== this.bins || other.n !== this.n || other.sv !== this.sv || other.sa !== this.sa || other.svv !== this.svv || other.saa !== this.saa) return false;
    for (let q = 0; q < 4; q++) if (other.quadrantCounts[q as 0] !== this.quadrantCounts[q as 0]) return false;
    for (let i = 0; i < this.counts.length; i++) if (other.counts[i] !== this.counts[i]) return false;
    return true;
  }

  /** Count, mean, spread (population standard deviation) and quadrant shares. O(1). */
  moments(): Moments {
    const n = this.n;
    if (n === 0) return { count: 0, mean: null, spread: null, quadrants: null };
    const mv = this.sv / n;
    const ma = this.sa / n;
    // Variance from exact integer sums: (n·Σq² − (Σq)²) / n², computed without cancellation
    // beyond one rounding of each product.
    const vv = Math.max(0, this.svv / n - mv * mv);
    const va = Math.max(0, this.saa / n - ma * ma);
    return {
      count: n,
      mean: { valence: mv / QUANTUM, arousal: ma / QUANTUM },
      spread: { valence: Math.sqrt(vv) / QUANTUM, arousal: Math.sqrt(va) / QUANTUM },
      quadrants: this.quadrantCounts.map((c) => c / n) as unknown as [number, number, number, number],
    };
  }
}
