/**
 * The differencing attack on the live pulse (PRIVACY.md, SPEC R7), run against the real space
 * machine and its release stage — nothing here re-implements a release rule.
 *
 * A simulated room: N people join, each taps at times max(1.5 s, Exp(mean)) apart; a tap is a
 * fresh feeling anywhere on the grid (probability ½) or a small move (sd 0.15) around the
 * person's last one, so every person's quadrant is uniform a priori (chance = ¼, a cell 1/256).
 * The machine ticks at the participant rate; every published view is what the attacker sees.
 *
 * The attacker knows the exact time of one target's tap (each tap after the warm-up is one
 * trial) and compares the last release before it with the first release after it that differs.
 * Guesses: the quadrant whose released people rose most (ties: most people after), the cell
 * that rose most, and — a second strategy — the quadrant the released coordinate sums moved
 * toward. Success is scored against the tapped point.
 *
 * Utility: at every tick that is released (not suppressed), the mean absolute error of the four
 * quadrant shares and of the mean (both coordinates) against the exact values of the live room.
 */
import { createRng, type Rng } from '../core/collective/prng.ts';
import type { ReleasePolicy } from '../core/release/release.ts';
import type { PulseView } from '../core/space/events.ts';
import { createSpaceState, step } from '../core/space/machine.ts';

/** One simulated room. */
export interface DifferencingOptions {
  readonly people: number;
  /** Mean time between one person's taps, ms (each gap is max(1.5 s, Exp(mean))). */
  readonly tapMeanMs: number;
  /** Simulated duration, ms. */
  readonly durationMs: number;
  /** Taps before this are not attacked (the room fills up). */
  readonly warmupMs: number;
  readonly release: ReleasePolicy;
  readonly seed: string;
  /** Participant pulse rate (Hz); default 2. */
  readonly hz?: number;
  /** Point TTL, ms; default 120 s. */
  readonly ttlMs?: number;
}

/** What the attack achieved, and what the display lost. */
export interface DifferencingResult {
  readonly trials: number;
  /** Trials where a differing release came (the others: the room was suppressed). */
  readonly attacked: number;
  readonly quadrant: number;
  readonly cell: number;
  /** Quadrant success of the coordinate-sum strategy. */
  readonly quadrantByMean: number;
  /**
   * Quadrant success of the averaging attacker: the mean of the last w distinct releases before
   * the tap against the mean of the first w after it (counts and coordinate sums, whichever
   * strategy), the best of the six (w = 2, 4, 8 × the two strategies) — it beats fresh noise on
   * every release when the rest of the room is still. (The best of six, picked after the fact,
   * flatters the attacker a little: a conservative figure.)
   */
  readonly quadrantAveraged: number;
  /** Quadrant success of guessing the fullest released quadrant without the tap time (the prior). */
  readonly prior: number;
  readonly maeShares: number;
  readonly maeMean: number;
  /** Releases that differed from the one before, per second (how lively the display is). */
  readonly updatesPerSecond: number;
  readonly suppressedShare: number;
}

const clamp = (x: number) => Math.max(-0.999, Math.min(0.999, x));

function gauss(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

const quadrantOf = (cell: number, bins: number) => {
  const ix = cell % bins;
  const iy = Math.floor(cell / bins);
  const h = bins / 2;
  return ix >= h ? (iy >= h ? 0 : 1) : iy >= h ? 3 : 2;
};

function quadrantCounts(hist: readonly number[], bins: number): number[] {
  const q = [0, 0, 0, 0];
  for (let i = 0; i < hist.length; i++) q[quadrantOf(i, bins)] = (q[quadrantOf(i, bins)] as number) + (hist[i] as number);
  return q;
}

const argmax = (xs: readonly number[], tie: readonly number[]) => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) {
    const a = xs[i] as number;
    const b = xs[best] as number;
    if (a > b + 1e-9 || (Math.abs(a - b) <= 1e-9 && (tie[i] as number) > (tie[best] as number))) best = i;
  }
  return best;
};

