/**
 * The differentially private contagion index (SPEC R8, H10): how much more the people who had
 * been shown the pulse moved toward it than those who had not, released from a space's stored
 * inputs under the space's budget, with the privacy unit one participant.
 *
 * Each participant contributes one bounded summary (collective/contagion.ts gives their pulls,
 * each clipped to [−c, c], c = 2): the mean of their exposed pulls and the mean of their
 * unexposed pulls, each quantised to 1/64, and whether they have any of each. The release is
 * four sums over participants: E = Σ exposed means, Nₑ = how many have exposed pairs, and U, Nᵤ
 * alike. Adding or removing one participant changes Nₑ and Nᵤ by at most 1 and E and U by at
 * most 64c (in 1/64 units), so the vector (Nₑ, Nᵤ, E/(64c), U/(64c)) has L2² sensitivity 4.
 * Counts get discrete Gaussian noise of variance σ² and sums of (64c)²σ², σ² = 4/(2ρ), which
 * makes the release ρ-zCDP (Canonne–Kamath–Steinke 2020, Thm 4; composition: budget.ts).
 * Everything after the noise is post-processing: with a noisy Nₑ or Nᵤ below k the index is
 * withheld; otherwise the exposed and unexposed pulls are E/(64·Nₑ) and U/(64·Nᵤ), clamped to
 * [−c, c], and the index their difference.
 *
 * The estimator weighs people, not pairs (the exact index weighs pairs: one busy tapper would
 * otherwise carry unbounded weight), and its interval is not the bootstrap's (resampling the
 * raw inputs is not private): `noiseSd` is the standard deviation the noise alone adds to the
 * index, c·σ·√(1/Nₑ² + 1/Nᵤ²) from the noisy counts, beside which sampling error comes on top.
 *
 * Pure: noise from ChaCha20 keyed by the space's secret seed, the release number as nonce.
 */
import { CONTAGION_CLIP, type ContagionRecord, participantPulls } from '../collective/contagion.ts';
import { sigma2For } from './budget.ts';
import { noiseStream } from './chacha20.ts';
import { rational, sampleDiscreteGaussian } from './discrete.ts';
import { DP_DOMAIN, SUM_SCALE } from './dpSeries.ts';

/** A query of the contagion index. */
export interface DpContagionQuery {
  readonly from: number;
  readonly to: number;
  /** ρ to spend, in micro-ρ. */
  readonly rhoMicro: number;
}

/** The released index. Figures are null when withheld (a noisy count below k). */
export interface DpContagion {
  readonly index: number | null;
  readonly exposedPull: number | null;
  readonly unexposedPull: number | null;
  /** Noisy number of people with exposed / unexposed pairs (clamped at 0). */
  readonly exposedPeople: number;
  readonly unexposedPeople: number;
  /** Standard deviation of the noise on each count, in people. */
  readonly sigma: number;
  /** Standard deviation the noise alone adds to the index (null when withheld). */
  readonly noiseSd: number | null;
  readonly withheld: boolean;
  readonly clip: number;
  readonly method: 'zCDP discrete Gaussian over per-participant mean pulls';
}

/** L2² sensitivity of the released vector (see the header). */
export const CONTAGION_DELTA2 = 4;

/** The noise variance per count for a query (σ² = 4/(2ρ)), as a number. */
export function contagionSigma(rhoMicro: number): number {
  const s2 = sigma2For(CONTAGION_DELTA2, rhoMicro);
  return Math.sqrt(Number(s2.num) / Number(s2.den));
}

/** Releases the contagion index of `records` over [from, to) with minimum cohort k, noise key `key` and release number `nonce`. Deterministic. */
export function releaseDpContagion(records: readonly ContagionRecord[], q: DpContagionQuery, k: number, key: Uint32Array, nonce: number): DpContagion {
  const clip = CONTAGION_CLIP;
  const within = records.filter((r) => r.at >= q.from && r.at < q.to);
  let e = 0;
  let ne = 0;
  let u = 0;
  let nu = 0;
  const mean = (xs: readonly number[]) => Math.round((xs.reduce((s, x) => s + x, 0) / xs.length) * SUM_SCALE);
  for (const g of participantPulls(within, { clip })) {
    if (g.exposed.length > 0) {
      e += mean(g.exposed);
      ne++;
    }
    if (g.unexposed.length > 0) {
      u += mean(g.unexposed);
      nu++;
    }
  }
  const s2 = sigma2For(CONTAGION_DELTA2, q.rhoMicro);
  const scale = BigInt(SUM_SCALE * clip);
  const s2sum = rational(s2.num * scale * scale, s2.den);
  const rng = noiseStream(key, DP_DOMAIN, nonce);
  const noisyNe = Math.max(0, ne + Number(sampleDiscreteGaussian(rng, s2)));
  const noisyNu = Math.max(0, nu + Number(sampleDiscreteGaussian(rng, s2)));
  const noisyE = e + Number(sampleDiscreteGaussian(rng, s2sum));
  const noisyU = u + Number(sampleDiscreteGaussian(rng, s2sum));
  const sigma = Math.sqrt(Number(s2.num) / Number(s2.den));
  const base = { exposedPeople: noisyNe, unexposedPeople: noisyNu, sigma, clip, method: 'zCDP discrete Gaussian over per-participant mean pulls' as const };
  if (noisyNe < k || noisyNu < k) return { ...base, index: null, exposedPull: null, unexposedPull: null, noiseSd: null, withheld: true };
  const clamp = (x: number) => Math.max(-clip, Math.min(clip, x));
  const exposedPull = clamp(noisyE / SUM_SCALE / noisyNe);
  const unexposedPull = clamp(noisyU / SUM_SCALE / noisyNu);
  return { ...base, index: exposedPull - unexposedPull, exposedPull, unexposedPull, noiseSd: clip * sigma * Math.sqrt(1 / (noisyNe * noisyNe) + 1 / (noisyNu * noisyNu)), withheld: false };
}
