/**
 * Circular statistics of the direction of feeling, θ = atan2(arousal, valence).
 *
 * Source: K. V. Mardia and P. E. Jupp, Directional Statistics (Wiley, 2000), §2.3.1 (mean
 * resultant length R̄₁) and §3.4 / §9.5 (the doubled-angle resultant R̄₂ for axial data):
 * R̄ₚ = |Σᵢ wᵢ e^{i·p·θᵢ}| / Σᵢ wᵢ. One camp gives R̄₁ ≈ 1; two opposite camps give
 * R̄₁ ≈ 0 and R̄₂ ≈ 1; a ring or a uniform cloud gives both ≈ 0.
 */
import type { WeightedPoints } from './weightedPoints.ts';

/** The first and second mean resultant lengths and the mean direction. */
export interface CircularResultants {
  /** R̄₁ in [0, 1]. */
  readonly r1: number;
  /** R̄₂ in [0, 1] (doubled angles: axial concentration). */
  readonly r2: number;
  /** Mean direction of θ, radians in (−π, π]. */
  readonly meanAngle: number;
}

/** Computes R̄₁ and R̄₂ of θ = atan2(y, x) over weighted points; points at the origin are skipped. */
export function circularResultants(points: WeightedPoints): CircularResultants {
  let c1 = 0;
  let s1 = 0;
  let c2 = 0;
  let s2 = 0;
  let tw = 0;
  for (let i = 0; i < points.n; i++) {
    const x = points.x[i] as number;
    const y = points.y[i] as number;
    if (x === 0 && y === 0) continue;
    const w = points.w[i] as number;
    const th = Math.atan2(y, x);
    c1 += w * Math.cos(th);
    s1 += w * Math.sin(th);
    c2 += w * Math.cos(2 * th);
    s2 += w * Math.sin(2 * th);
    tw += w;
  }
  if (!(tw > 0)) return { r1: 0, r2: 0, meanAngle: 0 };
  return { r1: Math.hypot(c1, s1) / tw, r2: Math.hypot(c2, s2) / tw, meanAngle: Math.atan2(s1, c1) };
}
