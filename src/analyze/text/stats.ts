/** Small statistics helpers for training and the benchmark. */

export { pearson } from '../../core/stats.ts';

/** Root-mean-square error. */
export function rmse(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] as number) - (y[i] as number);
    s += d * d;
  }
  return Math.sqrt(s / x.length);
}
