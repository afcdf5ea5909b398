/**
 * The room's heart synchrony: how much people's heart rates rise and fall together, beyond
 * what chance alignment of independent hearts would give.
 *
 * Method — windowed leave-one-out inter-subject correlation (ISC) of heart rate:
 *
 * 1. Each sharer's heart-rate readings (one per ≈ 2 s, the mean bpm the phone computed) are put
 *    on a common grid of `sampleMs` slots aligned to epoch time; a slot with several readings
 *    takes their mean. The window is the last `windowMs` of complete slots (default 60 s = 30
 *    slots). A person counts when their readings cover ≥ `minCoverage` of the window; gaps of up
 *    to `maxGapSlots` are filled by carrying the last value (or the next, at the start).
 * 2. For each counted person i, r_i = Pearson correlation of x_i with the mean of everyone else
 *    (leave-one-out), and the room's ISC is tanh(mean atanh r_i) — the Fisher-z average.
 *    Source: Nastase, Gazzola, Hasson & Keysers, "Measuring shared responses across subjects
 *    using intersubject correlation", Social Cognitive and Affective Neuroscience 14(6):667–685,
 *    2019 (leave-one-out ISC, §2; Fisher z, §3). For heart rate specifically: Pérez et al.,
 *    "Conscious processing of narrative stimuli synchronizes heart rate between individuals",
 *    Cell Reports 36(11):109692, 2021, who compute ISC of instantaneous heart rate this way.
 * 3. **Surrogate baseline.** Two independent hearts correlate by chance over a short window
 *    (their slow drifts are autocorrelated), so the ISC is compared with its value on
 *    surrogates in which every person's series is circularly shifted by an independent random
 *    lag — the alignment between people is destroyed, each series' own spectrum kept. Source:
 *    Kauppi et al., "Inter-subject correlation of brain hemodynamic responses during watching a
 *    movie", Front. Neuroinformatics 4:5, 2010; Nastase et al. 2019 §4.1 (circular time-shift
 *    randomisation). Reported: the surrogates' mean and 95th percentile, and
 *    p = (1 + #{surrogate ≥ observed}) / (1 + S).
 * 4. **Confidence interval.** A percentile bootstrap over people (resample the r_i's Fisher z
 *    values with replacement): Chen et al., "Untangling the relatedness among correlations, part
 *    I: nonparametric approaches to inter-subject correlation analysis at the group level",
 *    NeuroImage 142:248–259, 2016 (subject-wise bootstrap, §2.3).
 *
 * Release (the cohort rule): {@link releaseHeartSynchrony} shows the number of sharers only when
 * it is ≥ the minimum cohort k, and the ISC only when ≥ max(k, `minPeople`) people count in it.
 *
 * Deterministic: surrogates and bootstrap draw from a PRNG seeded by (seed, window end slot), so
 * a replay of the same readings gives the same bytes. Bounded: each sharer holds a ring of
 * `windowSlots` numbers; people silent for two windows are forgotten; one computation uses at
 * most `maxPeople` sharers (a deterministic sample by the same seed). `observe` is O(1);
 * `compute` is O(P·W·(S + 1) + P·B) for P people, W slots, S surrogates, B bootstrap replicates
 * (≈ 10 ms for 500 people on this project's machine); `measure` runs it once per 2-s slot.
 */
import { pearson as pearsonOf } from '../stats.ts';
import { createRng, type Rng } from './prng.ts';

