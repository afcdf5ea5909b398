/**
 * What a policy's expression sees (SPEC Q3): an immutable view of the **released** pulse — the
 * figures every display already gets, never an individual — plus a short window of its recent
 * history, and, in spaces with groups, the released groups and the bridging score. One typed
 * schema declares every field; CEL checks each expression against it when it is proposed.
 *
 *   pulse.count, pulse.mean.{valence,arousal}, pulse.smoothed.*, pulse.spread.*,
 *   pulse.quadrants.{pleasantEnergised,pleasantCalm,unpleasantCalm,unpleasantEnergised},
 *   pulse.collective.{dissonance,polarisation,entropy,bimodal,camps,largestCamp,alerting,
 *                     alertProbability,alertMagnitude},
 *   history.{count,valence,arousal,dissonance}[i]   i participant ticks ago, 0 ≤ i < HISTORY_LENGTH
 *   groups["name"].{shown,count,mean.*,spread.*}     (declared groups only)
 *   bridging.{shown,score,closeness}
 *
 * Numbers are CEL `double`. A figure the release stage withholds (below the minimum cohort) is
 * 0 with its `shown` flag false, so an expression never needs null checks — and a policy is not
 * evaluated at all while the whole pulse is suppressed (Q9).
 */
import type { PulseView } from '../space/events.ts';

/** Entries in each history list: 30 participant ticks (15 s at 2 Hz). */
export const HISTORY_LENGTH = 30;

const pair = { valence: 'double', arousal: 'double' } as const;

/** The CEL schema of the `pulse` variable. */
export const PULSE_SCHEMA = {
  count: 'double',
  mean: pair,
  smoothed: pair,
  spread: pair,
  quadrants: { pleasantEnergised: 'double', pleasantCalm: 'double', unpleasantCalm: 'double', unpleasantEnergised: 'double' },
  collective: {
    dissonance: 'double',
    polarisation: 'double',
    entropy: 'double',
    bimodal: 'bool',
    camps: 'double',
    largestCamp: 'double',
    alerting: 'bool',
    alertProbability: 'double',
    alertMagnitude: 'double',
  },
} as const;

/** The CEL schema of the `history` variable (newest first). */
export const HISTORY_SCHEMA = { count: 'list<double>', valence: 'list<double>', arousal: 'list<double>', dissonance: 'list<double>' } as const;

/** The CEL schema of one released group. */
export const GROUP_SCHEMA = { shown: 'bool', count: 'double', mean: pair, spread: pair } as const;

/** The CEL schema of `bridging`. */
export const BRIDGING_SCHEMA = { shown: 'bool', score: 'double', closeness: 'double' } as const;

/** One participant tick's figures kept for `history`. */
export interface HistoryPoint {
  readonly count: number;
  readonly valence: number;
  readonly arousal: number;
  readonly dissonance: number;
}

/** The recent history of a space (newest first, at most HISTORY_LENGTH). */
export class PolicyHistory {
  readonly count: number[] = [];
  readonly valence: number[] = [];
  readonly arousal: number[] = [];
  readonly dissonance: number[] = [];

  /** Adds the newest point. O(HISTORY_LENGTH). */
  push(p: HistoryPoint): void {
    for (const [list, x] of [
      [this.count, p.count],
      [this.valence, p.valence],
      [this.arousal, p.arousal],
      [this.dissonance, p.dissonance],
    ] as const) {
      list.unshift(x);
      if (list.length > HISTORY_LENGTH) list.pop();
    }
  }

  /** Lists of exactly HISTORY_LENGTH entries: missing old entries repeat the oldest known one. */
  lists(): { count: number[]; valence: number[]; arousal: number[]; dissonance: number[] } {
    const full = (l: number[]) => {
      const out = l.slice();
      const last = out[out.length - 1] ?? 0;
      while (out.length < HISTORY_LENGTH) out.push(last);
      return out;
    };
    return { count: full(this.count), valence: full(this.valence), arousal: full(this.arousal), dissonance: full(this.dissonance) };
  }
}

const zeroPair = { valence: 0, arousal: 0 };

/** The `history` point of a released view. */
export function historyPointOf(v: PulseView): HistoryPoint {
  return { count: v.count, valence: v.mean?.valence ?? 0, arousal: v.mean?.arousal ?? 0, dissonance: v.collective?.dissonance.score ?? 0 };
}

/** The variables an expression is evaluated with, built from a released view only. */
export interface PolicyInput {
  readonly pulse: Record<string, unknown>;
  readonly history: Record<string, unknown>;
  readonly groups: Record<string, unknown>;
  readonly bridging: Record<string, unknown>;
}

/** Builds the expression's variables from a released view and its history (pure). */
export function policyInputOf(v: PulseView, history: PolicyHistory, groupNames: readonly string[]): PolicyInput {
  const q = v.quadrants ?? [0, 0, 0, 0];
  const c = v.collective;
  const alert = c?.alerts[0];
  const camps = c?.camps ?? [];
  const pulse = {
    count: v.count,
    mean: v.mean ?? zeroPair,
    smoothed: v.smoothed ?? zeroPair,
    spread: v.spread ?? zeroPair,
    quadrants: { pleasantEnergised: q[0], pleasantCalm: q[1], unpleasantCalm: q[2], unpleasantEnergised: q[3] },
    collective: {
      dissonance: c?.dissonance.score ?? 0,
      polarisation: c?.dissonance.polarisationNormalised ?? 0,
      entropy: c?.dissonance.entropy ?? 0,
      bimodal: c?.dissonance.bimodal ?? false,
      camps: camps.length,
      largestCamp: camps[0]?.share ?? 0,
      alerting: alert !== undefined,
      alertProbability: alert?.probability ?? 0,
      alertMagnitude: alert?.magnitude ?? 0,
    },
  };
  const groups: Record<string, unknown> = {};
  for (const name of groupNames) {
    const g = v.groups?.[name];
    const shown = g !== undefined && !g.suppressed && g.mean !== null;
    groups[name] = { shown, count: shown ? (g?.count ?? 0) : 0, mean: shown ? (g?.mean ?? zeroPair) : zeroPair, spread: shown ? (g?.spread ?? zeroPair) : zeroPair };
  }
  const b = v.bridging;
  const bridging = { shown: b !== undefined && b !== null, score: b?.score ?? 0, closeness: b?.closeness ?? 0 };
  return { pulse, history: history.lists(), groups, bridging };
}

/** The figures an expression reads, flattened for dry-run charts: `pulse.collective.dissonance` → value. */
export function flatten(input: PolicyInput): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (prefix: string, o: unknown) => {
    if (typeof o === 'number') out.set(prefix, o);
    else if (typeof o === 'boolean') out.set(prefix, o ? 1 : 0);
    else if (o && typeof o === 'object' && !Array.isArray(o)) for (const [k, x] of Object.entries(o)) walk(prefix ? `${prefix}.${k}` : k, x);
  };
  walk('pulse', input.pulse);
  walk('groups', input.groups);
  walk('bridging', input.bridging);
  return out;
}
