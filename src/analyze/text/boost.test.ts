import { describe, expect, it } from 'vitest';
import { fitBoostedTrees, predictBoosted } from './boost.ts';

describe('fitBoostedTrees', () => {
  // y = 1 when x0 > 0.5 and x1 > 0.5 (an interaction a linear model cannot fit), else 0.
  const n = 400;
  const x = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = ((i * 37) % 100) / 100;
    const b = ((i * 61) % 97) / 97;
    x[i * 2] = a;
    x[i * 2 + 1] = b;
    y[i] = a > 0.5 && b > 0.5 ? 1 : 0;
  }
  const opts = { trees: 60, depth: 2, learningRate: 0.2, minLeaf: 10 };

  it('learns an interaction and is deterministic', () => {
    const t = fitBoostedTrees(x, 2, y, opts);
    let se = 0;
    for (let i = 0; i < n; i++) se += (predictBoosted(t, [x[i * 2] as number, x[i * 2 + 1] as number]) - (y[i] as number)) ** 2;
    expect(se / n).toBeLessThan(0.01);
    expect(predictBoosted(t, [0.9, 0.9])).toBeGreaterThan(0.8);
    expect(predictBoosted(t, [0.1, 0.1])).toBeLessThan(0.1);
    const u = fitBoostedTrees(x, 2, y, opts);
    expect([...u.threshold]).toEqual([...t.threshold]);
    expect([...u.leaf]).toEqual([...t.leaf]);
  });

  it('leaves a constant target alone apart from its mean', () => {
    const t = fitBoostedTrees(x, 2, new Float64Array(n).fill(2), { ...opts, trees: 3, learningRate: 1 });
    expect(predictBoosted(t, [0.3, 0.7])).toBeCloseTo(2, 6);
    expect([...t.threshold].every((v) => v === Number.POSITIVE_INFINITY)).toBe(true);
  });
});
