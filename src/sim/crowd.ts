/**
 * A seeded simulated crowd: N participants on a social graph whose feelings follow a scripted
 * scenario (scenarios.ts), driven by SISa contagion (sisa.ts) in the calm and surge phases,
 * Deffuant bounded-confidence dynamics (boundedConfidence.ts) in the split phase and a
 * per-person recovery in the healing phase. It produces taps, like phones would, and knows its
 * ground truth: the change points of the script and the number of camps over time.
 *
 * Latent centres in the valence × arousal plane:
 *   C calm (0.30, −0.25) — everyone's resting state, and where healing leads;
 *   A anxious (−0.50, 0.55) — SISa-infected people, and one pole of the split;
 *   B relieved (0.50, −0.50) — the other pole of the split. An opinion x ∈ [0, 1] places a
 *     person on the segment A → B during the split.
 * A tap = latent centre + a personal offset (sd 0.10, fixed per person) + a social shift s +
 * tap noise (sd 0.06). The social shift is the contagion the contagion index should recover,
 * a Friedkin–Johnsen-style anchored influence (N. E. Friedkin and E. C. Johnsen, "Social
 * influence and opinions", J. Math. Sociology 15, 1990): at each tap of a "watcher" who sees
 * the pulse, s ← (1 − γ)·s + pull·(shown − own position), and for everyone else s ← (1 − γ)·s,
 * γ = 0.2 anchoring people to their own feeling. Taps come every max(1.5 s, Exp(mean 5 s)).
 *
 * Other splits (`phase.poles`) send each person to one of 2–3 poles (chosen uniformly), where a
 * personal lean (sd 0.08) fades at 0.02/s — camps that tighten, as bounded confidence does. A
 * drift (`phase.target`) moves everyone's resting feeling from C to the target along a
 * raised-cosine path over `phase.spanMs`: a trend, not a change.
 *
 * Ground-truth camps: single-linkage clusters, at distance 0.35, of the latent centres people
 * were in *when they last tapped* — the room as it has told the server, since a feeling nobody
 * has expressed yet cannot be shown — counting clusters of ≥ 5 people that hold ≥ 10 % of the
 * crowd to appear and ≥ 6 % to persist (the camp tracker's rule, camps.ts).
 */
import { createRng, type Rng } from '../core/collective/prng.ts';
import { deffuantStep } from './boundedConfidence.ts';
import { adjacencyOf, type GraphKind, socialGraph } from './graphs.ts';
import { type Phase, type PhaseName, phaseAt, type PlanePoint, type ScenarioName, scriptFor } from './scenarios.ts';
import { type SisaRates, stepSisa } from './sisa.ts';

/** A point in the plane. */
export interface Point {
  readonly valence: number;
  readonly arousal: number;
}

/** Latent centres (module header). */
export const CENTRES = {
  calm: { valence: 0.3, arousal: -0.25 },
  anxious: { valence: -0.5, arousal: 0.55 },
  relieved: { valence: 0.5, arousal: -0.5 },
} as const satisfies Record<string, Point>;

/** SISa rates per phase (per second). */
export const SISA_RATES: Record<'calm' | 'surge', SisaRates> = {
  calm: { a: 0.0004, beta: 0.001, g: 0.05 },
  surge: { a: 0.01, beta: 0.08, g: 0.004 },
};

/** Deffuant parameters of the split phase. */
export const DEFFUANT = { epsilon: 0.3, mu: 0.3, pairsPerPersonPerSecond: 0.5 } as const;

/** γ: how strongly people return to their own feeling between taps (social shift decay per tap). */
export const ANCHOR = 0.2;

/** Healing: per-person rate (per second) of returning to calm. */
export const HEALING_RATE = 0.05;

