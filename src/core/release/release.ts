/**
 * The release stage: the only path from an aggregate about people to anything anyone else sees
 * — participant and display pulses, `GET …/pulse`, the stored series and its CSV, the contagion
 * index, camps in the collective state. It owns one setting, the **minimum cohort** k, and
 * applies it everywhere:
 *
 * 1. **Whole-pulse suppression** (SPEC P4): below k people the pulse carries the count only.
 * 2. **Cell coarsening** (SPEC R2): the histogram is released as a partition of the grid into
 *    units, each holding 0 or ≥ k people; a unit is published as its total spread evenly over
 *    its cells. Start from one unit per cell; while a unit holds 1…k−1 people, merge it into the
 *    nearest unit holding people ({@link coarsenHistogram}). A lone person's cell thus joins the
 *    nearest crowd and shows as part of it, never as a cell of one.
 *
 *    Why coarsening rather than suppressing small cells and publishing the rest: the pulse also
 *    carries the total count and the quadrant shares, so a suppressed cell could be recovered as
 *    "quadrant count − visible cells of that quadrant" (or "total − visible cells"). Here every
 *    released number — cells, quadrant shares (read off the released cells), the total — is a sum
 *    of whole units of one partition whose units all hold 0 or ≥ k people, and no sum or difference
 *    of disjoint units isolates fewer than k people inside a unit. (Sets of 0 are released as such: an empty region reveals nobody.) The mean and
 *    spread are released exactly — one linear statistic of the whole room, which cannot isolate a
 *    cell; noise against differencing over time is the privacy issue's addition to this stage.
 * 3. **Camps** in the collective state are released only when they hold ≥ k people.
 * 4. **Per-person aggregates over periods** (series, contagion) need ≥ k distinct people.
 * 5. **Heart figures**: the number of people sharing a heart signal is released when 0 or ≥ k,
 *    the room's heart synchrony when ≥ max(k, 3) people count in it.
 *
 * Pure; O(bins²) per pulse.
 */
import type { CollectiveState } from '../collective/collectiveTracker.ts';
import type { HeartSynchronyMeasure, ReleasedHeartSynchrony } from '../collective/heartSynchrony.ts';
import type { Aggregate } from '../aggregate/aggregate.ts';
import { fail, ok, type Result } from '../errors.ts';
import type { LivePolicy } from './live.ts';

/** The release stage's settings: one threshold for everything. */
export interface ReleasePolicy {
  /** Minimum cohort k: no released figure describes fewer than k people. */
  readonly minCohort: number;
  /**
   * The live release against differencing (R7, live.ts): batches, noise. Absent: every tick
   * releases the room afresh and exactly (the design before R7; sessions recorded then replay so).
   */
  readonly live?: LivePolicy;
}

/** The live release's defaults (R7; the figures behind them: PRIVACY.md, `npm run bench:privacy`). */
export const DEFAULT_LIVE_POLICY: LivePolicy = { batch: 5, noise: 1, meanNoise: 0.5, crowd: { from: 200, batch: 1, noise: 2, meanNoise: 2 } };

/** The lowest minimum cohort an operator may set (R1); lower values are for tests and development. */
export const MIN_COHORT_FLOOR = 3;

/** Default policy (SPEC P1, R1, R7). */
export const DEFAULT_RELEASE_POLICY: ReleasePolicy = { minCohort: 5, live: DEFAULT_LIVE_POLICY };

/** Checks a policy. */
export function checkReleasePolicy(p: ReleasePolicy): string | null {
  if (!Number.isInteger(p.minCohort) || p.minCohort < 1 || p.minCohort > 1000) return 'minCohort must be an integer in [1, 1000]';
  if (p.live) {
    if (!Number.isInteger(p.live.batch) || p.live.batch < 1 || p.live.batch > 1000) return 'live.batch must be an integer in [1, 1000]';
    if (!(p.live.noise >= 0 && p.live.noise <= 100)) return 'live.noise must be in [0, 100]';
    if (!(p.live.meanNoise >= 0 && p.live.meanNoise <= 100)) return 'live.meanNoise must be in [0, 100]';
    const c = p.live.crowd;
    if (c) {
      if (!Number.isInteger(c.from) || c.from < 1 || c.from > 1_000_000) return 'live.crowd.from must be an integer in [1, 1000000]';
      if (!Number.isInteger(c.batch) || c.batch < 1 || c.batch > 1000) return 'live.crowd.batch must be an integer in [1, 1000]';
      if (!(c.noise >= 0 && c.noise <= 100)) return 'live.crowd.noise must be in [0, 100]';
      if (!(c.meanNoise >= 0 && c.meanNoise <= 100)) return 'live.crowd.meanNoise must be in [0, 100]';
    }
  }
  return null;
}