/** Settings. */
export interface HeartSynchronyOptions {
  /** Grid step, ms (default 2 000: one phone reading). */
  readonly sampleMs?: number;
  /** Window, ms, 30 000–60 000 (default 60 000). */
  readonly windowMs?: number;
  /** Share of the window a person's readings must cover (default 0.8). */
  readonly minCoverage?: number;
  /** Longest run of missing slots filled by carrying a value (default 2). */
  readonly maxGapSlots?: number;
  /** Surrogates (default 200). */
  readonly surrogates?: number;
  /** Bootstrap replicates (default 500). */
  readonly bootstrap?: number;
  /** Two-sided confidence level of the interval (default 0.95). */
  readonly confidence?: number;
  /** Most people in one computation (default 500). */
  readonly maxPeople?: number;
  /** Fewest people for an ISC (default 3: with 2 the leave-one-out mean is the other person). */
  readonly minPeople?: number;
  /** A reading newer than this counts its person as sharing now, ms (default 10 000). */
  readonly freshMs?: number;
  /** Seed of surrogates, bootstrap and sampling (default 'heart'). */
  readonly seed?: number | string;
}

/** The room's heart synchrony at one moment, before release. */
export interface HeartSynchronyMeasure {
  readonly at: number;
  /** People with a reading in the last `freshMs`. */
  readonly sharing: number;
  /** People whose readings cover the window (those the ISC is computed over). */
  readonly people: number;
  readonly windowMs: number;
  /** Observed ISC (Fisher-z mean of leave-one-out r), null below `minPeople`. */
  readonly isc: number | null;
  /** Percentile-bootstrap interval of the ISC over people. */
  readonly lower: number | null;
  readonly upper: number | null;
  readonly confidence: number;
  /** Surrogate ISC: mean and 95th percentile, and the observed value's p-value against them. */
  readonly surrogateMean: number | null;
  readonly surrogateP95: number | null;
  readonly p: number | null;
}

/** What the display and steward are sent (after the cohort rule). */
export interface ReleasedHeartSynchrony {
  /** Number of people sharing a heart signal; null when 1…k−1 (0 is shown as 0). */
  readonly sharing: number | null;
  /** The synchrony, or null while fewer than max(k, minPeople) people count in it. */
  readonly synchrony: Omit<HeartSynchronyMeasure, 'sharing'> | null;
}

/**
 * What one node of a cluster contributes to the room's heart synchrony (SPEC K10): its sharers'
 * gap-filled series over the window, without ids, in its own order. The tick owner measures the
 * union of every node's rows exactly as one node measures its own people
 * ({@link HeartSynchrony.useMerged}), because the leave-one-out ISC needs each person's series
 * against everyone else's — no fixed-size summary of a node's sharers gives it.
 */
export interface HeartWindow {
  /** The window ends before this slot (exclusive): `floor(now / sampleMs)` on that node. */
  readonly end: number;
  /** People the node tracks (any reading in the last two windows). */
  readonly tracked: number;
  /** People with a reading in the last `freshMs`. */
  readonly sharing: number;
  /** Each counted person's series, `windowSlots` values; at most `maxPeople` (a seeded sample). */
  readonly rows: readonly Float64Array[];
}

interface Person {
  /** Slot index each ring cell holds (−1: empty). */
  readonly slot: Float64Array;
  readonly sum: Float64Array;
  readonly n: Uint16Array;
  lastAt: number;
}

const atanh = (r: number): number => 0.5 * Math.log((1 + r) / (1 - r));
const R_MAX = 0.999_999;

/** Pearson correlation of two equal-length series (0 when either is constant). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const r = pearsonOf(x, y);
  return Number.isFinite(r) ? r : 0;
}

/**
 * Leave-one-out ISC of the rows of `x` (P series of length W, row-major), each row read with
 * circular `shifts[i]` when given. Returns each person's Fisher z (r clipped to ±0.999999).
 * Since correlation ignores scale, corr(x_i, (T − x_i)/(P − 1)) = corr(x_i, T − x_i) with T the
 * sum over people: one pass per person, no allocation per person.
 */
