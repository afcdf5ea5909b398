/**
 * The contagion index: how much more participants who had been shown the pulse move toward it
 * than participants who had not, with a participant-cluster bootstrap confidence interval.
 *
 * Definition (docs/collective-state.md §Contagion): take each participant's inputs in time
 * order; for every consecutive pair (p → c) let s be the pulse mean recorded with c (what that
 * person was shown, or for an unexposed person what the pulse showed at that time), g = s − p
 * the gap to the pulse and Δ = c − p the change. The pair's pull toward the pulse is
 *   m = (Δ · g) / ‖g‖²      (the fraction of the gap closed; 1 = moved onto the pulse,
 *                            0 = moved orthogonally or not at all, < 0 = moved away),
 * clipped to [−clip, clip]; pairs with ‖g‖ < minGap carry no direction and are skipped. A pair
 * is exposed when c was (the `exposed` flag of the later input). Then
 *   C = mean(m | exposed) − mean(m | unexposed).
 * Regression to the crowd's centre moves everyone toward the mean; the unexposed pairs are the
 * control for it. The CI is the percentile bootstrap (B. Efron and R. Tibshirani, An
 * Introduction to the Bootstrap, 1993, ch. 13) resampling participants, not pairs, with
 * replacement (cluster bootstrap: A. C. Davison and D. V. Hinkley, Bootstrap Methods and their
 * Application, 1997, §3.8), because one person's successive pairs are not independent.
 */
import { createRng } from './prng.ts';

/** One stored input, as the contagion index reads it. */
export interface ContagionRecord {
  readonly participantId: string;
  /** Epoch ms. */
  readonly at: number;
  readonly valence: number;
  readonly arousal: number;
  /** Whether this participant had been shown the pulse in the last N seconds before this input. */
  readonly exposed: boolean;
  /** The pulse mean shown (or, for an unexposed input, displayed) at the time; null if none. */
  readonly shownValence: number | null;
  readonly shownArousal: number | null;
}

/** Options for {@link contagionIndex}. */
export interface ContagionOptions {
  /** Gaps to the pulse shorter than this carry no direction; such pairs are skipped. */
  readonly minGap?: number;
  /** Pulls are clipped to [−clip, clip] so one big jump on a tiny gap cannot dominate. */
  readonly clip?: number;
  /** Pairs further apart in time than this are skipped (ms; default: no limit). */
  readonly maxPairMs?: number;
  /** Bootstrap replicates. */
  readonly replicates?: number;
  /** Two-sided confidence level. */
  readonly confidence?: number;
  /** Seed of the bootstrap. */
  readonly seed?: number | string;
}

/** The contagion index and its interval. */
export interface ContagionIndex {
  /** C = mean pull of exposed pairs − mean pull of unexposed pairs; null without both kinds. */
  readonly index: number | null;
  /** Lower and upper bounds of the percentile cluster-bootstrap interval; null when undefined. */
  readonly lower: number | null;
  readonly upper: number | null;
  readonly confidence: number;
  readonly exposedPull: number | null;
  readonly unexposedPull: number | null;
  readonly exposedPairs: number;
  readonly unexposedPairs: number;
  readonly participants: number;
  /** The interval method, spelled out. */
  readonly method: 'participant-cluster percentile bootstrap';
  readonly replicates: number;
}

/** One participant's pulls toward the pulse (each clipped to [−clip, clip]), by exposure. */
export interface ParticipantPulls {
  readonly exposed: number[];
  readonly unexposed: number[];
}

/**
 * Every participant's pulls (the pairs of the definition above), sorted by participant id;
 * participants without a usable pair are left out. Pure. The DP release
 * (release/dpContagion.ts) starts from these too.
 */