/**
 * The released histogram (R2): the grid is partitioned into units — at first one unit per cell —
 * and while some unit holds 1…k−1 people it is merged into the nearest other unit holding people
 * (centroid distance; ties: the smaller, then the lower first cell). Each unit is published as its
 * total spread evenly over its cells, so every released number is a sum over units of 0 or ≥ k
 * people. Deterministic; totals are preserved; O(m·u) for m small units among u occupied cells,
 * in flat typed arrays (it runs on every tick of every space).
 */
export function coarsenHistogram(counts: ArrayLike<number>, bins: number, k: number): number[] {
  const size = bins * bins;
  const out = new Array<number>(size);
  for (let i = 0; i < size; i++) out[i] = counts[i] ?? 0;
  if (k <= 1) return out;
  // Units of occupied cells: total, cell count, centroid sums, lowest cell, alive.
  const cellUnit = new Int32Array(size).fill(-1);
  const total: number[] = [];
  const cells: number[] = [];
  const sx: number[] = [];
  const sy: number[] = [];
  const first: number[] = [];
  let all = 0;
  for (let i = 0; i < size; i++) {
    const c = counts[i] ?? 0;
    if (c <= 0) continue;
    cellUnit[i] = total.length;
    total.push(c);
    cells.push(1);
    sx.push(i % bins);
    sy.push(Math.floor(i / bins));
    first.push(i);
    all += c;
  }
  if (all < k) {
    // The whole room is below the cohort: one unit over the whole grid (the pulse is suppressed anyway).
    return out.fill(all / size);
  }
  const u = total.length;
  const parent = new Int32Array(u);
  const alive = new Uint8Array(u).fill(1);
  for (let i = 0; i < u; i++) parent[i] = i;
  for (;;) {
    let small = -1;
    for (let i = 0; i < u; i++) {
      if (!alive[i] || (total[i] as number) >= k) continue;
      if (small < 0 || (total[i] as number) < (total[small] as number) || ((total[i] as number) === (total[small] as number) && (first[i] as number) < (first[small] as number))) small = i;
    }
    if (small < 0) break;
    const cx = (sx[small] as number) / (cells[small] as number);
    const cy = (sy[small] as number) / (cells[small] as number);
    let into = -1;
    let best = Infinity;
    for (let i = 0; i < u; i++) {
      if (!alive[i] || i === small) continue;
      const d = ((sx[i] as number) / (cells[i] as number) - cx) ** 2 + ((sy[i] as number) / (cells[i] as number) - cy) ** 2;
      if (d < best || (d === best && into >= 0 && ((total[i] as number) < (total[into] as number) || ((total[i] as number) === (total[into] as number) && (first[i] as number) < (first[into] as number))))) {
        best = d;
        into = i;
      }
    }
    if (into < 0) break;
    total[into] = (total[into] as number) + (total[small] as number);
    cells[into] = (cells[into] as number) + (cells[small] as number);
    sx[into] = (sx[into] as number) + (sx[small] as number);
    sy[into] = (sy[into] as number) + (sy[small] as number);
    first[into] = Math.min(first[into] as number, first[small] as number);
    alive[small] = 0;
    parent[small] = into;
  }
  for (let i = 0; i < size; i++) {
    let r = cellUnit[i] as number;
    if (r < 0) continue;
    while (parent[r] !== r) r = parent[r] as number;
    out[i] = (total[r] as number) / (cells[r] as number);
  }
  return out;
}

/** Quadrant shares read off a released histogram (QUADRANTS order). */
export function quadrantSharesOf(hist: readonly number[], bins: number): [number, number, number, number] | null {
  const h = Math.floor(bins / 2);
  const q = [0, 0, 0, 0];
  let n = 0;
  for (let y = 0; y < bins; y++) {
    for (let x = 0; x < bins; x++) {
      const c = hist[y * bins + x] ?? 0;
      n += c;
      const pleasant = x >= h;
      const energised = y >= h;
      const i = pleasant ? (energised ? 0 : 1) : energised ? 3 : 2;
      q[i] = (q[i] ?? 0) + c;
    }
  }
  if (n === 0) return null;
  return q.map((c) => c / n) as [number, number, number, number];
}

