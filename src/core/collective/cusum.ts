/**
 * The two-sided standardised tabular CUSUM and Siegmund's approximation of its run length.
 *
 * Sources: E. S. Page, "Continuous inspection schemes", Biometrika 41, 1954 (the scheme);
 * D. C. Montgomery, Introduction to Statistical Quality Control, 7th ed., §9.1 (the tabular
 * form Sᵢ⁺ = max(0, Sᵢ₋₁⁺ + zᵢ − k), Sᵢ⁻ = max(0, Sᵢ₋₁⁻ − zᵢ − k) on standardised zᵢ, the
 * change-point estimate "last time the statistic was zero", and Siegmund's approximation
 * ARL ≈ (e^(−2Δb) + 2Δb − 1) / (2Δ²), b = h + 1.166, Δ = δ* − k for the upper side and
 * Δ = −δ* − k for the lower, two-sided 1/ARL = 1/ARL⁺ + 1/ARL⁻);
 * D. Siegmund, Sequential Analysis, Springer 1985, §X.2.
 */

/** Which way a statistic moved. */
export type Direction = 'up' | 'down';

/** Result of feeding one standardised observation. */
export interface CusumStep {
  readonly upper: number;
  readonly lower: number;
  /** The side that crossed h at this step, if any. */
  readonly alarm: Direction | null;
  /** Index (0-based, counted from the last reset) of the first observation after the statistic of the alarming side was last zero. */
  readonly changeIndex: number | null;
}

/** A two-sided tabular CUSUM on standardised observations. */
export class Cusum {
  readonly k: number;
  readonly h: number;
  private up = 0;
  private lo = 0;
  private n = 0;
  private upStart = 0;
  private loStart = 0;

  /** `k` is the reference value and `h` the decision interval, both in standard deviations. */
  constructor(k = 0.5, h = 6) {
    if (!(k >= 0) || !(h > 0)) throw new RangeError('k must be ≥ 0 and h > 0');
    this.k = k;
    this.h = h;
  }

  /** Feeds one standardised observation z. */
  step(z: number): CusumStep {
    const i = this.n++;
    if (this.up === 0) this.upStart = i;
    if (this.lo === 0) this.loStart = i;
    this.up = Math.max(0, this.up + z - this.k);
    this.lo = Math.max(0, this.lo - z - this.k);
    let alarm: Direction | null = null;
    let changeIndex: number | null = null;
    if (this.up > this.h && this.up >= this.lo) {
      alarm = 'up';
      changeIndex = this.upStart;
    } else if (this.lo > this.h) {
      alarm = 'down';
      changeIndex = this.loStart;
    }
    return { upper: this.up, lower: this.lo, alarm, changeIndex };
  }

  /** The current upper and lower statistics. */
  get statistics(): { readonly upper: number; readonly lower: number } {
    return { upper: this.up, lower: this.lo };
  }

  /** Restarts both sides at zero (after an alarm). */
  reset(): void {
    this.up = 0;
    this.lo = 0;
    this.n = 0;
    this.upStart = 0;
    this.loStart = 0;
  }
}

/**
 * Siegmund's approximation of the average run length of a one-sided CUSUM with reference `k`
 * and interval `h` when the standardised mean is `delta` (Montgomery eq. 9.20).
 */
export function siegmundArlOneSided(k: number, h: number, delta: number): number {
  const b = h + 1.166;
  const d = delta - k;
  if (Math.abs(d) < 1e-9) return b * b;
  return (Math.exp(-2 * d * b) + 2 * d * b - 1) / (2 * d * d);
}

/** Siegmund's approximation of the two-sided CUSUM's average run length at shift `delta`. */
export function siegmundArlTwoSided(k: number, h: number, delta = 0): number {
  const up = siegmundArlOneSided(k, h, delta);
  const down = siegmundArlOneSided(k, h, -delta);
  return 1 / (1 / up + 1 / down);
}