export function leaveOneOutZ(x: Float64Array, P: number, W: number, shifts?: Int32Array): Float64Array {
  const total = new Float64Array(W);
  for (let i = 0; i < P; i++) {
    const base = i * W;
    const k = shifts ? (shifts[i] as number) : 0;
    for (let t = 0, u = k; t < W; t++, u = u + 1 === W ? 0 : u + 1) total[t] = (total[t] as number) + (x[base + u] as number);
  }
  const z = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    const base = i * W;
    const k = shifts ? (shifts[i] as number) : 0;
    let sa = 0;
    let sb = 0;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let t = 0, u = k; t < W; t++, u = u + 1 === W ? 0 : u + 1) {
      const a = x[base + u] as number;
      const b = (total[t] as number) - a;
      sa += a;
      sb += b;
      sab += a * b;
      saa += a * a;
      sbb += b * b;
    }
    const cov = sab - (sa * sb) / W;
    const va = saa - (sa * sa) / W;
    const vb = sbb - (sb * sb) / W;
    const r = va > 1e-12 && vb > 1e-12 ? cov / Math.sqrt(va * vb) : 0;
    z[i] = atanh(Math.max(-R_MAX, Math.min(R_MAX, r)));
  }
  return z;
}

const mean = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s / a.length;
};

