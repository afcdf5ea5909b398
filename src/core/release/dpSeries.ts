/**
 * The differentially private time series (SPEC R8): what a space's stored inputs may say over a
 * period, for `GET …/series`, its CSV and research exports.
 *
 * The period [from, to) is cut into w windows of `bucketMs`. In each window every participant
 * counts once, with their last input in it: one count in their quadrant and their coordinates,
 * quantised to 1/64, in the window's sums. Adding or removing one participant (the privacy
 * unit) changes, in each window, one quadrant count by at most 1 and each coordinate sum by at
 * most 64 — so the vector (counts, sums/64) over all windows has L2² sensitivity ≤ 3w. Each
 * count gets discrete Gaussian noise of variance σ² and each sum of variance 64²σ², with
 * σ² = 3w/(2ρ), which makes the release ρ-zCDP (Canonne–Kamath–Steinke 2020, Thm 4; the
 * accountant: budget.ts). Everything after the noise is post-processing: counts are clamped at
 * 0, a window whose noisy total is below k is withheld, shares and means are read off the noisy
 * figures.
 *
 * Pure: noise comes from ChaCha20 keyed by the space's secret seed with the release's number as
 * nonce (so a stored release can be checked by the operator, and nobody else can strip it).
 */
import { noiseStream } from './chacha20.ts';
import { type Rational, rational, sampleDiscreteGaussian } from './discrete.ts';
import { sigma2For } from './budget.ts';

/** Noise domain of DP releases (the first nonce word; live.ts uses 1 and 2). */
export const DP_DOMAIN = 3;

/** Most windows one release may hold. */
export const MAX_WINDOWS = 1440;

/** The quantisation of coordinates in the sums (1/64). */
export const SUM_SCALE = 64;

/** One input as the series needs it. */
export interface SeriesInput {
  readonly participantId: string;
  readonly at: number;
  readonly valence: number;
  readonly arousal: number;
}

/** One released window. Every figure is null when the window is withheld (noisy total < k). */
export interface DpSeriesPoint {
  readonly at: number;
  readonly count: number | null;
  readonly valence: number | null;
  readonly arousal: number | null;
  /** Shares in QUADRANTS order. */
  readonly quadrants: readonly [number, number, number, number] | null;
}

/** A query of the series. */
export interface DpSeriesQuery {
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
  /** ρ to spend, in micro-ρ. */
  readonly rhoMicro: number;
}

/** Number of windows of a query. */
export function windowsOf(q: Pick<DpSeriesQuery, 'from' | 'to' | 'bucketMs'>): number {
  return Math.max(1, Math.ceil((q.to - q.from) / q.bucketMs));
}

/** The noise variance per count for a query (σ² = 3w/(2ρ)), exact. */
export function seriesSigma2(q: DpSeriesQuery): Rational {
  return sigma2For(3 * windowsOf(q), q.rhoMicro);
}

const quadrantOf = (v: number, a: number) => (v >= 0 ? (a >= 0 ? 0 : 1) : a >= 0 ? 3 : 2);

/**
 * Releases the series of `inputs` (any order) for the query, with minimum cohort k, noise key
 * `key` and release number `nonce`. Deterministic given its arguments.
 */
export function releaseDpSeries(inputs: readonly SeriesInput[], q: DpSeriesQuery, k: number, key: Uint32Array, nonce: number): DpSeriesPoint[] {
  const w = windowsOf(q);
  if (w > MAX_WINDOWS) throw new RangeError(`at most ${MAX_WINDOWS} windows per release`);
  const last = new Map<string, SeriesInput>();
  for (const i of inputs) {
    if (i.at < q.from || i.at >= q.to) continue;
    const win = Math.floor((i.at - q.from) / q.bucketMs);
    const id = `${win}\u0000${i.participantId}`;
    const prev = last.get(id);
    if (!prev || i.at >= prev.at) last.set(id, i);
  }
  const counts = Array.from({ length: w }, () => [0, 0, 0, 0]);
  const sums = Array.from({ length: w }, () => [0, 0]);
  for (const [id, i] of last) {
    const win = Number(id.slice(0, id.indexOf('\u0000')));
    const c = counts[win] as number[];
    const qd = quadrantOf(i.valence, i.arousal);
    c[qd] = (c[qd] as number) + 1;
    const s = sums[win] as number[];
    s[0] = (s[0] as number) + Math.round(Math.max(-1, Math.min(1, i.valence)) * SUM_SCALE);
    s[1] = (s[1] as number) + Math.round(Math.max(-1, Math.min(1, i.arousal)) * SUM_SCALE);
  }
  const s2 = seriesSigma2(q);
  const s2sum = rational(s2.num * BigInt(SUM_SCALE * SUM_SCALE), s2.den);
  const rng = noiseStream(key, DP_DOMAIN, nonce);
  const out: DpSeriesPoint[] = [];
  for (let win = 0; win < w; win++) {
    const c = (counts[win] as number[]).map((x) => Math.max(0, x + Number(sampleDiscreteGaussian(rng, s2))));
    const sv = (sums[win] as number[])[0] as number;
    const sa = (sums[win] as number[])[1] as number;
    const nv = sv + Number(sampleDiscreteGaussian(rng, s2sum));
    const na = sa + Number(sampleDiscreteGaussian(rng, s2sum));
    const n = c.reduce((a, b) => a + b, 0);
    const at = q.from + win * q.bucketMs;
    if (n < k) {
      out.push({ at, count: null, valence: null, arousal: null, quadrants: null });
      continue;
    }
    const clamp = (x: number) => Math.max(-1, Math.min(1, x));
    out.push({ at, count: n, valence: clamp(nv / SUM_SCALE / n), arousal: clamp(na / SUM_SCALE / n), quadrants: c.map((x) => x / n) as [number, number, number, number] });
  }
  return out;
}
