/**
 * The samplers against their exact pmfs (CKS 2020): chi-square goodness of fit over many draws
 * with a fixed seed, cells pooled in the tails so every expected count is ≥ 5.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyOfSeed, noiseStream } from './chacha20.ts';
import { bernoulliExp, bernoulliExpBig, discreteGaussian, isqrt, rational, rationalOf, sampleDiscreteGaussian, sampleDiscreteGaussianBig, sampleDiscreteLaplace, sampleDiscreteLaplaceBig, uniformBelow, uniformBelowBig } from './discrete.ts';

const rng = (seq: number) => noiseStream(keyOfSeed('5a'.repeat(32)), 99, seq);

/** Chi-square statistic and degrees of freedom of integer draws against a pmf over [−R, R], tails pooled. */
function chiSquare(draws: readonly number[], pmf: (y: number) => number, range: number): { stat: number; df: number } {
  const n = draws.length;
  let z = 0;
  for (let y = -range * 4; y <= range * 4; y++) z += pmf(y);
  const counts = new Map<number, number>();
  for (const d of draws) counts.set(d, (counts.get(d) ?? 0) + 1);
  let stat = 0;
  let df = -1;
  let pooledE = 0;
  let pooledO = 0;
  for (let y = -range * 4; y <= range * 4; y++) {
    const e = (n * pmf(y)) / z;
    const o = counts.get(y) ?? 0;
    if (e < 5) {
      pooledE += e;
      pooledO += o;
      continue;
    }
    stat += ((o - e) * (o - e)) / e;
    df++;
  }
  if (pooledE > 0) {
    stat += ((pooledO - pooledE) * (pooledO - pooledE)) / pooledE;
    df++;
  }
  return { stat, df };
}

/** The 0.999 quantile of χ²(df), Wilson–Hilferty approximation. */
const chi999 = (df: number) => df * (1 - 2 / (9 * df) + 3.09 * Math.sqrt(2 / (9 * df))) ** 3;

describe('discrete samplers (Canonne–Kamath–Steinke 2020)', () => {
  it('[DP1] uniformBelow is uniform (χ², 20,000 draws below 7)', () => {
    const r = rng(1);
    const draws = Array.from({ length: 20_000 }, () => Number(uniformBelow(r, 7n)));
    const { stat, df } = chiSquare(draws.map((d) => d - 3), (y) => (Math.abs(y) <= 3 ? 1 : 0), 1);
    expect(df).toBe(6);
    expect(stat).toBeLessThan(chi999(df));
  });

  it('[DP1] Bernoulli(exp(−γ)) has mean exp(−γ) for γ = 0, 1/3, 1, 5/2', () => {
    for (const [num, den] of [[0n, 1n], [1n, 3n], [1n, 1n], [5n, 2n]] as const) {
      const r = rng(2 + Number(num));
      const n = 20_000;
      let ones = 0;
      for (let i = 0; i < n; i++) if (bernoulliExp(r, num, den)) ones++;
      const p = Math.exp(-Number(num) / Number(den));
      // Within 4.5 standard errors.
      expect(Math.abs(ones / n - p)).toBeLessThanOrEqual(4.5 * Math.sqrt((p * (1 - p)) / n) + 1e-12);
    }
  });

  it('[DP1] discrete Laplace of scale t/s matches exp(−|y|·s/t) (χ², 20,000 draws, t/s = 2 and 7/3)', () => {
    for (const [s, t] of [[1n, 2n], [3n, 7n]] as const) {
      const r = rng(10 + Number(t));
      const draws = Array.from({ length: 20_000 }, () => Number(sampleDiscreteLaplace(r, s, t)));
      const scale = Number(t) / Number(s);
      const { stat, df } = chiSquare(draws, (y) => Math.exp(-Math.abs(y) / scale), Math.ceil(scale * 4));
      expect(stat).toBeLessThan(chi999(df));
    }
  });

  it('[DP1] discrete Gaussian of σ² = 1, 9/4 and 20 matches exp(−y²/2σ²) (χ², 20,000 draws)', () => {
    for (const [num, den] of [[1n, 1n], [9n, 4n], [20n, 1n]] as const) {
      const r = rng(20 + Number(num));
      const sigma2 = Number(num) / Number(den);
      const draws = Array.from({ length: 20_000 }, () => Number(sampleDiscreteGaussian(r, rational(num, den))));
      const { stat, df } = chiSquare(draws, (y) => Math.exp((-y * y) / (2 * sigma2)), Math.ceil(Math.sqrt(sigma2) * 3));
      expect(stat).toBeLessThan(chi999(df));
      const variance = draws.reduce((a, y) => a + y * y, 0) / draws.length;
      expect(Math.abs(variance - sigma2) / sigma2).toBeLessThan(0.06);
    }
  });

  it('[DP1] the χ² test can fail: a Laplace of the wrong scale is rejected', () => {
    const r = rng(40);
    const draws = Array.from({ length: 20_000 }, () => Number(sampleDiscreteLaplace(r, 1n, 3n)));
    const { stat, df } = chiSquare(draws, (y) => Math.exp(-Math.abs(y) / 2), 8);
    expect(stat).toBeGreaterThan(chi999(df));
  });

  it('isqrt is the integer square root, also beyond 2⁵³', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 20n, 2n ** 64n + 5n]) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
  });

  it('[DP1] the double path draws what the BigInt path draws, word for word (differential, property)', () => {
    // Two identical streams: the same draws, and both streams left at the same word.
    const pair = (seq: number) => [rng(seq), rng(seq)] as const;
    const bound = fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 1n, max: 1n << 40n }), fc.bigInt({ min: 1n << 52n, max: 1n << 60n }));
    fc.assert(
      fc.property(fc.nat(1_000_000), bound, fc.bigInt({ min: 0n, max: 1n << 56n }), fc.bigInt({ min: 1n, max: 1n << 56n }), (seq, b, num, den) => {
        const [a, c] = pair(seq);
        for (let i = 0; i < 20; i++) expect(uniformBelow(a, b)).toBe(uniformBelowBig(c, b));
        for (let i = 0; i < 20; i++) expect(bernoulliExp(a, num, den)).toBe(bernoulliExpBig(c, num, den));
        for (let i = 0; i < 10; i++) expect(sampleDiscreteLaplace(a, 1n, (b % 50n) + 1n)).toBe(sampleDiscreteLaplaceBig(c, 1n, (b % 50n) + 1n));
        expect(a.nextU32()).toBe(c.nextU32());
      }),
      { numRuns: 150 },
    );
    // The variances the live release and the DP releases use, and some odd ones; the last two
    // leave the safe range (the coordinate sums' σ² at σμ = 0.5 and 2, in quantised units²).
    const variances = [rationalOf(1), rationalOf(4), rationalOf(0.25), rational(7n, 3n), rational(1n, 1000n), rationalOf(2.5 ** 2), rational((65_536n * 65_536n) / 2n), rational((65_536n * 65_536n * 2n) ** 2n)];
    variances.forEach((v, vi) => {
      const [a, c] = pair(1000 + vi);
      for (let i = 0; i < 400; i++) expect(BigInt(discreteGaussian(a, v))).toBe(sampleDiscreteGaussianBig(c, v));
      for (let i = 0; i < 50; i++) expect(sampleDiscreteGaussian(a, v)).toBe(sampleDiscreteGaussianBig(c, v));
      expect(a.nextU32()).toBe(c.nextU32());
    });
  });
});
