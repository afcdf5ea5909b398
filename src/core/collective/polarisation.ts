/**
 * Esteban–Ray polarisation over the occupied cells of the grid.
 *
 * Source: J.-M. Esteban and D. Ray, "On the Measurement of Polarization", Econometrica 62(4),
 * 1994, pp. 819–851: P_α = K · Σᵢ Σⱼ πᵢ^(1+α) πⱼ ‖yᵢ − yⱼ‖, where πᵢ are group shares,
 * yᵢ group positions, α ∈ (0, α*] the weight of identification (α* ≈ 1.6) and K a scale
 * constant (here K = 1). Groups are the occupied cells, at their centres, so a tick costs
 * O(m²) for m occupied cells (at most bins⁴, independent of the number of people).
 *
 * Because ER's identification term πᵢ^α depends on how finely the plane is cut into groups,
 * attune also reports a resolution-robust normalisation (see docs/collective-state.md):
 *   P̃ = min(1, 2·P_α / (d_max · Σᵢ πᵢ^(1+α))),
 * the identification-weighted mean distance to everyone else relative to half the diagonal
 * d_max = 2√2 of the square; P̃ = d/d_max for two equal camps at distance d, and 1 for two
 * equal point camps in opposite corners.
 */
import type { WeightedPoints } from './weightedPoints.ts';

/** Lowest and highest α accepted (ER 1994 admit α ∈ (0, 1.6]). */
export const ER_ALPHA_RANGE = [0.25, 1.6] as const;

/** The diagonal of the square [-1, 1]²: the largest distance between two affects. */
export const D_MAX = 2 * Math.SQRT2;

/** Esteban–Ray polarisation, raw and normalised. */
export interface Polarisation {
  /** P_α with K = 1 over cell shares and centres. */
  readonly raw: number;
  /** Resolution-robust normalisation in [0, 1] (module header). */
  readonly normalised: number;
  readonly alpha: number;
}

/** Computes ER polarisation of weighted points with identification weight `alpha`. */
export function estebanRay(points: WeightedPoints, alpha = 1): Polarisation {
  if (!(alpha >= ER_ALPHA_RANGE[0] && alpha <= ER_ALPHA_RANGE[1])) {
    throw new RangeError(`alpha must be in [${ER_ALPHA_RANGE[0]}, ${ER_ALPHA_RANGE[1]}]`);
  }
  const { n, x, y, w, total } = points;
  if (n < 2 || !(total > 0)) return { raw: 0, normalised: 0, alpha };
  let raw = 0;
  let ident = 0;
  for (let i = 0; i < n; i++) {
    const pi = (w[i] as number) / total;
    const xi = x[i] as number;
    const yi = y[i] as number;
    let alienation = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dx = xi - (x[j] as number);
      const dy = yi - (y[j] as number);
      alienation += ((w[j] as number) / total) * Math.sqrt(dx * dx + dy * dy);
    }
    const id = pi ** (1 + alpha);
    raw += id * alienation;
    ident += id;
  }
  const normalised = ident > 0 ? Math.min(1, (2 * raw) / (D_MAX * ident)) : 0;
  return { raw, normalised, alpha };
}
