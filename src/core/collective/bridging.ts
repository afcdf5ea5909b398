/**
 * Bridging: how much two or more released distributions of feeling overlap — the groups of one
 * space (R6) or the pulses of linked spaces — and where they already share ground.
 * Definitions, sources and figures: docs/bridging.md.
 *
 * - **score** — the common mass Σ_c min_g p_g(c) of the groups' released histograms, each
 *   normalised to 1. For two groups it is 1 − total variation distance (the overlapping
 *   coefficient of Weitzman 1970; Inman & Bradley 1989); for more it is the share every group
 *   holds in common. 1 = identical, 0 = disjoint supports. Read on grid cells, so two groups one
 *   cell apart score 0: it measures *meeting*, not nearness.
 * - **closeness** — 1 − the mean over pairs of the earth mover's distance between their valence
 *   marginals plus that between their arousal marginals, in cells, over its maximum 2·(bins − 1).
 *   The sum of marginal distances is a lower bound of the 2-D earth mover's distance with the L1
 *   ground distance (Rubner, Tomasi & Guibas 2000; any coupling pays at least each axis' own
 *   transport), exact and O(bins) per pair through cumulative sums (Vallender 1974). It grows
 *   steadily as groups move together, where `score` jumps once they share cells.
 * - **common ground** — the regions of a coarse grid (4 × 4 on a 16 × 16 grid) in which every
 *   group holds at least a share s (default 0.1) of its people: group-aware consensus after
 *   Pol.is (Small et al. 2021, "Polis: Scaling deliberation by mapping high dimensional opinion
 *   spaces"), where a statement counts as consensus only when every opinion group agrees, here
 *   applied to where feeling lies instead of to statements.
 *
 * Pure and computed only from released figures, so it reveals nothing the release did not.
 * O(g²·bins + g·bins²) for g distributions.
 */

/** Settings of the bridging measures. */
export interface BridgingOptions {
  /** Least share of each group's people a region needs to be common ground (0, 1]. */
  readonly share: number;
}

/** Default: a region is common ground when every group has ≥ 10 % of its people in it. */
export const DEFAULT_BRIDGING_OPTIONS: BridgingOptions = { share: 0.1 };

/** One region of common ground. */
export interface CommonGroundRegion {
  /** Region index `ry·regionBins + rx` (row 0 = calmest, column 0 = most unpleasant). */
  readonly region: number;
  /** The least share any compared group holds in the region. */
  readonly share: number;
}

/** The bridging measures of a pulse (`bridging` in P6; a policy reads `bridging.score`). */
export interface Bridging {
  /** Names (groups) or codes (linked spaces) of the distributions compared, ≥ 2. */
  readonly between: readonly string[];
  /** Σ_c min_g p_g(c) ∈ [0, 1]; 1 − total variation for two. */
  readonly score: number;
  /** 1 − mean pairwise marginal earth mover's distance, normalised, ∈ [0, 1]. */
  readonly closeness: number;
  readonly commonGround: {
    /** Threshold share s. */
    readonly share: number;
    /** Regions per axis of the coarse grid. */
    readonly regionBins: number;
    readonly regions: readonly CommonGroundRegion[];
  };
}

/** Rounds for the wire (one part in a million is far below any released unit). */
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Regions per axis for a grid of `bins` cells per axis: 4 when it divides, else 2 (quadrants). */
export function regionBinsOf(bins: number): number {
  return bins % 4 === 0 && bins >= 8 ? 4 : 2;
}

function normalised(h: ArrayLike<number>, size: number): number[] | null {
  let t = 0;
  for (let i = 0; i < size; i++) t += h[i] ?? 0;
  if (!(t > 0)) return null;
  const p = new Array<number>(size).fill(0);
  for (let i = 0; i < size; i++) p[i] = (h[i] ?? 0) / t;
  return p;
}

/** Earth mover's distance between two 1-D distributions on 0…n−1, in cells: Σ |CDF_a − CDF_b|. */
export function emd1(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let ca = 0;
  let cb = 0;
  let d = 0;
  for (let i = 0; i < n - 1; i++) {
    ca += a[i] ?? 0;
    cb += b[i] ?? 0;
    d += Math.abs(ca - cb);
  }
  return d;
}

/**
 * The bridging measures of released histograms (`hists[i]` named `names[i]`, each a bins × bins
 * grid, any positive total). Null when fewer than two non-empty histograms are given.
 */
export function bridgingOf(names: readonly string[], hists: readonly (ArrayLike<number> | null)[], bins: number, options: BridgingOptions = DEFAULT_BRIDGING_OPTIONS): Bridging | null {
  const size = bins * bins;
  const between: string[] = [];
  const ps: number[][] = [];
  hists.forEach((h, i) => {
    const p = h ? normalised(h, size) : null;
    if (p) {
      ps.push(p);
      between.push(names[i] as string);
    }
  });
  if (ps.length < 2) return null;
  let score = 0;
  for (let c = 0; c < size; c++) {
    let m = Infinity;
    for (const p of ps) m = Math.min(m, p[c] ?? 0);
    score += m;
  }
  // Marginals for the earth mover's distances.
  const marg = ps.map((p) => {
    const v = new Array<number>(bins).fill(0);
    const a = new Array<number>(bins).fill(0);
    for (let y = 0; y < bins; y++) {
      for (let x = 0; x < bins; x++) {
        const q = p[y * bins + x] ?? 0;
        v[x] = (v[x] ?? 0) + q;
        a[y] = (a[y] ?? 0) + q;
      }
    }
    return { v, a };
  });
  let dist = 0;
  let pairs = 0;
  for (let i = 0; i < marg.length; i++) {
    for (let j = i + 1; j < marg.length; j++) {
      const x = marg[i] as { v: number[]; a: number[] };
      const y = marg[j] as { v: number[]; a: number[] };
      dist += (emd1(x.v, y.v, bins) + emd1(x.a, y.a, bins)) / (2 * (bins - 1));
      pairs++;
    }
  }
  const rb = regionBinsOf(bins);
  const per = bins / rb;
  const regions: CommonGroundRegion[] = [];
  for (let r = 0; r < rb * rb; r++) {
    const rx = r % rb;
    const ry = Math.floor(r / rb);
    let least = Infinity;
    for (const p of ps) {
      let s = 0;
      for (let y = ry * per; y < (ry + 1) * per; y++) for (let x = rx * per; x < (rx + 1) * per; x++) s += p[y * bins + x] ?? 0;
      least = Math.min(least, s);
    }
    if (least >= options.share - 1e-12) regions.push({ region: r, share: r6(least) });
  }
  return { between, score: r6(Math.min(1, score)), closeness: r6(Math.max(0, 1 - dist / pairs)), commonGround: { share: options.share, regionBins: rb, regions } };
}
