/**
 * Simulated hearts: beat-to-beat (RR) series with realistic variability whose rate follows a
 * person's arousal, and a room-wide drive that makes hearts move together.
 *
 * Model — integral pulse frequency modulation (IPFM: a beat fires each time the integral of
 * the instantaneous rate crosses one; Bayly, "Spectral analysis of pulse frequency modulation in
 * the nervous systems", IEEE Trans. Biomed. Eng. 15(4):257–265, 1968; Mateo & Laguna, IEEE
 * TBME 47(8):985–996, 2000) with the rate, in bpm,
 *
 *   m(t) = rest + gain·a(t) + shared(t) + RSA·v(a)·sin(2π f_resp t) + Mayer·sin(2π 0.1 t + φ) + n(t)
 *
 * - rest ~ N(70, 7²) clipped to 52–92 bpm; gain ~ U(12, 22) bpm per unit of arousal a ∈ [−1, 1]
 *   (a(t) follows the person's felt arousal through a first-order lag of 8 s: hearts do not jump);
 * - respiratory sinus arrhythmia at f_resp ~ U(0.2, 0.3) Hz, amplitude RSA ~ U(3, 6) bpm scaled by
 *   a vagal factor v(a) = clamp(1 − 0.6·a, 0.25, 1.6), so RMSSD falls as arousal rises (Kreibig
 *   2010; see src/analyze/heart/heartArousal.ts);
 * - the 0.1 Hz Mayer wave (baroreflex), amplitude ~ U(1, 2.5) bpm, random phase — the LF and HF
 *   peaks of a resting tachogram (McSharry et al., "A dynamical model for generating synthetic
 *   electrocardiogram signals", IEEE TBME 50(3):289–294, 2003, whose RR model has the same two
 *   spectral peaks);
 * - n(t): an Ornstein–Uhlenbeck process, sd 2 bpm, τ 15 s — each person's own slow drift;
 * - shared(t): the room's drive (music, a moment on stage), an OU process common to everyone,
 *   sd `syncBpm`, τ 12 s. With syncBpm = 0 hearts are independent.
 * - Ectopic beats with probability 0.3 % per beat: a premature beat at 0.6·RR and its
 *   compensatory pause at 1.4·RR — the artefacts the phone's filter must reject.
 *
 * Seeded; `t` is ms since the simulation started, supplied by the caller.
 */
import type { Rng } from '../core/collective/prng.ts';

/** A person's heart. */
export interface HeartTraits {
  readonly restBpm: number;
  readonly gainBpm: number;
  readonly rsaBpm: number;
  readonly respHz: number;
  readonly mayerBpm: number;
  readonly mayerPhase: number;
  readonly noiseBpm: number;
  readonly ectopicRate: number;
}

/** Draws one person's traits. */
export function drawHeartTraits(rng: Rng): HeartTraits {
  return {
    restBpm: Math.max(52, Math.min(92, 70 + 7 * rng.normal())),
    gainBpm: 12 + 10 * rng.next(),
    rsaBpm: 3 + 3 * rng.next(),
    respHz: 0.2 + 0.1 * rng.next(),
    mayerBpm: 1 + 1.5 * rng.next(),
    mayerPhase: 2 * Math.PI * rng.next(),
    noiseBpm: 2,
    ectopicRate: 0.003,
  };
}

/** Integration step, ms. */
const DT = 50;

/** An Ornstein–Uhlenbeck process with stationary sd `sd` and time constant `tauMs`, stepped exactly. */
export class OrnsteinUhlenbeck {
  #x: number;
  readonly #sd: number;
  readonly #tau: number;
  readonly #rng: Rng;
  #t: number;

  constructor(sd: number, tauMs: number, rng: Rng, t0 = 0) {
    this.#sd = sd;
    this.#tau = tauMs;
    this.#rng = rng;
    this.#x = sd * rng.normal();
    this.#t = t0;
  }

  /** The value at `t` (t never decreases). */
  at(t: number): number {
    const dt = t - this.#t;
    if (dt > 0 && this.#sd > 0) {
      const a = Math.exp(-dt / this.#tau);
      this.#x = a * this.#x + this.#sd * Math.sqrt(1 - a * a) * this.#rng.normal();
    }
    if (dt > 0) this.#t = t;
    return this.#x;
  }
}

/** One simulated heart (module header). */
export class SimulatedHeart {
  readonly traits: HeartTraits;
  readonly #rng: Rng;
  readonly #noise: OrnsteinUhlenbeck;
  #t: number;
  #phase: number;
  #lastBeat: number;
  #a = 0;
  /** A compensatory pause owed after an ectopic beat. */
  #owed: number | null = null;

  constructor(traits: HeartTraits, rng: Rng, t0 = 0) {
    this.traits = traits;
    this.#rng = rng;
    this.#noise = new OrnsteinUhlenbeck(traits.noiseBpm, 15_000, rng, t0);
    this.#t = t0;
    this.#phase = rng.next();
    this.#lastBeat = t0 - this.#phase * (60_000 / traits.restBpm);
  }

  /** The lagged arousal driving the heart now. */
  get arousal(): number {
    return this.#a;
  }

  /** Instantaneous rate at `t`, bpm. */
  rateAt(t: number, shared: number): number {
    const h = this.traits;
    const v = Math.max(0.25, Math.min(1.6, 1 - 0.6 * this.#a));
    const s = t / 1000;
    const m = h.restBpm + h.gainBpm * this.#a + shared + h.rsaBpm * v * Math.sin(2 * Math.PI * h.respHz * s) + h.mayerBpm * Math.sin(2 * Math.PI * 0.1 * s + h.mayerPhase) + this.#noise.at(t);
    return Math.max(35, Math.min(200, m));
  }

  /**
   * Advances to `t` with the person's felt arousal `arousal` and the room's drive `shared` (bpm)
   * held over the step; returns the RR intervals (ms) of the beats that ended in (last, t].
   */
  advance(t: number, arousal: number, shared: number): number[] {
    const out: number[] = [];
    const target = Math.max(-1, Math.min(1, Number.isFinite(arousal) ? arousal : 0));
    while (this.#t + DT <= t) {
      const t1 = this.#t + DT;
      this.#a += (target - this.#a) * (1 - Math.exp(-DT / 8_000));
      const rate = this.rateAt(t1, shared);
      const dphi = (rate / 60_000) * DT;
      if (this.#phase + dphi >= 1) {
        const beatAt = this.#t + ((1 - this.#phase) / dphi) * DT;
        const rr = beatAt - this.#lastBeat;
        this.#lastBeat = beatAt;
        this.#phase = this.#phase + dphi - 1;
        if (this.#owed !== null) {
          out.push(this.#owed);
          this.#owed = null;
        } else if (this.#rng.next() < this.traits.ectopicRate) {
          out.push(0.6 * rr);
          this.#owed = 1.4 * rr;
        } else out.push(rr);
      } else this.#phase += dphi;
      this.#t = t1;
    }
    return out;
  }
}
