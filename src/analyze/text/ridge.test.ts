import { describe, expect, it } from 'vitest';
import { fitRidge, type SparseMatrix } from './ridge.ts';
import { pearson } from './stats.ts';

function dense(rows: number[][]): SparseMatrix {
  const rowPtr = new Int32Array(rows.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  rows.forEach((r, i) => {
    r.forEach((x, j) => {
      if (x !== 0) {
        idx.push(j);
        val.push(x);
      }
    });
    rowPtr[i + 1] = idx.length;
  });
  return { rows: rows.length, cols: rows[0]?.length ?? 0, rowPtr, index: Int32Array.from(idx), value: Float64Array.from(val) };
}

describe('fitRidge', () => {
  it('recovers exact weights and intercept with a tiny penalty', () => {
    const rows = [
      [1, 0, 2],
      [0, 1, 1],
      [1, 1, 0],
      [2, 0, 1],
      [0, 3, 1],
    ];
    const w = [0.5, -1, 2];
    const y = Float64Array.from(rows, (r) => 3 + r.reduce((s, x, j) => s + x * (w[j] as number), 0));
    const fit = fitRidge(dense(rows), y, { penalty: new Float64Array(3).fill(1e-9), maxIter: 100, tol: 1e-12 });
    expect(fit.bias).toBeCloseTo(3, 6);
    [...fit.weights].forEach((x, j) => {
      expect(x).toBeCloseTo(w[j] as number, 6);
    });
  });

  it('matches the closed form (XᵀX + λI)⁻¹Xᵀy for one feature and no intercept signal', () => {
    // y = 2x on centred x: ridge slope = Σxy / (Σx² + λ).
    const xs = [-2, -1, 1, 2];
    const y = Float64Array.from(xs, (x) => 2 * x);
    const fit = fitRidge(dense(xs.map((x) => [x])), y, { penalty: Float64Array.of(5), maxIter: 50, tol: 1e-12 });
    expect(fit.weights[0]).toBeCloseTo(20 / (10 + 5), 9);
    expect(fit.bias).toBeCloseTo(0, 9);
  });
});

describe('pearson', () => {
  it('is 1 for a positive linear relation and -1 for a negative one', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });
});