/** The q-quantile of sorted values (linear interpolation). */
function quantile(sorted: readonly number[] | Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Partial Fisher–Yates: the first k of a seeded shuffle of 0…n−1, in ascending order. */
function sampleIndices(n: number, k: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Tracks the sharers' heart rates and measures the room's synchrony (module header). */
export class HeartSynchrony {
  readonly #o: Required<HeartSynchronyOptions>;
  readonly #w: number;
  readonly #people = new Map<string, Person>();

  constructor(o: HeartSynchronyOptions = {}) {
    const windowMs = o.windowMs ?? 60_000;
    if (!(windowMs >= 30_000 && windowMs <= 60_000)) throw new RangeError('windowMs must be within 30 000–60 000 ms');
    this.#o = {
      sampleMs: o.sampleMs ?? 2_000,
      windowMs,
      minCoverage: o.minCoverage ?? 0.8,
      maxGapSlots: o.maxGapSlots ?? 2,
      surrogates: o.surrogates ?? 200,
      bootstrap: o.bootstrap ?? 500,
      confidence: o.confidence ?? 0.95,
      maxPeople: o.maxPeople ?? 500,
      minPeople: Math.max(3, o.minPeople ?? 3),
      freshMs: o.freshMs ?? 10_000,
      seed: o.seed ?? 'heart',
    };
    this.#w = Math.round(windowMs / this.#o.sampleMs);
  }

  /** People currently tracked (on a cluster's tick owner: over every node's windows). */
  get tracked(): number {
    if (this.#merged) return this.#merged.reduce((n, w) => n + w.tracked, 0);
    return this.#people.size;
  }

  /** Slots in a window (the length of every {@link HeartWindow} row). */
  get windowSlots(): number {
    return this.#w;
  }

  #merged: readonly HeartWindow[] | null = null;

  /**
   * The tick owner of a cluster space (SPEC K10): from now on {@link measure} and {@link tracked}
   * read these windows of every node (ordered by node id), not this instance's own readings
   * (the owner holds no participants). The measure is recomputed whenever a window changes.
   */
  useMerged(windows: readonly HeartWindow[]): void {
    const prev = this.#merged;
    if (prev && prev.length === windows.length && prev.every((w, i) => w === windows[i])) return;
    this.#merged = windows;
    this.#cached = null;
  }

  /**
   * This node's contribution to a cluster's measure (SPEC K10): the people counted over the
   * window ending at `now`'s slot, capped at `maxPeople` rows by a seeded sample (so one partial
   * stays bounded: ≤ 500 × 30 numbers).
   */
  window(now: number): HeartWindow {
    const o = this.#o;
    const end = Math.floor(now / o.sampleMs);
    // The rows depend only on complete slots: built once per slot (and again after someone is
    // forgotten), like the single-node measure; who shares is counted afresh, O(people).
    if (this.#rows?.end !== end || this.#rows.forgets !== this.#forgets) {
      const w = this.#collect(now);
      const rows = w.rows.length > o.maxPeople ? sampleIndices(w.rows.length, o.maxPeople, createRng(`${o.seed}:${w.end}:rows`)).map((i) => w.rows[i] as Float64Array) : w.rows;
      this.#rows = { end, forgets: this.#forgets, rows };
    }
    let sharing = 0;
    for (const p of this.#people.values()) if (now - p.lastAt <= o.freshMs) sharing++;
    return { end, tracked: this.#people.size, sharing, rows: this.#rows.rows };
  }

  #rows: { readonly end: number; readonly forgets: number; readonly rows: readonly Float64Array[] } | null = null;
  /** Counts people forgotten (left, or silent for two windows): a row cached for a slot is then stale. */
  #forgets = 0;

  /**
   * One heart-rate reading (bpm) from a participant at epoch ms `at` — from a `source: "heart"`
   * input's `heart.bpm`. Non-finite or implausible values (outside 25–250) are ignored. O(1).
   */
  observe(participant: string, bpm: number, at: number): void {
    if (!Number.isFinite(bpm) || bpm < 25 || bpm > 250 || !Number.isFinite(at)) return;
    let p = this.#people.get(participant);
    if (!p) {
      p = { slot: new Float64Array(this.#w).fill(-1), sum: new Float64Array(this.#w), n: new Uint16Array(this.#w), lastAt: at };
      this.#people.set(participant, p);
    }
    const k = Math.floor(at / this.#o.sampleMs);
    const c = k % this.#w;
    if (p.slot[c] !== k) {
      p.slot[c] = k;
      p.sum[c] = 0;
      p.n[c] = 0;
    }
    p.sum[c] = (p.sum[c] as number) + bpm;
    p.n[c] = Math.min(65_535, (p.n[c] as number) + 1);
    p.lastAt = Math.max(p.lastAt, at);
  }

  #cached: { readonly end: number; readonly m: HeartSynchronyMeasure } | null = null;

  /**
   * The measure for the window ending at `now`'s slot, computed at most once per slot (every
   * `sampleMs`) and reused by every tick within it — call this from the tick, not `compute`.
   * `sharing` and `at` are the first computation's of the slot.
   */
  measure(now: number): HeartSynchronyMeasure {
    if (this.#merged) {
      this.#cached ??= { end: -1, m: this.#computeMerged(now, this.#merged) };
      return this.#cached.m;
    }
    const end = Math.floor(now / this.#o.sampleMs);
    if (this.#cached?.end !== end) this.#cached = { end, m: this.compute(now) };
    return this.#cached.m;
  }

  /** The measure over every node's rows, in the windows' order; the window's end is the latest node's. */
  #computeMerged(now: number, windows: readonly HeartWindow[]): HeartSynchronyMeasure {
    let end = Math.floor(now / this.#o.sampleMs);
    if (windows.length > 0) end = Math.max(...windows.map((w) => w.end));
    const rows: Float64Array[] = [];
    let sharing = 0;
    for (const w of windows) {
      sharing += w.sharing;
      for (const r of w.rows) if (r.length === this.#w) rows.push(r);
    }
    return this.#computeRows(now, end, sharing, rows);
  }

  /** A participant stopped sharing or left: forget their readings at once. */
  forget(participant: string): void {
    if (this.#people.delete(participant)) this.#forgets++;
  }

  /** The series of the window ending before slot `end` (exclusive), gap-filled, or null. */
  #seriesOf(p: Person, end: number): Float64Array | null {
    const W = this.#w;
    const out = new Float64Array(W);
    let have = 0;
    for (let t = 0; t < W; t++) {
      const k = end - W + t;
      const c = ((k % W) + W) % W;
      if (p.slot[c] === k && (p.n[c] as number) > 0) {
        out[t] = (p.sum[c] as number) / (p.n[c] as number);
        have++;
      } else out[t] = Number.NaN;
    }
    if (have < this.#o.minCoverage * W) return null;
    // Carry values over short gaps; refuse a person with a longer one.
    let first = -1;
    for (let t = 0; t < W; t++) if (!Number.isNaN(out[t] as number)) {
      first = t;
      break;
    }
    if (first > this.#o.maxGapSlots) return null;
    for (let t = 0; t < first; t++) out[t] = out[first] as number;
    let run = 0;
    for (let t = first + 1; t < W; t++) {
      if (Number.isNaN(out[t] as number)) {
        if (++run > this.#o.maxGapSlots) return null;
        out[t] = out[t - 1] as number;
      } else run = 0;
    }
    return out;
  }

  /** Measures the synchrony over the window that ends at the last complete slot before `now`. */
  compute(now: number): HeartSynchronyMeasure {
    const w = this.#collect(now);
    return this.#computeRows(now, w.end, w.sharing, w.rows);
  }

  /** The window ending at `now`'s slot: who shares, and the series of those who count. */
  #collect(now: number): { end: number; sharing: number; rows: Float64Array[] } {
    const o = this.#o;
    const end = Math.floor(now / o.sampleMs);
    let sharing = 0;
    const rows: Float64Array[] = [];
    for (const [id, p] of this.#people) {
      if (now - p.lastAt > 2 * o.windowMs) {
        this.#people.delete(id); // bounded state: silent for two windows
        this.#forgets++;
        continue;
      }
      if (now - p.lastAt <= o.freshMs) sharing++;
      const s = this.#seriesOf(p, end);
      if (s) rows.push(s);
    }
    return { end, sharing, rows };
  }

  /** The ISC, its interval and its surrogates over `rows` (module header, steps 2–4). */
  #computeRows(now: number, end: number, sharing: number, rows: readonly Float64Array[]): HeartSynchronyMeasure {
    const o = this.#o;
    const W = this.#w;
    const rng = createRng(`${o.seed}:${end}`);
    const chosen = rows.length > o.maxPeople ? sampleIndices(rows.length, o.maxPeople, rng).map((i) => rows[i] as Float64Array) : rows;
    const P = chosen.length;
    const base = { at: now, sharing, people: P, windowMs: o.windowMs, confidence: o.confidence };
    if (P < o.minPeople) return { ...base, isc: null, lower: null, upper: null, surrogateMean: null, surrogateP95: null, p: null };
    const x = new Float64Array(P * W);
    for (const [i, r] of chosen.entries()) x.set(r, i * W);
    const z = leaveOneOutZ(x, P, W);
    const zObs = mean(z);
    // Bootstrap over people.
    const boots = new Float64Array(o.bootstrap);
    for (let b = 0; b < o.bootstrap; b++) {
      let s = 0;
      for (let i = 0; i < P; i++) s += z[rng.int(P)] as number;
      boots[b] = s / P;
    }
    boots.sort();
    const alpha = (1 - o.confidence) / 2;
    // Circular time-shift surrogates.
    const surr = new Float64Array(o.surrogates);
    const shifts = new Int32Array(P);
    let atLeast = 0;
    for (let s = 0; s < o.surrogates; s++) {
      for (let i = 0; i < P; i++) shifts[i] = 1 + rng.int(W - 1);
      const zs = mean(leaveOneOutZ(x, P, W, shifts));
      surr[s] = Math.tanh(zs);
      if (zs >= zObs) atLeast++;
    }
    surr.sort();
    return {
      ...base,
      isc: Math.tanh(zObs),
      lower: Math.tanh(quantile(boots, alpha)),
      upper: Math.tanh(quantile(boots, 1 - alpha)),
      surrogateMean: o.surrogates > 0 ? mean(surr) : null,
      surrogateP95: o.surrogates > 0 ? quantile(surr, 0.95) : null,
      p: o.surrogates > 0 ? (1 + atLeast) / (1 + o.surrogates) : null,
    };
  }
}
