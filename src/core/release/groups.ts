/**
 * Per-group pulses (SPEC R6): the release of a space's declared groups — neighbourhoods, roles,
 * sections of a venue — beside the room's pulse. Part of the release stage: nothing about a group
 * leaves the server except through {@link releaseGroups}.
 *
 * The people of a room fall into **parts**: one per declared group, plus the people who chose no
 * group ("prefer not to say", never shown as a part). The room's count, mean and histogram are
 * released already (P4, R2), so a shown group is also a subtraction away from the rest:
 * `room − Σ shown groups` describes exactly the people of the parts not shown. The rule:
 *
 * 1. **Cohort.** A group is shown only with ≥ k people (or 0: an empty group reveals nobody).
 *    Below k (1…k−1) it is *withheld*: every figure null, `suppressed: true`. While the whole
 *    pulse is suppressed (fewer than k people in the room), every group is withheld.
 * 2. **Complementary suppression.** The withheld set W — the withheld groups together with the
 *    people in no group — must hold 0 or ≥ k people, because `room − Σ shown` reveals W's count,
 *    sum of coordinates and histogram. While W holds 1…k−1, the shown group with the fewest
 *    people (ties: the earlier declared) is withheld too; one step suffices, since it holds ≥ k.
 *    So no difference of released figures isolates a withheld group: only W as a whole, which
 *    is a crowd of ≥ k (or nobody). This is the complementary cell suppression of statistical
 *    tables (Cox 1980; Hundepool et al., *Statistical Disclosure Control*, 2012, §5.4), applied
 *    to a one-way table of groups whose total is published.
 * 3. **Joint coarsening of the groups' histograms.** The room's histogram is released on the R2
 *    partition P of the grid. The shown groups' histograms are released on one common partition
 *    Q that coarsens P (every unit of Q is a union of units of P) and in which every unit holds
 *    0 or ≥ k people of *every* part — each shown group and W. Start from P; while some unit
 *    holds 1…k−1 people of some part, merge it into the nearest unit holding people (R2's
 *    order and ties). So "room's unit − Σ shown groups' unit" is W's count in that unit, 0 or
 *    ≥ k, and a group's cells are never finer than Q. Each group's unit total is spread evenly
 *    over the unit's cells, as in R2.
 * 4. Each shown group's mean and spread are released exactly (one statistic of ≥ k people), its
 *    quadrant shares read off its released histogram.
 *
 * Temporal differencing (a person changing group between two pulses) is the same open problem as
 * for the room's pulse (noise over time belongs to the privacy issue), and side knowledge of other
 * people's points is out of scope, as in R2. Pure; O(m·u·g) per pulse for m merges, u units and
 * g groups (≤ 8), about R2's cost once per group.
 */
import type { Aggregate } from '../aggregate/aggregate.ts';
import { type ReleasePolicy, quadrantSharesOf } from './release.ts';

/** Most groups a space may declare. */
export const MAX_GROUPS = 8;

/** One group's released pulse. Every field but `suppressed` is null while the group is withheld. */
export interface ReleasedGroup {
  /** True when the group is withheld (below k, or complementarily, R6). */
  readonly suppressed: boolean;
  /** People counting in the group (0 or ≥ k), or null. */
  readonly count: number | null;
  readonly mean: { readonly valence: number; readonly arousal: number } | null;
  readonly spread: { readonly valence: number; readonly arousal: number } | null;
  /** Shares in QUADRANTS order, read off `hist`. */
  readonly quadrants: readonly [number, number, number, number] | null;
  /** The group's histogram on the joint partition (R6.3), `hist[iy·bins+ix]` like the pulse's. */
  readonly hist: readonly number[] | null;
}

/** The released groups of a pulse, by declared name, in declaration order. */
export type ReleasedGroups = Readonly<Record<string, ReleasedGroup>>;

const WITHHELD: ReleasedGroup = { suppressed: true, count: null, mean: null, spread: null, quadrants: null, hist: null };

