/**
 * The affect record: one person's feeling at one moment, on Russell's circumplex
 * (valence × arousal), with how sure we are of it and where it came from.
 *
 * Pure: no I/O, `at` is supplied by the caller.
 */

/** Where an affect record came from. */
export type AffectSource = 'tap' | 'text' | 'heart';

/** All sources, for validation and documentation. */
export const AFFECT_SOURCES = ['tap', 'text', 'heart'] as const satisfies readonly AffectSource[];

/**
 * One affect record. `valence` runs unpleasant (-1) → pleasant (+1), `arousal` calm (-1) →
 * energised (+1), `confidence` 0 (no evidence) → 1 (the person said so directly), `at` is
 * epoch milliseconds.
 */
export interface Affect {
  readonly valence: number;
  readonly arousal: number;
  readonly confidence: number;
  readonly source: AffectSource;
  readonly at: number;
}

/** True when `x` is a finite number within [lo, hi]. */
export function isWithin(x: number, lo: number, hi: number): boolean {
  return Number.isFinite(x) && x >= lo && x <= hi;
}

/** Clamps a finite number into [lo, hi]; non-finite input becomes `lo`'s and `hi`'s midpoint. */
export function clamp(x: number, lo: number, hi: number): number {
  if (!Number.isFinite(x)) return (lo + hi) / 2;
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Checks that an affect record is well formed (every number finite and in range).
 * Returns a reason string for the first violation, or `null` when valid.
 */
export function checkAffect(a: Affect): string | null {
  if (!isWithin(a.valence, -1, 1)) return 'valence must be a finite number in [-1, 1]';
  if (!isWithin(a.arousal, -1, 1)) return 'arousal must be a finite number in [-1, 1]';
  if (!isWithin(a.confidence, 0, 1)) return 'confidence must be a finite number in [0, 1]';
  if (!(AFFECT_SOURCES as readonly string[]).includes(a.source)) return 'source must be tap, text or heart';
  if (!Number.isFinite(a.at)) return 'at must be a finite time';
  return null;
}

/** The four quadrants of the grid, in a fixed order used by every share array. */
export const QUADRANTS = ['pleasant-energised', 'pleasant-calm', 'unpleasant-calm', 'unpleasant-energised'] as const;

/** A quadrant name. */
export type Quadrant = (typeof QUADRANTS)[number];

/** The index into {@link QUADRANTS} of a point; points on an axis go to the pleasant / energised side. */
export function quadrantOf(valence: number, arousal: number): 0 | 1 | 2 | 3 {
  if (valence >= 0) return arousal >= 0 ? 0 : 1;
  return arousal >= 0 ? 3 : 2;
}
