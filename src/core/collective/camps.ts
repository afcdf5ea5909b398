/**
 * Camps: the modes of the room, found by weighted k-means over the occupied cells for
 * k = 1…maxK and chosen by the simplified silhouette, with three stabilisers:
 *
 * - k changes only after the same new k has won `switchAfter` consecutive ticks (4 by default),
 *   as Pol.is does (C. Small et al., "Polis: Scaling deliberation by mapping high dimensional
 *   opinion spaces", Recerca 26(2), 2021; pol.is math `clusters.clj`, "group-k-buffer").
 * - Camp ids persist across ticks: the new centroids are matched to the previous camps by the
 *   assignment of least total distance (exhaustive for k ≤ 5; Kuhn 1955 in spirit), and a
 *   camp farther than `matchDistance` from every old one gets a fresh id.
 * - A k ≥ 2 is eligible only when every two centroids are at least `minSeparation` apart and
 *   its simplified silhouette reaches `silhouetteMin`; otherwise k = 1 (one camp) wins.
 * - Privacy: a camp of fewer than `minPeople` people (5 by default) is never shown on its own;
 *   a clustering with such a cluster is not eligible to win, and if the displayed k produces one
 *   it is merged into the nearest larger camp, and the k in force drops to the number of camps
 *   left (at once: merging is mandatory; growing k again still needs `switchAfter` wins).
 *
 * Cost per tick: O(m · Σk · iterations) for m occupied cells, warm-started from the previous
 * tick's centroids (Lloyd, k-means++ and silhouette sources in kmeans.ts).
 */
import { type Centroid, type KMeansResult, seedKMeansPlusPlus, simplifiedSilhouette, weightedKMeans } from './kmeans.ts';
import { createRng, type Rng } from './prng.ts';
import type { WeightedPoints } from './weightedPoints.ts';

/** A camp as shown: stable id, centroid, share of the room and (estimated) people. */
export interface Camp {
  readonly id: string;
  readonly valence: number;
  readonly arousal: number;
  /** Share of the room's weight in [0, 1]. */
  readonly share: number;
  /** Estimated people: share × people in the room, rounded. Always ≥ minPeople. */
  readonly people: number;
}

/** Settings of the camp tracker. */
export interface CampOptions {
  /** Largest k tried (1…5). */
  readonly maxK: number;
  /** A k ≥ 2 wins only when its simplified silhouette reaches this; otherwise k = 1 wins. */
  readonly silhouetteMin: number;
  /** Consecutive ticks a new k must win before it is adopted. */
  readonly switchAfter: number;
  /** Smallest camp shown on its own, in people. */
  readonly minPeople: number;
  /** Smallest share of the room for a new camp to appear. */
  readonly minShare: number;
  /**
   * Smallest share for a camp already shown to stay (≤ minShare): the hysteresis band that keeps
   * a camp hovering near minShare (e.g. the last calm people of a room 90 % anxious) from flickering.
   */
  readonly stayShare: number;
  /**
   * Closest two camps' centroids may be, in affect units: splitting a tight cloud that spans a
   * few cells gives a high silhouette (the cells are discrete) but is not two camps.
   */
  readonly minSeparation: number;
  /** Farthest a camp's centroid may move between ticks and keep its id. */
  readonly matchDistance: number;
  /** Every this many ticks, k-means also restarts cold (k-means++) and keeps the better fit. */
  readonly reseedEvery: number;
  /** Seed for k-means++. */
  readonly seed: number | string;
}

/** Defaults; see docs/collective-state.md for how they were chosen. */
export const DEFAULT_CAMP_OPTIONS: CampOptions = {
  maxK: 5,
  silhouetteMin: 0.62,
  switchAfter: 4,
  minPeople: 5,
  minShare: 0.1,
  stayShare: 0.06,
  minSeparation: 0.4,
  matchDistance: 0.6,
  reseedEvery: 10,
  seed: 'attune-camps',
};

/** What the camp tracker reports each tick. */
export interface CampReport {
  /** The k in force (after hysteresis). */
  readonly k: number;
  /** The k that won this tick. */
  readonly winner: number;
  /** Simplified silhouette per k (index 0 is k = 1, always 0). */
  readonly silhouettes: readonly number[];
  /** Camps shown, by share descending. Empty when the room has fewer than minPeople people. */
  readonly camps: readonly Camp[];
}

