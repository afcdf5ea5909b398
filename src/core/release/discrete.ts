/**
 * Exact samplers of the discrete Laplace and discrete Gaussian distributions, after
 * C. L. Canonne, G. Kamath and T. Steinke, "The Discrete Gaussian for Differential Privacy",
 * NeurIPS 2020 (arXiv:2004.00010), Algorithms 1–3. Every step is integer or rational
 * arithmetic on BigInt fed by uniform random words, so no floating-point rounding can leak
 * through the noise (the attacks on floating-point Laplace: I. Mironov, "On significance of
 * the least significant bits for differential privacy", CCS 2012).
 *
 * - {@link bernoulliExp}: Bernoulli(exp(−γ)) for a rational γ ≥ 0 (CKS Alg. 1).
 * - {@link sampleDiscreteLaplace}: P(Y = y) ∝ exp(−|y|·s/t) (CKS Alg. 2), scale t/s.
 * - {@link sampleDiscreteGaussian}: P(Y = y) ∝ exp(−y²/(2σ²)) for a rational σ² (CKS Alg. 3).
 *
 * Expected cost: O(1) Bernoulli trials each for moderate scales; each uniform integer below a
 * bound d takes ⌈log₂ d / 32⌉ words and is retried with probability < 1/2 (rejection sampling).
 */
import type { RandomWords } from './chacha20.ts';

/** A non-negative rational number num/den (den > 0). */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

/** n/d as a Rational. */
export function rational(num: bigint | number, den: bigint | number = 1n): Rational {
  const n = BigInt(num);
  const d = BigInt(den);
  if (d <= 0n || n < 0n) throw new RangeError('a rational here is non-negative with a positive denominator');
  return { num: n, den: d };
}

/** A uniform integer in [0, bound) by rejection sampling over whole 32-bit words. */
export function uniformBelow(rng: RandomWords, bound: bigint): bigint {
  if (bound <= 0n) throw new RangeError('bound must be positive');
  if (bound === 1n) return 0n;
  const bits = (bound - 1n).toString(2).length;
  const words = Math.ceil(bits / 32);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    let x = 0n;
    for (let i = 0; i < words; i++) x = (x << 32n) | BigInt(rng.nextU32());
    x &= mask;
    if (x < bound) return x;
  }
}

/** Bernoulli(num/den) for 0 ≤ num/den ≤ 1. */
export function bernoulli(rng: RandomWords, num: bigint, den: bigint): boolean {
  return uniformBelow(rng, den) < num;
}

/** Bernoulli(exp(−γ)) for a rational γ = num/den ≥ 0 (CKS 2020, Algorithm 1). */
export function bernoulliExp(rng: RandomWords, num: bigint, den: bigint): boolean {
  if (num < 0n || den <= 0n) throw new RangeError('γ must be a non-negative rational');
  // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)).
  let n = num;
  while (n > den) {
    if (!bernoulliExpAtMostOne(rng, 1n, 1n)) return false;
    n -= den;
  }
  return bernoulliExpAtMostOne(rng, n, den);
}

/** Bernoulli(exp(−γ)) for γ ∈ [0, 1]: K ← 1; while Bernoulli(γ/K), K ← K + 1; return K odd. */
function bernoulliExpAtMostOne(rng: RandomWords, num: bigint, den: bigint): boolean {
  let k = 1n;
  while (bernoulli(rng, num, den * k)) k++;
  return k % 2n === 1n;
}

/**
 * A discrete Laplace draw with P(Y = y) ∝ exp(−|y|·s/t), integers s, t ≥ 1 (CKS 2020,
 * Algorithm 2): scale t/s; variance ≈ 2(t/s)² for large t/s.
 */
export function sampleDiscreteLaplace(rng: RandomWords, s: bigint, t: bigint): bigint {
  if (s < 1n || t < 1n) throw new RangeError('s and t must be positive integers');
  for (;;) {
    const u = uniformBelow(rng, t);
    if (!bernoulliExp(rng, u, t)) continue;
    let v = 0n;
    while (bernoulliExp(rng, 1n, 1n)) v++;
    const x = u + t * v;
    const y = x / s;
    const negative = bernoulli(rng, 1n, 2n);
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/**
 * A discrete Gaussian draw with P(Y = y) ∝ exp(−y²/(2σ²)), σ² = sigma2 a positive rational
 * (CKS 2020, Algorithm 3): t = ⌊σ⌋ + 1; draw Y from the discrete Laplace of scale t and keep it
 * with probability exp(−(|Y| − σ²/t)²/(2σ²)).
 */
export function sampleDiscreteGaussian(rng: RandomWords, sigma2: Rational): bigint {
  const { num: sn, den: sd } = sigma2;
  if (sn <= 0n) throw new RangeError('σ² must be positive');
  const t = isqrt(sn / sd) + 1n;
  for (;;) {
    const y = sampleDiscreteLaplace(rng, 1n, t);
    const a = y < 0n ? -y : y;
    // (|Y| − σ²/t)² / (2σ²) = (|Y|·sd·t − sn)² / (2·sn·sd·t²)
    const d = a * sd * t - sn;
    if (bernoulliExp(rng, d * d, 2n * sn * sd * t * t)) return y;
  }
}

/** ⌊√n⌋ for n ≥ 0 (Newton's method on BigInt). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** A rational approximation p/q of a positive number (q = 10⁶), for settings given as decimals. */
export function rationalOf(x: number, den = 1_000_000): Rational {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError('expected a positive finite number');
  return rational(BigInt(Math.round(x * den)), BigInt(den));
}
