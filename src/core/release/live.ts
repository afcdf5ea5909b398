/**
 * The live release (SPEC R7, PRIVACY.md): how the pulse resists a watching neighbour.
 *
 * The attack it answers: someone in the room sees every pulse and sees a neighbour tap. With
 * the room released afresh at every tick, the next pulse differs from the last by exactly that
 * one person's move — one cell up by one, another down by one, the mean shifted by their move
 * over n — and the neighbour's cell can be read off (`npm run bench:privacy`: ≈ 100 % in a
 * quiet room). Three measures, applied in this order, close it:
 *
 * 1. **Batches** (`batch` = b). A new snapshot of the room is taken only once at least b
 *    distinct people's points changed (a tap, a leave, an expiry, a group change) since the
 *    last one; between snapshots every released figure stays as it was. So the difference of
 *    two consecutive releases is the sum of ≥ b people's moves, and a known tap time tells the
 *    attacker only which batch holds the target, not which of the b moves is theirs. (When
 *    the room empties, the empty room is released at once: that reveals no point.)
 * 2. **Coarsening** (R2) of the snapshot into units of 0 or ≥ k people.
 * 3. **Discrete Gaussian noise** (`noise`, σ in people) on each unit's total, and (`meanNoise`,
 *    σ in coordinate units) on the room's coordinate sums behind the mean and the spread.
 *    **A crowd** (`crowd`, from 200 people by default) trades the batch for more noise: b = 1,
 *    σ = 2 people, σ = 2 on the sums — a quadrant of a crowd holds many units, so their summed
 *    noise hides one move as well as a batch does, and a lone tap shows at the next tick. The
 *    draws are exact (discrete.ts, Canonne–Kamath–Steinke 2020) from ChaCha20 keyed by the
 *    space's secret seed, nonce = the pulse seq of the snapshot (chacha20.ts): deterministic for
 *    replay, fresh for every snapshot, unpredictable without the seed.
 *
 * The smoothed mean is an EMA of the released mean (post-processing). This is a measured
 * defence against differencing, not a formal differential-privacy guarantee for a continual
 * release: over hours a stationary person's point is averaged by many snapshots. Formal DP with a
 * budget applies to what is kept and exported (series, contagion: budget.ts).
 *
 * Pure: the state lives in the machine; O(bins² + u) per snapshot for u units, O(1) otherwise.
 */
import { Aggregate, QUANTUM } from '../aggregate/aggregate.ts';
import type { RandomWords } from './chacha20.ts';
import { noiseStream } from './chacha20.ts';
import { discreteGaussian, type Rational, rationalOf } from './discrete.ts';
import { coarsenParts } from './groups.ts';
import { quadrantSharesOf } from './release.ts';

/** Noise domains (the first nonce word): one independent stream per use. */
export const NOISE_DOMAIN = { liveUnits: 1, liveSums: 2 } as const;

/** How a snapshot is taken and noised: batch size and noise. */
export interface LiveSettings {
  /** Distinct people whose points changed before a new snapshot is released (b ≥ 1). */
  readonly batch: number;
  /** σ of the discrete Gaussian on each released unit's count, in people (0 = none). */
  readonly noise: number;
  /** σ of the discrete Gaussian on the sums of each coordinate (and of squares), in coordinate units (0 = none). */
  readonly meanNoise: number;
}

/** The live-release settings (part of the release policy). */
export interface LivePolicy extends LiveSettings {
  /**
   * A crowd's settings: from `from` people on, these replace batch and noise. In a crowd a
   * quadrant holds many units, so the noise on their sum hides one person's move without a
   * batch, at a cost in accuracy that shrinks with the room (PRIVACY.md: batches make a lone tap
   * wait for b − 1 others, ≈ 160 ms in a room of 250). Absent: one setting for every size (and
   * sessions recorded before it replay so).
   */
  readonly crowd?: LiveSettings & { readonly from: number };
}

/**
 * The settings that apply when the smallest aggregate released from a snapshot (the room, or
 * its smallest declared group, R6) holds `count` people (R7).
 */
export function liveSettingsFor(policy: LivePolicy, count: number): LiveSettings {
  return policy.crowd && count >= policy.crowd.from ? policy.crowd : policy;
}

/** The released figures of one snapshot. */
export interface LiveFigures {
  readonly count: number;
  readonly mean: { readonly valence: number; readonly arousal: number } | null;
  readonly spread: { readonly valence: number; readonly arousal: number } | null;
  readonly hist: readonly number[] | null;
  readonly quadrants: readonly [number, number, number, number] | null;
}

/** The live release's state, owned by the space machine. */
export interface LiveRelease {
  /** The pulse seq at which the current snapshot was taken (its noise nonce), or −1 before the first. */
  epoch: number;
  /** The room as of the snapshot (true counts: never released as such). */
  snapshot: Aggregate | null;
  /** The declared groups' aggregates as of the snapshot (R6 releases them from these). */
  groupSnapshots: Aggregate[];
  /** What the snapshot releases. */
  figures: LiveFigures | null;
  smoothed: { valence: number; arousal: number } | null;
  lastAt: number | null;
}