interface Tracked {
  readonly id: string;
  readonly x: number;
  readonly y: number;
}

/** All injective assignments of `a` items into `b` slots (a ≤ b ≤ 5), as arrays of slot indices. */
function assignments(a: number, b: number): number[][] {
  const out: number[][] = [];
  const used = new Array<boolean>(b).fill(false);
  const cur: number[] = [];
  const rec = (i: number): void => {
    if (i === a) {
      out.push(cur.slice());
      return;
    }
    for (let s = 0; s < b; s++) {
      if (used[s]) continue;
      used[s] = true;
      cur.push(s);
      rec(i + 1);
      cur.pop();
      used[s] = false;
    }
  };
  rec(0);
  return out;
}

/**
 * Tracks the camps of one space across ticks. Not thread-safe, not persistent: one per space,
 * fed every tick.
 */
export class CampTracker {
  readonly options: CampOptions;
  private k = 1;
  private candidate = 1;
  private streak = 0;
  private ticks = 0;
  private readonly warm = new Map<number, Centroid[]>();
  private previous: Tracked[] = [];
  private nextId = 1;
  private readonly rng: Rng;

  constructor(options: Partial<CampOptions> = {}) {
    this.options = { ...DEFAULT_CAMP_OPTIONS, ...options };
    const o = this.options;
    if (!Number.isInteger(o.maxK) || o.maxK < 1 || o.maxK > 5) throw new RangeError('maxK must be an integer in [1, 5]');
    if (!Number.isInteger(o.switchAfter) || o.switchAfter < 1) throw new RangeError('switchAfter must be a positive integer');
    this.rng = createRng(o.seed);
  }

  /** The k in force. */
  get currentK(): number {
    return this.k;
  }

  private fit(points: WeightedPoints, k: number): KMeansResult {
    const warm = this.warm.get(k);
    let best: KMeansResult | null = null;
    if (warm && warm.length === k) best = weightedKMeans(points, warm, 10);
    if (!best || this.ticks % this.options.reseedEvery === 0) {
      const seeds = seedKMeansPlusPlus(points, k, this.rng);
      if (seeds.length === k) {
        const cold = weightedKMeans(points, seeds, 25);
        if (!best || cold.inertia < best.inertia - 1e-9) best = cold;
      }
    }
    if (!best) best = weightedKMeans(points, seedKMeansPlusPlus(points, 1, this.rng), 1);
    this.warm.set(k, best.centroids.slice());
    return best;
  }

  private eligible(r: KMeansResult, total: number, people: number): boolean {
    // The k in force keeps its camps down to stayShare; a new k needs minShare for every camp.
    const minShare = r.k <= this.k ? Math.min(this.options.minShare, this.options.stayShare) : this.options.minShare;
    for (const wgt of r.weights) {
      const share = wgt / total;
      if (share * people < this.options.minPeople - 1e-9 || share < minShare) return false;
    }
    for (let i = 0; i < r.k; i++) {
      for (let j = i + 1; j < r.k; j++) {
        const a = r.centroids[i] as Centroid;
        const b = r.centroids[j] as Centroid;
        if (Math.hypot(a.x - b.x, a.y - b.y) < this.options.minSeparation) return false;
      }
    }
    return true;
  }

  /**
   * Updates from this tick's weighted cells. `people` is the number of people in the room
   * (the grid may be weighted by confidence, so it can differ from the total weight).
   */
  update(points: WeightedPoints, people: number): CampReport {
    this.ticks++;
    const o = this.options;
    const silhouettes = [0];
    if (points.n === 0 || !(points.total > 0)) {
      return { k: this.k, winner: this.k, silhouettes, camps: [] };
    }
    const fits: KMeansResult[] = [this.fit(points, 1)];
    let winner = 1;
    let bestS = -Infinity;
    for (let k = 2; k <= Math.min(o.maxK, points.n); k++) {
      const r = this.fit(points, k);
      fits.push(r);
      const s = simplifiedSilhouette(points, r);
      silhouettes.push(s);
      if (s >= o.silhouetteMin && s > bestS && this.eligible(r, points.total, people)) {
        bestS = s;
        winner = k;
      }
    }
    // Hysteresis: adopt a new k only after it wins switchAfter ticks in a row.
    if (winner === this.k) {
      this.streak = 0;
      this.candidate = this.k;
    } else if (winner === this.candidate) {
      this.streak++;
      if (this.streak >= o.switchAfter) {
        this.k = winner;
        this.streak = 0;
      }
    } else {
      this.candidate = winner;
      this.streak = 1;
      if (o.switchAfter <= 1) {
        this.k = winner;
        this.streak = 0;
      }
    }
    const shownK = Math.min(this.k, fits.length);
    const fit = fits[shownK - 1] as KMeansResult;
    const groups = this.merge(fit, points.total, people);
    if (groups.length >= 1 && groups.length < this.k) {
      // The k in force no longer yields camps big enough to show: merging is mandatory, so k
      // drops at once (growing k back still needs switchAfter wins).
      this.k = groups.length;
      this.candidate = this.k;
      this.streak = 0;
    }
    const camps = this.label(groups, people);
    return { k: this.k, winner, silhouettes, camps };
  }

