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
 *
 * Two implementations of the same steps: on BigInt (any size), and on doubles holding integers
 * (exact while every value stays ≤ 2⁵³ − 1, Number.MAX_SAFE_INTEGER). The public samplers take
 * the double path and hand any step whose operands would leave the safe range to the BigInt
 * one: both read the same random words in the same order and decide identically, so the draws
 * are the same, word for word (the differential test in discrete.test.ts), only without a BigInt
 * allocation per step — the live release draws up to 256 of them per snapshot (R7).
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
export function uniformBelowBig(rng: RandomWords, bound: bigint): bigint {
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
export function bernoulliBig(rng: RandomWords, num: bigint, den: bigint): boolean {
  return uniformBelowBig(rng, den) < num;
}

/** Bernoulli(exp(−γ)) for a rational γ = num/den ≥ 0 (CKS 2020, Algorithm 1). */
export function bernoulliExpBig(rng: RandomWords, num: bigint, den: bigint): boolean {
  if (num < 0n || den <= 0n) throw new RangeError('γ must be a non-negative rational');
  // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)).
  let n = num;
  while (n > den) {
    if (!bernoulliExpAtMostOneBig(rng, 1n, 1n)) return false;
    n -= den;
  }
  return bernoulliExpAtMostOneBig(rng, n, den);
}

/** Bernoulli(exp(−γ)) for γ ∈ [0, 1]: K ← 1; while Bernoulli(γ/K), K ← K + 1; return K odd. */
function bernoulliExpAtMostOneBig(rng: RandomWords, num: bigint, den: bigint): boolean {
  let k = 1n;
  while (bernoulliBig(rng, num, den * k)) k++;
  return k % 2n === 1n;
}

/**
 * A discrete Laplace draw with P(Y = y) ∝ exp(−|y|·s/t), integers s, t ≥ 1 (CKS 2020,
 * Algorithm 2): scale t/s; variance ≈ 2(t/s)² for large t/s.
 */
export function sampleDiscreteLaplaceBig(rng: RandomWords, s: bigint, t: bigint): bigint {
  if (s < 1n || t < 1n) throw new RangeError('s and t must be positive integers');
  for (;;) {
    const u = uniformBelowBig(rng, t);
    if (!bernoulliExpBig(rng, u, t)) continue;
    let v = 0n;
    while (bernoulliExpBig(rng, 1n, 1n)) v++;
    const x = u + t * v;
    const y = x / s;
    const negative = bernoulliBig(rng, 1n, 2n);
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/**
 * A discrete Gaussian draw with P(Y = y) ∝ exp(−y²/(2σ²)), σ² = sigma2 a positive rational
 * (CKS 2020, Algorithm 3): t = ⌊σ⌋ + 1; draw Y from the discrete Laplace of scale t and keep it
 * with probability exp(−(|Y| − σ²/t)²/(2σ²)).
 */
export function sampleDiscreteGaussianBig(rng: RandomWords, sigma2: Rational): bigint {
  const { num: sn, den: sd } = sigma2;
  if (sn <= 0n) throw new RangeError('σ² must be positive');
  const t = isqrt(sn / sd) + 1n;
  for (;;) {
    const y = sampleDiscreteLaplaceBig(rng, 1n, t);
    const a = y < 0n ? -y : y;
    // (|Y| − σ²/t)² / (2σ²) = (|Y|·sd·t − sn)² / (2·sn·sd·t²)
    const d = a * sd * t - sn;
    if (bernoulliExpBig(rng, d * d, 2n * sn * sd * t * t)) return y;
  }
}

// ——— the same steps on doubles holding integers (exact up to 2⁵³ − 1) ———————————————————————————

const SAFE = Number.MAX_SAFE_INTEGER;
const TWO32 = 4_294_967_296;
/** a·b if it is a safe integer, else NaN (the caller then takes the BigInt step). */
const mul = (a: number, b: number): number => {
  const p = a * b;
  return p <= SAFE && p >= -SAFE ? p : Number.NaN;
};
const safe = (x: number): boolean => x <= SAFE && x >= -SAFE && !Number.isNaN(x);
/** Bits of x ≥ 1 (x < 2⁵³). */
const bitLength = (x: number): number => (x < TWO32 ? 32 - Math.clz32(x) : 32 + (32 - Math.clz32(Math.floor(x / TWO32))));

/** {@link uniformBelowBig} on doubles; bound a safe integer ≥ 1. */
function uniformBelowN(rng: RandomWords, bound: number): number {
  if (bound === 1) return 0;
  const bits = bitLength(bound - 1);
  if (bits <= 32) {
    // The word masked to `bits` bits (the BigInt step's x & mask with one word).
    const mask = bits === 32 ? -1 : 2 ** bits - 1;
    for (;;) {
      const x = (rng.nextU32() & mask) >>> 0;
      if (x < bound) return x;
    }
  }
  // Two words, the first the high one: ((w₀ << 32) | w₁) & mask.
  const hiMask = 2 ** (bits - 32) - 1;
  for (;;) {
    const hi = (rng.nextU32() & hiMask) >>> 0;
    const x = hi * TWO32 + rng.nextU32();
    if (x < bound) return x;
  }
}

function bernoulliN(rng: RandomWords, num: number, den: number): boolean {
  if (!safe(den)) return bernoulliBig(rng, BigInt(num), BigInt(den));
  return uniformBelowN(rng, den) < num;
}

function bernoulliExpAtMostOneN(rng: RandomWords, num: number, den: number): boolean {
  let k = 1;
  for (;;) {
    const dk = mul(den, k);
    if (Number.isNaN(dk)) {
      // Only for enormous denominators: the rest of the loop on BigInt.
      let kb = BigInt(k);
      while (bernoulliBig(rng, BigInt(num), BigInt(den) * kb)) kb++;
      return kb % 2n === 1n;
    }
    if (!bernoulliN(rng, num, dk)) return k % 2 === 1;
    k++;
  }
}

/** {@link bernoulliExpBig} on doubles; num, den safe integers. */
function bernoulliExpN(rng: RandomWords, num: number, den: number): boolean {
  let n = num;
  while (n > den) {
    if (!bernoulliExpAtMostOneN(rng, 1, 1)) return false;
    n -= den;
  }
  return bernoulliExpAtMostOneN(rng, n, den);
}

/** {@link sampleDiscreteLaplaceBig} with s = 1 on doubles (t a safe integer, small). */
function sampleDiscreteLaplaceN(rng: RandomWords, t: number): number {
  for (;;) {
    const u = uniformBelowN(rng, t);
    if (!bernoulliExpN(rng, u, t)) continue;
    let v = 0;
    while (bernoulliExpN(rng, 1, 1)) v++;
    const y = u + t * v;
    const negative = bernoulliN(rng, 1, 2);
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

/** ⌊n/d⌋ for safe integers n ≥ 0, d ≥ 1, exactly (the double quotient can round up to an integer). */
function floorDiv(n: number, d: number): number {
  let q = Math.floor(n / d);
  while (q * d > n) q--;
  while ((q + 1) * d <= n) q++;
  return q;
}

/** ⌊√n⌋ for a safe integer n ≥ 0, exactly. */
function isqrtN(n: number): number {
  let x = Math.floor(Math.sqrt(n));
  while (x * x > n) x--;
  while ((x + 1) * (x + 1) <= n) x++;
  return x;
}

/** Bernoulli(num/den) for 0 ≤ num/den ≤ 1. */
export function bernoulli(rng: RandomWords, num: bigint, den: bigint): boolean {
  return den <= BigInt(SAFE) ? bernoulliN(rng, Number(num), Number(den)) : bernoulliBig(rng, num, den);
}

/** A uniform integer in [0, bound) by rejection sampling over whole 32-bit words. */
export function uniformBelow(rng: RandomWords, bound: bigint): bigint {
  if (bound <= 0n) throw new RangeError('bound must be positive');
  return bound <= BigInt(SAFE) ? BigInt(uniformBelowN(rng, Number(bound))) : uniformBelowBig(rng, bound);
}

/** Bernoulli(exp(−γ)) for a rational γ = num/den ≥ 0 (CKS 2020, Algorithm 1). */
export function bernoulliExp(rng: RandomWords, num: bigint, den: bigint): boolean {
  if (num < 0n || den <= 0n) throw new RangeError('γ must be a non-negative rational');
  return num <= BigInt(SAFE) && den <= BigInt(SAFE) ? bernoulliExpN(rng, Number(num), Number(den)) : bernoulliExpBig(rng, num, den);
}

/** A discrete Laplace draw with P(Y = y) ∝ exp(−|y|·s/t) (CKS 2020, Algorithm 2). */
export function sampleDiscreteLaplace(rng: RandomWords, s: bigint, t: bigint): bigint {
  if (s < 1n || t < 1n) throw new RangeError('s and t must be positive integers');
  // s = 1 (the Gaussian's proposal) with a moderate t takes the double path.
  return s === 1n && t <= 1n << 32n ? BigInt(sampleDiscreteLaplaceN(rng, Number(t))) : sampleDiscreteLaplaceBig(rng, s, t);
}

/**
 * A discrete Gaussian draw with P(Y = y) ∝ exp(−y²/(2σ²)), σ² a positive rational (CKS 2020,
 * Algorithm 3), as a number: the double path whenever σ²'s numerator and denominator are safe
 * integers (each acceptance test whose operands would not be is taken on BigInt).
 */
export function discreteGaussian(rng: RandomWords, sigma2: Rational): number {
  const { num, den } = sigma2;
  if (num <= 0n) throw new RangeError('σ² must be positive');
  if (num > BigInt(SAFE) || den > BigInt(SAFE)) return Number(sampleDiscreteGaussianBig(rng, sigma2));
  const sn = Number(num);
  const sd = Number(den);
  const t = isqrtN(floorDiv(sn, sd)) + 1;
  if (t > TWO32) return Number(sampleDiscreteGaussianBig(rng, sigma2));
  const den2 = mul(mul(mul(2 * sn, sd), t), t);
  for (;;) {
    const y = sampleDiscreteLaplaceN(rng, t);
    const a = y < 0 ? -y : y;
    const d = mul(mul(a, sd), t) - sn;
    const d2 = safe(d) ? mul(d, d) : Number.NaN;
    const accept = safe(d2) && safe(den2) ? bernoulliExpN(rng, d2, den2) : bernoulliExpBig(rng, bigD(a, sd, t, sn) ** 2n, 2n * num * den * BigInt(t) * BigInt(t));
    if (accept) return y;
  }
}
const bigD = (a: number, sd: number, t: number, sn: number): bigint => BigInt(a) * BigInt(sd) * BigInt(t) - BigInt(sn);

/** {@link discreteGaussian} as a BigInt (the DP releases' interface). */
export function sampleDiscreteGaussian(rng: RandomWords, sigma2: Rational): bigint {
  return sigma2.num > BigInt(SAFE) || sigma2.den > BigInt(SAFE) ? sampleDiscreteGaussianBig(rng, sigma2) : BigInt(discreteGaussian(rng, sigma2));
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