/** A fresh live release (a new space, or a restart). */
export function newLiveRelease(): LiveRelease {
  return { epoch: -1, snapshot: null, groupSnapshots: [], figures: null, smoothed: null, lastAt: null };
}

/** Whether a new snapshot is due: the first one, b changed people, or an emptied room. */
export function snapshotDue(live: LiveRelease, changed: number, count: number, policy: LiveSettings): boolean {
  if (live.snapshot === null) return true;
  if (changed === 0) return false;
  if (changed >= policy.batch) return true;
  return count === 0 && live.snapshot.n > 0;
}

/** σ² as a rational, once per σ (a handful of settings). */
const variances = new Map<number, Rational>();
const varianceOf = (sigma: number): Rational => {
  let v = variances.get(sigma);
  if (!v) {
    v = rationalOf(sigma * sigma);
    if (variances.size < 64) variances.set(sigma, v);
  }
  return v;
};
const draw = (rng: RandomWords, sigma: number) => (sigma > 0 ? discreteGaussian(rng, varianceOf(sigma)) : 0);

/**
 * The figures a snapshot releases: the coarsened histogram (R2) with noise on each unit, the
 * quadrant shares read off it, the mean and spread from noisy sums. `key` is the space's noise
 * key (null: no noise, e.g. a space created before seeds existed). Deterministic given
 * (snapshot, k, policy, key, seq).
 */
export function figuresOf(snapshot: Aggregate, k: number, policy: LiveSettings, key: Uint32Array | null, seq: number): LiveFigures {
  const n = snapshot.n;
  if (n < k) return { count: n, mean: null, spread: null, hist: null, quadrants: null };
  const bins = snapshot.bins;
  const size = bins * bins;
  const units = coarsenParts([snapshot.counts], bins, k).sort((a, b) => (a[0] as number) - (b[0] as number));
  const noisy = key !== null && policy.noise > 0;
  const unitRng = noisy ? noiseStream(key, NOISE_DOMAIN.liveUnits, seq) : null;
  const hist = new Array<number>(size).fill(0);
  for (const u of units) {
    let t = 0;
    for (const c of u) t += snapshot.counts[c] ?? 0;
    if (unitRng) t = Math.max(0, t + draw(unitRng, policy.noise));
    const each = t / u.length;
    for (const c of u) hist[c] = each;
  }
  let quadrants = quadrantSharesOf(hist, bins);
  if (!quadrants) {
    // Noise emptied every unit: fall back to the unit layout without counts (shares unknown → even).
    quadrants = [0.25, 0.25, 0.25, 0.25];
  }
  const sumRng = key !== null && policy.meanNoise > 0 ? noiseStream(key, NOISE_DOMAIN.liveSums, seq) : null;
  const s1 = QUANTUM * policy.meanNoise;
  const s2 = QUANTUM * QUANTUM * policy.meanNoise;
  const sv = snapshot.sv + (sumRng ? draw(sumRng, s1) : 0);
  const sa = snapshot.sa + (sumRng ? draw(sumRng, s1) : 0);
  const svv = snapshot.svv + (sumRng ? draw(sumRng, s2) : 0);
  const saa = snapshot.saa + (sumRng ? draw(sumRng, s2) : 0);
  const clamp = (x: number) => Math.max(-1, Math.min(1, x));
  const mv = sv / n / QUANTUM;
  const ma = sa / n / QUANTUM;
  const vv = Math.max(0, svv / n / (QUANTUM * QUANTUM) - mv * mv);
  const va = Math.max(0, saa / n / (QUANTUM * QUANTUM) - ma * ma);
  return { count: n, mean: { valence: clamp(mv), arousal: clamp(ma) }, spread: { valence: Math.sqrt(vv), arousal: Math.sqrt(va) }, hist, quadrants };
}

/** Copies an aggregate for a snapshot. */
export function snapshotOf(grid: Aggregate): Aggregate {
  return new Aggregate(grid.bins).merge(grid);
}

/** Advances the released smoothed mean (EMA of the released mean, time constant τ ms; SPEC P5). */
export function smoothReleased(live: LiveRelease, mean: { readonly valence: number; readonly arousal: number } | null, at: number, smoothingMs: number): { valence: number; arousal: number } | null {
  if (!mean) {
    live.smoothed = null;
  } else if (!live.smoothed || live.lastAt === null) {
    live.smoothed = { valence: mean.valence, arousal: mean.arousal };
  } else {
    const f = 1 - Math.exp(-Math.max(0, at - live.lastAt) / smoothingMs);
    live.smoothed = { valence: live.smoothed.valence + (mean.valence - live.smoothed.valence) * f, arousal: live.smoothed.arousal + (mean.arousal - live.smoothed.arousal) * f };
  }
  live.lastAt = at;
  return live.smoothed ? { ...live.smoothed } : null;
}
