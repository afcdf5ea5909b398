/**
 * String hashing for feature hashing ("the hashing trick"): features are never stored as
 * strings, only as bucket indices, so the model needs no vocabulary and extraction allocates
 * nothing per token.
 *
 * Sources: FNV-1a (Fowler, Noll, Vo; IETF draft-eastlake-fnv) for the byte-wise hash; the
 * MurmurHash3 `fmix32` finaliser (Austin Appleby, public domain) to spread bits before masking;
 * Weinberger et al., "Feature Hashing for Large Scale Multitask Learning", ICML 2009, for the
 * trick itself.
 */

/** FNV-1a 32-bit offset basis. */
export const FNV_OFFSET = 0x811c9dc5;

/** One FNV-1a step: folds a UTF-16 code unit into `h`. */
export function fnvStep(h: number, code: number): number {
  return Math.imul(h ^ code, 0x01000193);
}

/** FNV-1a over `s[start, end)` (UTF-16 code units). */
export function fnvRange(s: string, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = fnvStep(h, s.charCodeAt(i));
  return h;
}

/** FNV-1a over a whole string. */
export function fnvString(s: string): number {
  return fnvRange(s, 0, s.length) >>> 0;
}

/** MurmurHash3's 32-bit finaliser: an avalanche so that the low bits are usable as a bucket. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines two hashes (order matters), e.g. for bigrams or a namespace tag. */
export function combine(a: number, b: number): number {
  return fmix32(Math.imul(a, 0x9e3779b1) ^ b);
}