/**
 * A partition of the grid into units in which each part holds 0 or ≥ k people (R2 generalised
 * to several parts). `parts[p][cell]` are the parts' cell counts; `start` is the partition to
 * coarsen (lists of cells; default one unit per cell, with empty cells left out). A unit is
 * small while some part holds 1…k−1 people in it; the smallest small unit (by total, ties: lower
 * first cell) merges into the nearest other unit holding people (centroid distance; ties: smaller
 * total, then lower first cell) — with one part from single cells, exactly `coarsenHistogram`'s
 * order (release.ts). Returns the units (each a sorted list of cells; cells with nobody in no
 * unit). O(m·u + u·p) for m merges, u units and p parts; units live in flat arrays.
 */
export function coarsenParts(parts: readonly ArrayLike<number>[], bins: number, k: number, start?: readonly (readonly number[])[]): number[][] {
  const size = bins * bins;
  const np = parts.length;
  const cap = start ? start.length : size;
  // Each unit's cells as a linked list over the grid (head, tail, next): a merge is O(1).
  const head = new Int32Array(cap).fill(-1);
  const tail = new Int32Array(cap).fill(-1);
  const next = new Int32Array(size).fill(-1);
  const len = new Int32Array(cap);
  const counts = new Float64Array(cap * np);
  const total = new Float64Array(cap);
  const cx = new Float64Array(cap);
  const cy = new Float64Array(cap);
  const first = new Float64Array(cap);
  const small = new Uint8Array(cap);
  /** Indices of the units still in play (order is irrelevant: every choice is by value). */
  const live: number[] = [];
  const smallOf = (u: number) => {
    for (let p = 0; p < np; p++) {
      const c = counts[u * np + p] as number;
      if (c > 0 && c < k) return 1;
    }
    return 0;
  };
  const add = (u: number, cell: number) => {
    if (head[u] === -1) head[u] = cell;
    else next[tail[u] as number] = cell;
    tail[u] = cell;
    len[u] = (len[u] as number) + 1;
    const ix = cell % bins;
    cx[u] = (cx[u] as number) + ix;
    cy[u] = (cy[u] as number) + (cell - ix) / bins;
    for (let p = 0; p < np; p++) counts[u * np + p] = (counts[u * np + p] as number) + ((parts[p] as ArrayLike<number>)[cell] ?? 0);
  };
  for (let u = 0; u < cap; u++) {
    first[u] = Infinity;
    if (start) {
      for (const cell of start[u] as readonly number[]) {
        add(u, cell);
        if (cell < (first[u] as number)) first[u] = cell;
      }
    } else {
      add(u, u);
      first[u] = u;
    }
    let t = 0;
    for (let p = 0; p < np; p++) t += counts[u * np + p] as number;
    if (t === 0) continue;
    total[u] = t;
    cx[u] = (cx[u] as number) / (len[u] as number);
    cy[u] = (cy[u] as number) / (len[u] as number);
    small[u] = smallOf(u);
    live.push(u);
  }
  if (k > 1) {
    for (;;) {
      let s = -1;
      for (const u of live) {
        if (!small[u]) continue;
        if (s < 0 || (total[u] as number) < (total[s] as number) || (total[u] === total[s] && (first[u] as number) < (first[s] as number))) s = u;
      }
      if (s < 0) break;
      let into = -1;
      let best = Infinity;
      const sx = cx[s] as number;
      const sy = cy[s] as number;
      for (const u of live) {
        if (u === s) continue;
        const dx = (cx[u] as number) - sx;
        const dy = (cy[u] as number) - sy;
        const d = dx * dx + dy * dy;
        if (d < best || (d === best && into >= 0 && ((total[u] as number) < (total[into] as number) || (total[u] === total[into] && (first[u] as number) < (first[into] as number))))) {
          best = d;
          into = u;
        }
      }
      if (into < 0) break;
      const a = len[into] as number;
      const b = len[s] as number;
      cx[into] = ((cx[into] as number) * a + sx * b) / (a + b);
      cy[into] = ((cy[into] as number) * a + sy * b) / (a + b);
      next[tail[into] as number] = head[s] as number;
      tail[into] = tail[s] as number;
      len[into] = a + b;
      for (let p = 0; p < np; p++) counts[into * np + p] = (counts[into * np + p] as number) + (counts[s * np + p] as number);
      total[into] = (total[into] as number) + (total[s] as number);
      if ((first[s] as number) < (first[into] as number)) first[into] = first[s] as number;
      small[into] = smallOf(into);
      const at = live.indexOf(s);
      live[at] = live[live.length - 1] as number;
      live.pop();
    }
  }
  return live.map((u) => {
    const out: number[] = [];
    for (let c = head[u] as number; c !== -1; c = next[c] as number) out.push(c);
    return out.sort((x, y) => x - y);
  });
}

