/**
 * Integer helpers for tree sizes and indexes. Sizes are JavaScript numbers up to 2^53 − 1, so
 * none of these use the 32-bit bitwise operators.
 */

/** Whether `x` is a non-negative safe integer. */
export function isIndex(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}

/** Whether `x` is odd (the least significant bit of RFC 9162's algorithms). */
export function isOdd(x: number): boolean {
  return x % 2 === 1;
}

/** `x >> 1` for any safe integer. */
export function half(x: number): number {
  return Math.floor(x / 2);
}

/** Whether `n` is a power of two (1, 2, 4, …). */
export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** The largest power of two strictly less than `n` (RFC 9162 §2.1.1's `k`); needs `n > 1`. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** log2 of a power of two. */
export function log2Exact(n: number): number {
  let l = 0;
  while (n > 1) {
    n /= 2;
    l++;
  }
  return l;
}