export function participantPulls(records: readonly ContagionRecord[], options: Pick<ContagionOptions, 'minGap' | 'clip' | 'maxPairMs'> = {}): ParticipantPulls[] {
  const minGap = options.minGap ?? 0.05;
  const clip = options.clip ?? CONTAGION_CLIP;
  const maxPairMs = options.maxPairMs ?? Infinity;
  const byParticipant = new Map<string, ContagionRecord[]>();
  for (const r of records) {
    let list = byParticipant.get(r.participantId);
    if (!list) {
      list = [];
      byParticipant.set(r.participantId, list);
    }
    list.push(r);
  }
  const groups: ParticipantPulls[] = [];
  // Sorted by id so that the bootstrap does not depend on the order of the records.
  const ids = [...byParticipant.keys()].sort();
  for (const id of ids) {
    const list = byParticipant.get(id) as ContagionRecord[];
    list.sort((a, b) => a.at - b.at || a.valence - b.valence || a.arousal - b.arousal);
    const g: ParticipantPulls = { exposed: [], unexposed: [] };
    for (let i = 1; i < list.length; i++) {
      const p = list[i - 1] as ContagionRecord;
      const c = list[i] as ContagionRecord;
      if (c.shownValence === null || c.shownArousal === null) continue;
      if (c.at - p.at > maxPairMs) continue;
      const gx = c.shownValence - p.valence;
      const gy = c.shownArousal - p.arousal;
      const g2 = gx * gx + gy * gy;
      if (g2 < minGap * minGap) continue;
      const m = Math.max(-clip, Math.min(clip, ((c.valence - p.valence) * gx + (c.arousal - p.arousal) * gy) / g2));
      (c.exposed ? g.exposed : g.unexposed).push(m);
    }
    if (g.exposed.length + g.unexposed.length > 0) groups.push(g);
  }
  return groups;
}

/** The default clip of one pull, |m| ≤ 2. */
export const CONTAGION_CLIP = 2;

/**
 * Computes the contagion index over input records (any order), exactly. Pure; randomness is the
 * seed. Exact figures about individuals' inputs: for simulations and tests — what leaves the
 * server is the differentially private release (release/dpContagion.ts, SPEC R8).
 */
export function contagionIndex(records: readonly ContagionRecord[], options: ContagionOptions = {}): ContagionIndex {
  const replicates = options.replicates ?? 1000;
  const confidence = options.confidence ?? 0.95;
  const groups = participantPulls(records, options);
  const estimate = (sample: readonly ParticipantPulls[]): { c: number | null; e: number | null; u: number | null; ne: number; nu: number } => {
    let se = 0;
    let ne = 0;
    let su = 0;
    let nu = 0;
    for (const g of sample) {
      for (const m of g.exposed) se += m;
      for (const m of g.unexposed) su += m;
      ne += g.exposed.length;
      nu += g.unexposed.length;
    }
    const e = ne > 0 ? se / ne : null;
    const u = nu > 0 ? su / nu : null;
    return { c: e !== null && u !== null ? e - u : null, e, u, ne, nu };
  };
  const point = estimate(groups);
  let lower: number | null = null;
  let upper: number | null = null;
  if (point.c !== null && groups.length >= 2 && replicates > 0) {
    const rng = createRng(options.seed ?? 'attune-contagion');
    const stats: number[] = [];
    const sample: ParticipantPulls[] = new Array(groups.length);
    for (let b = 0; b < replicates; b++) {
      for (let i = 0; i < groups.length; i++) sample[i] = groups[rng.int(groups.length)] as ParticipantPulls;
      const r = estimate(sample);
      if (r.c !== null) stats.push(r.c);
    }
    if (stats.length > 0) {
      stats.sort((a, b) => a - b);
      const q = (p: number): number => stats[Math.min(stats.length - 1, Math.max(0, Math.floor(p * stats.length)))] as number;
      lower = q((1 - confidence) / 2);
      upper = q(1 - (1 - confidence) / 2);
    }
  }
  return {
    index: point.c,
    lower,
    upper,
    confidence,
    exposedPull: point.e,
    unexposedPull: point.u,
    exposedPairs: point.ne,
    unexposedPairs: point.nu,
    participants: groups.length,
    method: 'participant-cluster percentile bootstrap',
    replicates,
  };
}
