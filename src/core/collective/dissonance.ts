/**
 * The dissonance of a room: one score in [0, 1] and every component it came from, computed
 * per tick from the grid histogram alone (O(m²) for m occupied cells, independent of the
 * number of people).
 *
 *   score = √( P̃ · B̃ ),   B̃ = clamp((b_pop − 5/9) / (1 − 5/9), 0, 1)
 *
 * where P̃ is the normalised Esteban–Ray polarisation (polarisation.ts, ER 1994) and b_pop the
 * bimodality coefficient along the principal axis from the population moments (bimodality.ts,
 * SAS 1990 / Pfister et al. 2013) — the room is the whole population, so no small-sample
 * correction: with it, two opposite camps of 6 people could never score above 0.4. A room is dissonant only when it is both split into modes (b beyond the uniform
 * benchmark 5/9) and the modes are far apart (P̃): a wide but unimodal spread scores 0, which
 * is why entropy (spread) and the circular resultants R̄₁/R̄₂ (Mardia & Jupp 2000) are reported
 * beside it but not folded in. docs/collective-state.md gives worked values.
 */
import type { GridView } from '../histogram.ts';
import { BIMODAL_THRESHOLD, bimodalityCoefficient } from './bimodality.ts';
import { circularResultants } from './circular.ts';
import { normalisedEntropy } from './entropy.ts';
import { estebanRay } from './polarisation.ts';
import { type WeightedPoints, weightedPointsOf } from './weightedPoints.ts';

/** Every component of the dissonance score (all plain numbers, JSON-serialisable). */
export interface Dissonance {
  /** The headline score in [0, 1]. */
  readonly score: number;
  /** Raw Esteban–Ray P_α over cell shares (K = 1). */
  readonly polarisation: number;
  /** Normalised ER polarisation P̃ in [0, 1]. */
  readonly polarisationNormalised: number;
  /** The ER identification weight α used. */
  readonly alpha: number;
  /** Bimodality coefficient b along the principal axis. */
  readonly bimodality: number;
  /** b > 5/9. */
  readonly bimodal: boolean;
  /** Principal axis angle in radians from the valence axis: the direction of the split. */
  readonly axis: number;
  /** Circular mean resultant length R̄₁ of θ = atan2(arousal, valence). */
  readonly r1: number;
  /** Doubled-angle resultant R̄₂: ≈ 1 for two opposite camps. */
  readonly r2: number;
  /** Normalised Shannon entropy of the grid in [0, 1] (spread, not polarisation). */
  readonly entropy: number;
}

/** Options for {@link measureDissonance}. */
export interface DissonanceOptions {
  /** ER identification weight α in [0.25, 1.6]; default 1. */
  readonly alpha?: number;
  /** Number of people (for entropy's cap and b's small-sample correction); default grid total. */
  readonly people?: number;
}

/** The dissonance of an empty or single-cell room. */
export const NO_DISSONANCE: Dissonance = {
  score: 0,
  polarisation: 0,
  polarisationNormalised: 0,
  alpha: 1,
  bimodality: 0,
  bimodal: false,
  axis: 0,
  r1: 0,
  r2: 0,
  entropy: 0,
};

/** Computes dissonance from weighted points (already extracted from the grid). */
export function dissonanceOfPoints(points: WeightedPoints, grid: GridView, options: DissonanceOptions = {}): Dissonance {
  const alpha = options.alpha ?? 1;
  const people = options.people ?? grid.total;
  const er = estebanRay(points, alpha);
  const bc = bimodalityCoefficient(points, people);
  const circ = circularResultants(points);
  const bTilde = Math.max(0, Math.min(1, (bc.populationCoefficient - BIMODAL_THRESHOLD) / (1 - BIMODAL_THRESHOLD)));
  const score = Math.sqrt(er.normalised * bTilde);
  return {
    score,
    polarisation: er.raw,
    polarisationNormalised: er.normalised,
    alpha,
    bimodality: bc.coefficient,
    bimodal: bc.bimodal,
    axis: bc.axis,
    r1: circ.r1,
    r2: circ.r2,
    entropy: normalisedEntropy(grid, people),
  };
}

/** Computes the dissonance of a grid histogram. */
export function measureDissonance(grid: GridView, options: DissonanceOptions = {}): Dissonance {
  return dissonanceOfPoints(weightedPointsOf(grid), grid, options);
}
