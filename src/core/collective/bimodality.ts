/**
 * The bimodality coefficient along the principal axis of the cloud.
 *
 * Sources: the coefficient b = (γ² + 1) / (κ + 3(n−1)²/((n−2)(n−3))) with γ the sample
 * skewness and κ the sample excess kurtosis is SAS Institute's (SAS/STAT User's Guide,
 * PROC CLUSTER, 1990) as analysed by R. Pfister et al., "Good things peak in pairs",
 * Frontiers in Psychology 4:700, 2013; a uniform distribution gives 5/9, the threshold above
 * which a distribution is called bimodal, and a normal one 1/3. The principal axis is the
 * first eigenvector of the weighted 2×2 covariance (Pearson 1901).
 */
import type { WeightedPoints } from './weightedPoints.ts';

/** The bimodality threshold of a uniform distribution. */
export const BIMODAL_THRESHOLD = 5 / 9;

/** The bimodality coefficient and the moments it came from. */
export interface Bimodality {
  /** b in (0, 1]; 1/3 for a normal, 5/9 for a uniform, → 1 for two point masses. 0 when undefined. */
  readonly coefficient: number;
  /** True when coefficient > 5/9. */
  readonly bimodal: boolean;
  /** Angle of the principal axis, radians in (−π/2, π/2] from the valence axis. */
  readonly axis: number;
  /** Sample skewness along the axis. */
  readonly skewness: number;
  /** Sample excess kurtosis along the axis. */
  readonly kurtosis: number;
  /**
   * The coefficient from the population moments, (g₁² + 1) / (g₂ + 3), with no small-sample
   * correction: it describes this room's own shape (the room is the whole population, not a
   * sample of one), so two equal point masses give exactly 1 at any size. The dissonance score
   * uses it; `coefficient` (corrected) is the statistic the 5/9 flag is defined on.
   */
  readonly populationCoefficient: number;
}

/**
 * Computes the bimodality coefficient of the points projected on their principal axis. `n`
 * is the sample size for the small-sample correction (default: the total weight); below 4 the
 * population moments are used uncorrected.
 */
export function bimodalityCoefficient(points: WeightedPoints, n = points.total): Bimodality {
  const { x, y, w, total } = points;
  const none: Bimodality = { coefficient: 0, bimodal: false, axis: 0, skewness: 0, kurtosis: 0, populationCoefficient: 0 };
  if (points.n < 2 || !(total > 0)) return none;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < points.n; i++) {
    mx += (w[i] as number) * (x[i] as number);
    my += (w[i] as number) * (y[i] as number);
  }
  mx /= total;
  my /= total;
  let cxx = 0;
  let cyy = 0;
  let cxy = 0;
  for (let i = 0; i < points.n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    const wi = w[i] as number;
    cxx += wi * dx * dx;
    cyy += wi * dy * dy;
    cxy += wi * dx * dy;
  }
  const axis = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
  const c = Math.cos(axis);
  const s = Math.sin(axis);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < points.n; i++) {
    const t = ((x[i] as number) - mx) * c + ((y[i] as number) - my) * s;
    const wi = (w[i] as number) / total;
    const t2 = t * t;
    m2 += wi * t2;
    m3 += wi * t2 * t;
    m4 += wi * t2 * t2;
  }
  if (!(m2 > 1e-12)) return { ...none, axis };
  const g1 = m3 / m2 ** 1.5;
  const g2 = m4 / (m2 * m2) - 3;
  let coefficient: number;
  let skewness = g1;
  let kurtosis = g2;
  if (n > 3) {
    // Bias-corrected sample skewness and excess kurtosis (Joanes & Gill 1998, G1 and G2).
    skewness = (g1 * Math.sqrt(n * (n - 1))) / (n - 2);
    kurtosis = (((n + 1) * g2 + 6) * (n - 1)) / ((n - 2) * (n - 3));
    coefficient = (skewness * skewness + 1) / (kurtosis + (3 * (n - 1) ** 2) / ((n - 2) * (n - 3)));
  } else {
    coefficient = (g1 * g1 + 1) / (g2 + 3);
  }
  if (!Number.isFinite(coefficient) || coefficient < 0) coefficient = 0;
  coefficient = Math.min(1, coefficient);
  let populationCoefficient = (g1 * g1 + 1) / (g2 + 3);
  if (!Number.isFinite(populationCoefficient) || populationCoefficient < 0) populationCoefficient = 0;
  populationCoefficient = Math.min(1, populationCoefficient);
  return { coefficient, bimodal: coefficient > BIMODAL_THRESHOLD, axis, skewness, kurtosis, populationCoefficient };
}