/** Settings of a crowd. */
export interface CrowdOptions {
  readonly seed: number | string;
  readonly participants: number;
  readonly durationMs: number;
  readonly scenario: ScenarioName;
  /** Social graph; default alternates with the seed. */
  readonly graph?: GraphKind;
  /** Mean time between a person's taps (ms, default 5 000). */
  readonly meanRetapMs?: number;
  /** Share of people who watch the pulse (default 0.5). */
  readonly watcherShare?: number;
  /** How far a watcher's tap is pulled toward the pulse shown, in [0, 1] (default 0.15). */
  readonly pull?: number;
  /**
   * Share of people the script reaches (default 1): only they can catch the surge or lean to the
   * anxious pole at the split; the rest stay calm/relieved. Below 1 the changes are subtler.
   */
  readonly reach?: number;
}

/** One tap, as a phone would send it. */
export interface Tap {
  /** Participant index 0 … N−1. */
  readonly participant: number;
  /** ms since the crowd started. */
  readonly at: number;
  readonly valence: number;
  readonly arousal: number;
  /** Whether this person was looking at the pulse (the protocol's `seen`). */
  readonly seen: boolean;
  /** The pulse mean they were shown (null when not watching or none yet). */
  readonly shown: Point | null;
}

/** A sample of the ground truth. */
export interface TruthSample {
  readonly atMs: number;
  readonly phase: PhaseName;
  readonly camps: number;
  /** Share of people in the anxious (SISa-infected) state. */
  readonly anxious: number;
}

/** A scripted slow drift: a trend the detector should report as such, not as a change. */
export interface TruthTrend {
  readonly startMs: number;
  readonly endMs: number;
  readonly from: Point;
  readonly to: Point;
}

/** Everything known about a run, for `--out truth.json` and the benchmark. */
export interface GroundTruth {
  readonly version: 1;
  readonly seed: number | string;
  readonly scenario: ScenarioName;
  readonly participants: number;
  readonly durationMs: number;
  readonly graph: GraphKind;
  /** Epoch ms at which the run started, when run against a server (else null). */
  readonly startedAt: number | null;
  /** Scripted change points (phase starts after 0, drifts excluded), ms since start. */
  readonly changePoints: readonly { readonly atMs: number; readonly phase: PhaseName }[];
  /** Scripted slow drifts (not change points). */
  readonly trends: readonly TruthTrend[];
  readonly phases: readonly Phase[];
  /** Camp counts (and anxious share) sampled over time. */
  readonly samples: readonly TruthSample[];
  /** The models and their parameters. */
  readonly models: {
    readonly sisa: typeof SISA_RATES;
    readonly deffuant: typeof DEFFUANT;
    readonly healingRate: number;
    readonly centres: typeof CENTRES;
    readonly pull: number;
    readonly watcherShare: number;
    readonly meanRetapMs: number;
    readonly reach: number;
  };
}

const clampUnit = (v: number): number => (v < -1 ? -1 : v > 1 ? 1 : v);

/** The simulated crowd. Advance it with {@link Crowd.step}; time is passed in. */
export class Crowd {
  readonly options: Required<CrowdOptions>;
  readonly phases: readonly Phase[];
  readonly adjacency: readonly (readonly number[])[];
  private readonly rng: Rng;
  private readonly n: number;
  private readonly infected: Uint8Array;
  private readonly opinion: Float64Array;
  private readonly healed: Uint8Array;
  private readonly frozenV: Float64Array;
  private readonly frozenA: Float64Array;
  private readonly offV: Float64Array;
  private readonly offA: Float64Array;
  private readonly watcher: Uint8Array;
  /** 1 = reached by the script; 0 = frozen out of the surge and the anxious side of the split. */
  private readonly engaged: Uint8Array;
  private readonly unengaged: Uint8Array;
  private readonly socV: Float64Array;
  private readonly socA: Float64Array;
  private readonly nextTap: Float64Array;
  /** Pole index per person (splits with explicit poles) and a personal lean that fades. */
  private readonly pole: Uint8Array;
  private readonly leanV: Float64Array;
  private readonly leanA: Float64Array;
  /** The latent centre at each person's last tap (ground-truth camps). */
  private readonly tappedV: Float64Array;
  private readonly tappedA: Float64Array;
  private readonly countedCamps: Point[] = [];
  private lastT = 0;
  private phase: PhaseName = 'calm';
  private current: Phase = { name: 'calm', startMs: 0 };
  private rest: Point = CENTRES.calm;
  private readonly samples: TruthSample[] = [];

