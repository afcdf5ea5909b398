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

/** The release stage's settings: one threshold for everything. */
export interface ReleasePolicy {
  /** Minimum cohort k: no released figure describes fewer than k people. */
  readonly minCohort: number;
}

/** Default policy (SPEC P1). */
export const DEFAULT_RELEASE_POLICY: ReleasePolicy = { minCohort: 3 };

/** Checks a policy. */
export function checkReleasePolicy(p: ReleasePolicy): string | null {
  if (!Number.isInteger(p.minCohort) || p.minCohort < 1 || p.minCohort > 1000) return 'minCohort must be an integer in [1, 1000]';
  return null;
}

interface Unit {
  cells: number[];
  total: number;
  /** Centroid of the unit's cells, in cell coordinates. */
  cx: number;
  cy: number;
}

/**
 * The released histogram (R2): the grid is partitioned into units — at first one unit per cell —
 * and while some unit holds 1…k−1 people it is merged into the nearest other unit holding people
 * (centroid distance; ties: the smaller, then the lower first cell). Each unit is published as its
 * total spread evenly over its cells, so every released number is a sum over units of 0 or ≥ k
 * people. Deterministic; totals are preserved; O(m·cells) for m small units.
 */
export function coarsenHistogram(counts: ArrayLike<number>, bins: number, k: number): number[] {
  const size = bins * bins;
  const out = new Array<number>(size).fill(0);
  for (let i = 0; i < size; i++) out[i] = counts[i] ?? 0;
  if (k <= 1) return out;
  const units: Unit[] = [];
  for (let i = 0; i < size; i++) {
    const c = counts[i] ?? 0;
    if (c > 0) units.push({ cells: [i], total: c, cx: i % bins, cy: Math.floor(i / bins) });
  }
  const total = units.reduce((s, u) => s + u.total, 0);
  if (total < k) {
    // The whole room is below the cohort: one unit over the whole grid (the pulse is suppressed anyway).
    return out.fill(total / size);
  }
  const first = (u: Unit) => u.cells[0] as number;
  for (;;) {
    let small: Unit | null = null;
    for (const u of units) {
      if (u.total >= k) continue;
      if (!small || u.total < small.total || (u.total === small.total && first(u) < first(small))) small = u;
    }
    if (!small) break;
    let into: Unit | null = null;
    let best = Infinity;
    for (const u of units) {
      if (u === small) continue;
      const d = (u.cx - small.cx) ** 2 + (u.cy - small.cy) ** 2;
      if (d < best || (d === best && into && (u.total < into.total || (u.total === into.total && first(u) < first(into))))) {
        best = d;
        into = u;
      }
    }
    if (!into) break;
    const n = small.cells.length + into.cells.length;
    into.cx = (into.cx * into.cells.length + small.cx * small.cells.length) / n;
    into.cy = (into.cy * into.cells.length + small.cy * small.cells.length) / n;
    into.cells = [...into.cells, ...small.cells].sort((x, y) => x - y);
    into.total += small.total;
    units.splice(units.indexOf(small), 1);
  }
  for (const u of units) {
    const each = u.total / u.cells.length;
    for (const c of u.cells) out[c] = each;
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
export function releasePulse(m: PulseMeasure, grid: Aggregate, policy: ReleasePolicy): ReleasedPulse {
  const k = policy.minCohort;
  const suppressed = m.count < k;
  const base = { t: 'pulse' as const, seq: m.seq, at: m.at, count: m.count, suppressed, minCohort: k, bins: grid.bins };
  if (suppressed || m.count === 0) {
    return { ...base, mean: suppressed ? null : m.mean, smoothed: null, spread: suppressed ? null : m.spread, quadrants: null, hist: suppressed ? null : new Array<number>(grid.bins * grid.bins).fill(0) };
  }
  const hist = coarsenHistogram(grid.counts, grid.bins, k);
  return { ...base, mean: m.mean, smoothed: m.smoothed, spread: m.spread, quadrants: quadrantSharesOf(hist, grid.bins), hist };
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