/** The first position in a sorted list whose value is ≥ x. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The mean histogram and coordinate sums of some releases (null if any is suppressed or there are none). */
function averaged(views: readonly PulseView[], idx: readonly number[]): { hist: number[]; sv: number; sa: number } | null {
  if (idx.length === 0) return null;
  let hist: number[] | null = null;
  let sv = 0;
  let sa = 0;
  for (const i of idx) {
    const v = views[i] as PulseView;
    if (v.suppressed || !v.hist || !v.mean) return null;
    hist = hist ? hist.map((c, j) => c + (v.hist?.[j] ?? 0)) : [...v.hist];
    sv += v.mean.valence * v.count;
    sa += v.mean.arousal * v.count;
  }
  const n = idx.length;
  return { hist: (hist as number[]).map((c) => c / n), sv: sv / n, sa: sa / n };
}

/** Runs one room and the attack on it. Deterministic for a seed. */
export function runDifferencing(o: DifferencingOptions): DifferencingResult {
  const rng = createRng(o.seed);
  const hz = o.hz ?? 2;
  const ttlMs = o.ttlMs ?? 120_000;
  const seedHex = Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(rng.next() * 16)]).join('');
  let state = createSpaceState({ id: 'bench', code: 'BENCH', name: 'bench', capacity: o.people + 1, ttlMs, noiseSeed: seedHex }, { collective: false, heart: false, release: o.release, participantHz: hz, displayHz: hz });
  const bins = state.options.bins;
  state = step(state, { kind: 'started', at: 0, pulseSeq: 0 }).state;
  const people = Array.from({ length: o.people }, (_, i) => ({ id: `p${i}`, v: clamp(rng.next() * 2 - 1), a: clamp(rng.next() * 2 - 1), seq: 0, next: rng.next() * o.tapMeanMs }));
  people.forEach((p, i) => {
    state = step(state, { kind: 'joined', at: 0, conn: i + 1, participantId: p.id, tokenHash: `h${i}`, token: '', consent: true }).state;
  });
  const views: PulseView[] = [];
  const taps: { at: number; cell: number; viewIndex: number }[] = [];
  const period = 1000 / hz;
  let maeS = 0;
  let maeM = 0;
  let measured = 0;
  let suppressed = 0;
  for (let t = period; t <= o.durationMs; t += period) {
    for (const p of people) {
      while (p.next < t) {
        if (rng.next() < 0.5) {
          p.v = clamp(rng.next() * 2 - 1);
          p.a = clamp(rng.next() * 2 - 1);
        } else {
          p.v = clamp(p.v + 0.15 * gauss(rng));
          p.a = clamp(p.a + 0.15 * gauss(rng));
        }
        p.seq++;
        state = step(state, { kind: 'input', at: p.next, conn: 0, participantId: p.id, seq: p.seq, affect: { valence: p.v, arousal: p.a, confidence: 1, source: 'tap', at: p.next }, exposed: true }).state;
        if (p.next >= o.warmupMs) taps.push({ at: p.next, cell: state.pulse.grid.pointOf(p.v, p.a).cell, viewIndex: views.length });
        p.next += Math.max(1500, -Math.log(1 - rng.next()) * o.tapMeanMs);
      }
    }
    const r = step(state, { kind: 'tick', at: t, participant: true });
    state = r.state;
    const fx = r.effects.find((e) => e.type === 'publish');
    if (fx?.type !== 'publish') continue;
    const v = fx.view;
    views.push(v);
    if (t < o.warmupMs) continue;
    const exact = state.pulse.grid.moments();
    if (v.suppressed || !v.quadrants || !v.mean || !exact.quadrants || !exact.mean) {
      suppressed++;
      continue;
    }
    measured++;
    for (let q = 0; q < 4; q++) maeS += Math.abs((v.quadrants[q] as number) - (exact.quadrants[q] as number)) / 4;
    maeM += (Math.abs(v.mean.valence - exact.mean.valence) + Math.abs(v.mean.arousal - exact.mean.arousal)) / 2;
  }
  // Which views differ from the one before (the attacker waits for the first that does).
  const same = (a: PulseView, b: PulseView) => a.count === b.count && a.suppressed === b.suppressed && JSON.stringify(a.hist) === JSON.stringify(b.hist) && a.mean?.valence === b.mean?.valence && a.mean?.arousal === b.mean?.arousal;
  let updates = 0;
  /** The distinct releases, in order: the index of each view that differs from the one before. */
  const distinct: number[] = views.length ? [0] : [];
  for (let i = 1; i < views.length; i++) {
    if (same(views[i] as PulseView, views[i - 1] as PulseView)) continue;
    updates++;
    distinct.push(i);
  }
  const WIDTHS = [2, 4, 8] as const;
  // Wins per (width, strategy): counts at 2w, coordinate sums at 2w + 1.
  const okA = new Array<number>(2 * WIDTHS.length).fill(0);
  let attacked = 0;
  let okQ = 0;
  let okC = 0;
  let okM = 0;
  let okP = 0;
  for (const tap of taps) {
    const before = views[tap.viewIndex - 1];
    if (!before) continue;
    let after: PulseView | undefined;
    for (let i = tap.viewIndex; i < views.length; i++) {
      const v = views[i] as PulseView;
      if (!same(v, before)) {
        after = v;
        break;
      }
    }
    if (!after || after.suppressed || before.suppressed || !after.hist || !before.hist || !after.mean || !before.mean) continue;
    attacked++;
    const truth = quadrantOf(tap.cell, bins);
    const dh = after.hist.map((c, i) => c - (before.hist?.[i] ?? 0));
    const qa = quadrantCounts(after.hist, bins);
    const dq = quadrantCounts(dh, bins);
    if (argmax(dq, qa) === truth) okQ++;
    if (argmax(dh, after.hist) === tap.cell) okC++;
    if (argmax(qa, [0, 0, 0, 0]) === truth) okP++;
    const dv = after.mean.valence * after.count - before.mean.valence * before.count;
    const da = after.mean.arousal * after.count - before.mean.arousal * before.count;
    const byMean = dv >= 0 ? (da >= 0 ? 0 : 1) : da >= 0 ? 3 : 2;
    if (byMean === truth) okM++;
    // The averaging attacker: the first distinct release at or after the tap, and its neighbours.
    let at = lowerBound(distinct, tap.viewIndex);
    while (at < distinct.length && same(views[distinct[at] as number] as PulseView, before)) at++;
    WIDTHS.forEach((w, wi) => {
      const pre = averaged(views, distinct.slice(Math.max(0, at - w), at));
      const post = averaged(views, distinct.slice(at, at + w));
      if (!pre || !post) return;
      const q = argmax(quadrantCounts(post.hist.map((c, i) => c - (pre.hist[i] ?? 0)), bins), quadrantCounts(post.hist, bins));
      const mv = post.sv - pre.sv;
      const ma = post.sa - pre.sa;
      const m = mv >= 0 ? (ma >= 0 ? 0 : 1) : ma >= 0 ? 3 : 2;
      if (q === truth) okA[2 * wi] = (okA[2 * wi] as number) + 1;
      if (m === truth) okA[2 * wi + 1] = (okA[2 * wi + 1] as number) + 1;
    });
  }
  const n = Math.max(1, attacked);
  const released = Math.max(1, measured);
  return {
    trials: taps.length,
    attacked,
    quadrant: okQ / n,
    cell: okC / n,
    quadrantByMean: okM / n,
    quadrantAveraged: Math.max(...okA) / n,
    prior: okP / n,
    maeShares: maeS / released,
    maeMean: maeM / released,
    updatesPerSecond: updates / (o.durationMs / 1000),
    suppressedShare: suppressed / Math.max(1, suppressed + measured),
  };
}