  /** Merges clusters too small to be shown into the nearest larger one (weighted centroid). */
  private merge(fit: KMeansResult, total: number, people: number): { x: number; y: number; w: number }[] {
    const groups = fit.centroids.map((c, i) => ({ x: c.x, y: c.y, w: fit.weights[i] ?? 0 })).filter((g) => g.w > 0);
    const minShare = Math.min(this.options.minShare, this.options.stayShare);
    const small = (g: { w: number }): boolean => (g.w / total) * people < this.options.minPeople - 1e-9 || g.w / total < minShare;
    for (;;) {
      if (groups.length <= 1) break;
      groups.sort((a, b) => a.w - b.w);
      const g = groups[0] as { x: number; y: number; w: number };
      if (!small(g)) break;
      let bi = 1;
      let bd = Infinity;
      for (let i = 1; i < groups.length; i++) {
        const h = groups[i] as { x: number; y: number; w: number };
        const d = Math.hypot(h.x - g.x, h.y - g.y);
        if (d < bd) {
          bd = d;
          bi = i;
        }
      }
      const h = groups[bi] as { x: number; y: number; w: number };
      const w = h.w + g.w;
      groups[bi] = { x: (h.x * h.w + g.x * g.w) / w, y: (h.y * h.w + g.y * g.w) / w, w };
      groups.shift();
    }
    // A whole room below minPeople is never shown as a camp.
    if (groups.length === 1 && (groups[0] as { w: number }).w / total * people < this.options.minPeople - 1e-9) return [];
    return groups;
  }

  /** Gives each group a stable id by least-total-distance matching to the previous camps. */
  private label(groups: readonly { x: number; y: number; w: number }[], people: number): Camp[] {
    const total = groups.reduce((s, g) => s + g.w, 0);
    const prev = this.previous;
    const ids: (string | null)[] = groups.map(() => null);
    if (groups.length > 0 && prev.length > 0) {
      // Match the smaller side into the larger one.
      const swap = groups.length > prev.length;
      const a = swap ? prev.length : groups.length;
      const b = swap ? groups.length : prev.length;
      let best: number[] | null = null;
      let bestCost = Infinity;
      for (const asg of assignments(a, b)) {
        let cost = 0;
        for (let i = 0; i < a; i++) {
          const g = (swap ? groups[asg[i] as number] : groups[i]) as { x: number; y: number };
          const p = (swap ? prev[i] : prev[asg[i] as number]) as Tracked;
          cost += Math.hypot(g.x - p.x, g.y - p.y);
        }
        if (cost < bestCost) {
          bestCost = cost;
          best = asg;
        }
      }
      if (best) {
        for (let i = 0; i < a; i++) {
          const gi = swap ? (best[i] as number) : i;
          const pi = swap ? i : (best[i] as number);
          const g = groups[gi] as { x: number; y: number };
          const p = prev[pi] as Tracked;
          if (Math.hypot(g.x - p.x, g.y - p.y) <= this.options.matchDistance) ids[gi] = p.id;
        }
      }
    }
    const camps: Camp[] = groups.map((g, i) => {
      const id = ids[i] ?? `c${this.nextId++}`;
      const share = total > 0 ? g.w / total : 0;
      return { id, valence: g.x, arousal: g.y, share, people: Math.round(share * people) };
    });
    this.previous = camps.map((c) => ({ id: c.id, x: c.valence, y: c.arousal }));
    camps.sort((p, q) => q.share - p.share || (p.id < q.id ? -1 : 1));
    return camps;
  }
}