  constructor(options: CrowdOptions) {
    if (!Number.isInteger(options.participants) || options.participants < 3) throw new RangeError('participants must be an integer ≥ 3');
    if (!(options.durationMs > 0)) throw new RangeError('durationMs must be positive');
    const rng = createRng(`crowd:${options.seed}`);
    this.rng = rng;
    const coin = rng.next();
    this.options = {
      seed: options.seed,
      participants: options.participants,
      durationMs: options.durationMs,
      scenario: options.scenario,
      graph: options.graph ?? (coin < 0.5 ? 'watts-strogatz' : 'barabasi-albert'),
      meanRetapMs: options.meanRetapMs ?? 5_000,
      watcherShare: options.watcherShare ?? 0.5,
      pull: options.pull ?? 0.15,
      reach: options.reach ?? 1,
    };
    const n = options.participants;
    this.n = n;
    this.phases = scriptFor(options.scenario, options.durationMs, rng);
    this.adjacency = adjacencyOf(socialGraph(this.options.graph, n, rng));
    this.infected = new Uint8Array(n);
    this.opinion = new Float64Array(n);
    this.healed = new Uint8Array(n);
    this.frozenV = new Float64Array(n);
    this.frozenA = new Float64Array(n);
    this.offV = new Float64Array(n);
    this.offA = new Float64Array(n);
    this.watcher = new Uint8Array(n);
    this.socV = new Float64Array(n);
    this.socA = new Float64Array(n);
    this.nextTap = new Float64Array(n);
    this.pole = new Uint8Array(n);
    this.leanV = new Float64Array(n);
    this.leanA = new Float64Array(n);
    this.tappedV = new Float64Array(n).fill(CENTRES.calm.valence);
    this.tappedA = new Float64Array(n).fill(CENTRES.calm.arousal);
    // A separate stream, so that reach = 1 leaves every other draw as it was.
    const reachRng = createRng(`reach:${options.seed}`);
    this.engaged = new Uint8Array(n);
    this.unengaged = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      this.engaged[i] = this.options.reach >= 1 || reachRng.next() < this.options.reach ? 1 : 0;
      this.unengaged[i] = 1 - (this.engaged[i] as number);
    }
    for (let i = 0; i < n; i++) {
      this.offV[i] = 0.1 * rng.normal();
      this.offA[i] = 0.1 * rng.normal();
      this.watcher[i] = rng.next() < this.options.watcherShare ? 1 : 0;
      this.nextTap[i] = 3_000 * rng.next();
    }
  }

  /** Number of participants. */
  get size(): number {
    return this.n;
  }

  /** The latent centre of person i now. */
  latent(i: number): Point {
    switch (this.phase) {
      case 'calm':
      case 'surge':
      case 'drift':
        return this.infected[i] ? CENTRES.anxious : this.rest;
      case 'split': {
        const poles = this.current.poles;
        if (poles) {
          const p = poles[this.pole[i] as number] as PlanePoint;
          return { valence: p.valence + (this.leanV[i] as number), arousal: p.arousal + (this.leanA[i] as number) };
        }
        const x = this.opinion[i] as number;
        const A = CENTRES.anxious;
        const B = CENTRES.relieved;
        return { valence: A.valence + x * (B.valence - A.valence), arousal: A.arousal + x * (B.arousal - A.arousal) };
      }
      case 'healing':
        return this.healed[i] ? CENTRES.calm : { valence: this.frozenV[i] as number, arousal: this.frozenA[i] as number };
    }
  }

  private enter(next: Phase): void {
    const rng = this.rng;
    const phase = next.name;
    if (phase === 'split' && next.poles) {
      const k = next.poles.length;
      for (let i = 0; i < this.n; i++) {
        this.pole[i] = this.engaged[i] ? Math.min(k - 1, Math.floor(rng.next() * k)) : k - 1;
        this.leanV[i] = 0.08 * rng.normal();
        this.leanA[i] = 0.08 * rng.normal();
      }
    } else if (phase === 'split') {
      // The script splits the room: each person leans to one pole; bounded confidence then
      // holds the camps apart (their gap ≫ ε) and tightens each.
      for (let i = 0; i < this.n; i++) {
        const lean = rng.next() < 0.5 ? 0.1 : 0.9;
        const base = this.engaged[i] ? lean : 0.9;
        this.opinion[i] = Math.max(0, Math.min(1, base + 0.08 * rng.normal()));
      }
    }
    if (phase === 'healing') {
      for (let i = 0; i < this.n; i++) {
        const p = this.latent(i);
        this.frozenV[i] = p.valence;
        this.frozenA[i] = p.arousal;
        this.healed[i] = 0;
      }
    }
    this.phase = phase;
    this.current = next;
  }

  /** The resting feeling at `t`: C, or on the raised-cosine path of a drift. */
  private restAt(t: number): Point {
    const p = this.current;
    if (p.name !== 'drift' || !p.target) return this.rest;
    const u = Math.min(1, Math.max(0, (t - p.startMs) / (p.spanMs ?? 1)));
    const w = (1 - Math.cos(Math.PI * u)) / 2;
    const C = CENTRES.calm;
    return { valence: C.valence + w * (p.target.valence - C.valence), arousal: C.arousal + w * (p.target.arousal - C.arousal) };
  }

  /**
   * Advances the crowd to `t` ms since the start and returns the taps made in (last, t].
   * `shown` is the pulse mean the room's screens show now (null if none yet).
   */
  step(t: number, shown: Point | null): Tap[] {
    const dt = Math.max(0, t - this.lastT) / 1000;
    const next = phaseAt(this.phases, t);
    const ph = next.name;
    if (next !== this.current) this.enter(next);
    this.rest = this.restAt(t);
    const rng = this.rng;
    if (dt > 0) {
      if (ph === 'calm' || ph === 'surge' || ph === 'drift') stepSisa(this.infected, this.adjacency, SISA_RATES[ph === 'surge' ? 'surge' : 'calm'], dt, rng, ph === 'surge' && this.options.reach < 1 ? this.unengaged : undefined);
      else if (ph === 'split' && this.current.poles) {
        const fade = Math.exp(-0.02 * dt);
        for (let i = 0; i < this.n; i++) {
          this.leanV[i] = (this.leanV[i] as number) * fade;
          this.leanA[i] = (this.leanA[i] as number) * fade;
        }
      } else if (ph === 'split') deffuantStep(this.opinion, this.adjacency, DEFFUANT.epsilon, DEFFUANT.mu, Math.round(DEFFUANT.pairsPerPersonPerSecond * this.n * dt), rng);
      else {
        const p = 1 - Math.exp(-HEALING_RATE * dt);
        for (let i = 0; i < this.n; i++) if (!this.healed[i] && rng.next() < p) this.healed[i] = 1;
      }
    }
    this.lastT = Math.max(this.lastT, t);
    const taps: Tap[] = [];
    const pull = this.options.pull;
    for (let i = 0; i < this.n; i++) {
      if ((this.nextTap[i] as number) > t) continue;
      const c = this.latent(i);
      this.tappedV[i] = c.valence;
      this.tappedA[i] = c.arousal;
      const seen = this.watcher[i] === 1 && shown !== null;
      const ownV = c.valence + (this.offV[i] as number) + (this.socV[i] as number);
      const ownA = c.arousal + (this.offA[i] as number) + (this.socA[i] as number);
      this.socV[i] = (1 - ANCHOR) * (this.socV[i] as number) + (seen && shown ? pull * (shown.valence - ownV) : 0);
      this.socA[i] = (1 - ANCHOR) * (this.socA[i] as number) + (seen && shown ? pull * (shown.arousal - ownA) : 0);
      const v = c.valence + (this.offV[i] as number) + (this.socV[i] as number) + 0.06 * rng.normal();
      const a = c.arousal + (this.offA[i] as number) + (this.socA[i] as number) + 0.06 * rng.normal();
      taps.push({ participant: i, at: t, valence: clampUnit(v), arousal: clampUnit(a), seen, shown: seen ? shown : null });
      this.nextTap[i] = t + Math.max(1_500, -this.options.meanRetapMs * Math.log(1 - rng.next()));
    }
    return taps;
  }

  /** The number of camps in the room as told (module header), recorded as a sample. */
  sampleTruth(t: number): TruthSample {
    const n = this.n;
    const pts: Point[] = [];
    for (let i = 0; i < n; i++) pts.push({ valence: this.tappedV[i] as number, arousal: this.tappedA[i] as number });
    // Single linkage by union–find over pairs closer than 0.35.
    const parent = Array.from({ length: n }, (_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i] as number] as number;
        i = parent[i] as number;
      }
      return i;
    };
    // Identical centres are the common case: bucket them first to keep this cheap.
    const buckets = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const p = pts[i] as Point;
      const key = `${p.valence.toFixed(4)},${p.arousal.toFixed(4)}`;
      const b = buckets.get(key);
      if (b === undefined) buckets.set(key, i);
      else parent[find(i)] = find(b);
    }
    const reps = [...buckets.values()];
    for (let x = 0; x < reps.length; x++) {
      for (let y = x + 1; y < reps.length; y++) {
        const p = pts[reps[x] as number] as Point;
        const q = pts[reps[y] as number] as Point;
        if (Math.hypot(p.valence - q.valence, p.arousal - q.arousal) < 0.35) parent[find(reps[x] as number)] = find(reps[y] as number);
      }
    }
    const sizes = new Map<number, { n: number; v: number; a: number }>();
    for (let i = 0; i < n; i++) {
      const r = find(i);
      const c = sizes.get(r) ?? { n: 0, v: 0, a: 0 };
      c.n++;
      c.v += (pts[i] as Point).valence;
      c.a += (pts[i] as Point).arousal;
      sizes.set(r, c);
    }
    // Hysteresis as in camps.ts: ≥ 10 % to appear, ≥ 6 % to stay (a cluster stays when it lies
    // within 0.35 of a camp counted at the previous sample), and ≥ 5 people always.
    const enter = Math.max(5, 0.1 * n);
    const stay = Math.max(5, 0.06 * n);
    const counted: Point[] = [];
    for (const c of sizes.values()) {
      const centre = { valence: c.v / c.n, arousal: c.a / c.n };
      const wasCounted = this.countedCamps.some((p) => Math.hypot(p.valence - centre.valence, p.arousal - centre.arousal) < 0.35);
      if (c.n >= enter - 1e-9 || (wasCounted && c.n >= stay - 1e-9)) counted.push(centre);
    }
    this.countedCamps.length = 0;
    this.countedCamps.push(...counted);
    const camps = counted.length;
    let anxious = 0;
    for (let i = 0; i < n; i++) anxious += this.infected[i] as number;
    const sample: TruthSample = { atMs: t, phase: this.phase, camps: Math.max(1, camps), anxious: anxious / n };
    this.samples.push(sample);
    return sample;
  }

  /** The ground truth so far. */
  groundTruth(startedAt: number | null = null): GroundTruth {
    return {
      version: 1,
      seed: this.options.seed,
      scenario: this.options.scenario,
      participants: this.n,
      durationMs: this.options.durationMs,
      graph: this.options.graph,
      startedAt,
      changePoints: this.phases
        .slice(1)
        .filter((p) => p.name !== 'drift')
        .map((p) => ({ atMs: p.startMs, phase: p.name })),
      trends: this.phases
        .filter((p) => p.name === 'drift' && p.target)
        .map((p) => ({ startMs: p.startMs, endMs: p.startMs + (p.spanMs ?? 0), from: CENTRES.calm, to: p.target as Point })),
      phases: this.phases,
      samples: this.samples.slice(),
      models: {
        sisa: SISA_RATES,
        deffuant: DEFFUANT,
        healingRate: HEALING_RATE,
        centres: CENTRES,
        pull: this.options.pull,
        watcherShare: this.options.watcherShare,
        meanRetapMs: this.options.meanRetapMs,
        reach: this.options.reach,
      },
    };
  }
}