/** Which declared groups are shown (R6.1–2): true = shown. `counts[i]` people in group i, `room` in the room. */
export function shownGroups(counts: readonly number[], room: number, k: number): boolean[] {
  if (room < k) return counts.map(() => false);
  const shown = counts.map((n) => n === 0 || n >= k);
  const withheld = () => room - counts.reduce((s, n, i) => s + (shown[i] ? n : 0), 0);
  if (withheld() > 0 && withheld() < k) {
    let pick = -1;
    for (let i = 0; i < counts.length; i++) {
      const n = counts[i] as number;
      if (shown[i] && n > 0 && (pick < 0 || n < (counts[pick] as number))) pick = i;
    }
    if (pick >= 0) shown[pick] = false;
  }
  return shown;
}

/** Spreads each unit's part count evenly over its cells. */
function spread(units: readonly (readonly number[])[], counts: ArrayLike<number>, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  for (const u of units) {
    let t = 0;
    for (const c of u) t += counts[c] ?? 0;
    if (t === 0) continue;
    const each = t / u.length;
    for (const c of u) out[c] = each;
  }
  return out;
}

/**
 * Releases a space's groups (R6) from their aggregates and the room's. `names[i]` labels
 * `groups[i]`; `room` holds every counting person (groups ⊆ room). Returns one entry per name.
 */
export function releaseGroups(names: readonly string[], groups: readonly Aggregate[], room: Aggregate, policy: ReleasePolicy): ReleasedGroups {
  const k = policy.minCohort;
  const counts = names.map((_, i) => groups[i]?.n ?? 0);
  const shown = shownGroups(counts, room.n, k);
  const bins = room.bins;
  const size = bins * bins;
  const out: Record<string, ReleasedGroup> = {};
  const visible = names.map((_, i) => i).filter((i) => shown[i] && (counts[i] as number) > 0);
  let units: number[][] = [];
  if (visible.length > 0) {
    // The room's own R2 partition, then the joint one over every shown group and W (R6.3).
    const roomUnits = coarsenParts([room.counts], bins, k);
    const w = new Array<number>(size).fill(0);
    for (let c = 0; c < size; c++) {
      let rest = room.counts[c] ?? 0;
      for (const i of visible) rest -= (groups[i] as Aggregate).counts[c] ?? 0;
      w[c] = rest;
    }
    units = coarsenParts([...visible.map((i) => (groups[i] as Aggregate).counts), w], bins, k, roomUnits);
  }
  names.forEach((name, i) => {
    if (!shown[i]) {
      out[name] = WITHHELD;
      return;
    }
    const g = groups[i] as Aggregate;
    if (g.n === 0) {
      out[name] = { suppressed: false, count: 0, mean: null, spread: null, quadrants: null, hist: new Array<number>(size).fill(0) };
      return;
    }
    const m = g.moments();
    const hist = spread(units, g.counts, size);
    out[name] = { suppressed: false, count: g.n, mean: m.mean, spread: m.spread, quadrants: quadrantSharesOf(hist, bins), hist };
  });
  return out;
}