/** What the pulse measures before release (never sent anywhere as is). */
export interface PulseMeasure {
  readonly seq: number;
  readonly at: number;
  readonly count: number;
  readonly mean: { readonly valence: number; readonly arousal: number } | null;
  readonly smoothed: { readonly valence: number; readonly arousal: number } | null;
  readonly spread: { readonly valence: number; readonly arousal: number } | null;
}

/** The released pulse (SPEC P6) before the space's own fields are added. */
export interface ReleasedPulse {
  readonly t: 'pulse';
  readonly seq: number;
  readonly at: number;
  readonly count: number;
  readonly suppressed: boolean;
  readonly minCohort: number;
  readonly mean: { readonly valence: number; readonly arousal: number } | null;
  readonly smoothed: { readonly valence: number; readonly arousal: number } | null;
  readonly spread: { readonly valence: number; readonly arousal: number } | null;
  readonly quadrants: readonly [number, number, number, number] | null;
  readonly bins: number;
  readonly hist: readonly number[] | null;
}

/**
 * Releases one pulse: whole-pulse suppression below k (P4), otherwise the coarsened histogram
 * (R2) and quadrant shares read off it, so every released figure is consistent with one
 * partition of 0-or-≥k blocks.
 */
/** The last coarsened histogram of an aggregate, reused while the aggregate has not changed. */
export interface ReleaseCache {
  version: number;
  minCohort: number;
  hist: readonly number[] | null;
  quadrants: readonly [number, number, number, number] | null;
}

/** An empty cache. */
export function newReleaseCache(): ReleaseCache {
  return { version: -1, minCohort: -1, hist: null, quadrants: null };
}

export function releasePulse(m: PulseMeasure, grid: Aggregate, policy: ReleasePolicy, cache?: ReleaseCache): ReleasedPulse {
  const k = policy.minCohort;
  const suppressed = m.count < k;
  const base = { t: 'pulse' as const, seq: m.seq, at: m.at, count: m.count, suppressed, minCohort: k, bins: grid.bins };
  if (suppressed || m.count === 0) {
    return { ...base, mean: suppressed ? null : m.mean, smoothed: null, spread: suppressed ? null : m.spread, quadrants: null, hist: suppressed ? null : new Array<number>(grid.bins * grid.bins).fill(0) };
  }
  // Coarsening is the costliest part of a tick: display ticks between two inputs reuse it.
  if (cache && cache.version === grid.version && cache.minCohort === k && cache.hist && cache.quadrants) return { ...base, mean: m.mean, smoothed: m.smoothed, spread: m.spread, quadrants: cache.quadrants, hist: cache.hist };
  const hist = coarsenHistogram(grid.counts, grid.bins, k);
  const quadrants = quadrantSharesOf(hist, grid.bins);
  if (cache) Object.assign(cache, { version: grid.version, minCohort: k, hist, quadrants });
  return { ...base, mean: m.mean, smoothed: m.smoothed, spread: m.spread, quadrants, hist };
}

/** Releases the collective state: nothing while the pulse is suppressed; camps only at ≥ k. */
export function releaseCollective(c: CollectiveState | null, count: number, policy: ReleasePolicy): CollectiveState | null {
  if (!c || count < policy.minCohort) return null;
  const camps = c.camps.filter((camp) => Math.round(camp.share * count) >= policy.minCohort);
  return camps.length === c.camps.length ? c : { ...c, camps };
}

/**
 * Whether an aggregate over a period that describes `people` distinct participants may be
 * released (series, contagion, exports): a coded refusal below k.
 */
export function releasePeriod(people: number, what: string, policy: ReleasePolicy): Result<true> {
  if (people < policy.minCohort) return fail('BAD_REQUEST', `${what} needs inputs from at least ${policy.minCohort} people in the period (it has ${people})`);
  return ok(true);
}

/**
 * The cohort rule for heart figures (R5): the number of sharers is released when 0 or ≥ k, the
 * synchrony when ≥ max(k, 3) people count in it.
 */
export function releaseHeartSynchrony(m: HeartSynchronyMeasure, minCohort: number): ReleasedHeartSynchrony {
  const sharing = m.sharing === 0 || m.sharing >= minCohort ? m.sharing : null;
  if (m.isc === null || m.people < Math.max(3, minCohort)) return { sharing, synchrony: null };
  const { sharing: _s, ...rest } = m;
  return { sharing, synchrony: rest };
}
