/**
 * The EWMA control chart on standardised observations.
 *
 * Source: S. W. Roberts, "Control chart tests based on geometric moving averages",
 * Technometrics 1(3), 1959; limits as in J. M. Lucas and M. S. Saccucci, "Exponentially
 * weighted moving average control schemes", Technometrics 32(1), 1990:
 * zᵢ = λxᵢ + (1 − λ)zᵢ₋₁, out of control when |zᵢ| > L·√(λ/(2 − λ)·(1 − (1 − λ)^(2i))).
 * λ = 0.1, L = 2.814 gives an in-control ARL of about 500 (Lucas & Saccucci, Table 3).
 */
import type { Direction } from './cusum.ts';

/** An EWMA chart on standardised observations (target 0, sd 1). */
export class EwmaChart {
  readonly lambda: number;
  readonly limit: number;
  private z = 0;
  private n = 0;

  constructor(lambda = 0.1, limit = 2.814) {
    if (!(lambda > 0 && lambda <= 1) || !(limit > 0)) throw new RangeError('lambda must be in (0, 1] and L > 0');
    this.lambda = lambda;
    this.limit = limit;
  }

  /** Feeds one standardised observation; returns the side out of control, if any. */
  step(x: number): Direction | null {
    this.n++;
    this.z = this.lambda * x + (1 - this.lambda) * this.z;
    const l = this.limit * Math.sqrt((this.lambda / (2 - this.lambda)) * (1 - (1 - this.lambda) ** (2 * this.n)));
    if (this.z > l) return 'up';
    if (this.z < -l) return 'down';
    return null;
  }

  /** The current EWMA statistic. */
  get value(): number {
    return this.z;
  }

  /** Restarts at the target. */
  reset(): void {
    this.z = 0;
    this.n = 0;
  }
}
