/**
 * Heart-rate straps for a share of a simulated crowd (`attune simulate --heart 0.3`): each
 * wearer has a simulated heart (heart.ts) driven by the arousal of what they last felt (their
 * taps follow the scenario), a strap that notifies one Heart Rate Measurement a second — the
 * real 0x2A37 bytes, encoded and parsed again — and the phone's own pipeline
 * (src/analyze/heart/heartSession.ts) that turns the frames into at most one input per 2 s.
 * So the simulator exercises exactly the path a phone takes, and the server sees only what a
 * phone would send.
 *
 * A room-wide drive (`sync`, 0…1) moves every wearer's heart together — the shared moments of
 * a performance — so the room's heart synchrony can be tested end to end: sync 0 gives
 * independent hearts, sync 1 a shared drive of 5 bpm sd beside each person's own 2 bpm drift.
 */
import { createRng, type Rng } from '../core/collective/prng.ts';
import { encodeHeartRateMeasurement, parseHeartRateMeasurement, rrUnitsOfMs } from '../analyze/heart/heartRateMeasurement.ts';
import { type HeartInput, HeartSession, type HeartSessionOptions } from '../analyze/heart/heartSession.ts';
import type { Tap } from './crowd.ts';
import { drawHeartTraits, OrnsteinUhlenbeck, SimulatedHeart } from './heart.ts';

/** Settings. */
export interface HeartCrowdOptions {
  readonly seed: number | string;
  readonly participants: number;
  /** Share of people wearing a strap, 0…1. */
  readonly share: number;
  /** Strength of the room's shared drive, 0…1 (default 0.5). */
  readonly sync?: number;
  /** Strap notification interval, ms (default 1 000). */
  readonly frameMs?: number;
  /** The phones' pipeline settings (tests shorten the baseline). */
  readonly session?: HeartSessionOptions;
}

/** An input a wearer's phone sends now. */
export interface HeartSend {
  readonly participant: number;
  readonly input: HeartInput;
}

/** Most RR intervals in one notification (a 23-byte ATT payload with uint8 bpm holds 9). */
const MAX_RR_PER_FRAME = 9;

interface Wearer {
  readonly participant: number;
  readonly heart: SimulatedHeart;
  readonly session: HeartSession;
  felt: number;
  pending: number[];
  nextFrame: number;
}

/** The straps of a crowd (module header). */
export class HeartCrowd {
  readonly wearers: readonly number[];
  readonly #w: Wearer[];
  readonly #byParticipant = new Map<number, Wearer>();
  readonly #shared: OrnsteinUhlenbeck;
  readonly #frameMs: number;
  #frames = 0;
  #beats = 0;

  constructor(o: HeartCrowdOptions) {
    const rng: Rng = createRng(`heart:${o.seed}`);
    const share = Math.max(0, Math.min(1, o.share));
    const count = Math.round(share * o.participants);
    // Wearers: a seeded sample of the crowd.
    const idx = Array.from({ length: o.participants }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + rng.int(o.participants - i);
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    this.wearers = idx.slice(0, count).sort((a, b) => a - b);
    this.#frameMs = o.frameMs ?? 1_000;
    this.#shared = new OrnsteinUhlenbeck(5 * Math.max(0, Math.min(1, o.sync ?? 0.5)), 12_000, createRng(`heart-room:${o.seed}`));
    this.#w = this.wearers.map((participant) => {
      const own = createRng(`heart:${o.seed}:${participant}`);
      const w: Wearer = { participant, heart: new SimulatedHeart(drawHeartTraits(own), own), session: new HeartSession(o.session), felt: 0, pending: [], nextFrame: Math.floor(own.next() * this.#frameMs) };
      this.#byParticipant.set(participant, w);
      return w;
    });
  }

  /** Beats simulated and notifications sent so far. */
  get stats(): { readonly beats: number; readonly frames: number } {
    return { beats: this.#beats, frames: this.#frames };
  }

  /** A participant tapped: a wearer's heart follows the arousal they felt; their phone keeps the valence. */
  tapped(tap: Tap): void {
    const w = this.#byParticipant.get(tap.participant);
    if (!w) return;
    w.felt = tap.arousal;
    w.session.said(tap.valence, tap.at);
  }

  /** The lagged arousal driving a wearer's heart (for tests and the ground truth). */
  heartArousalOf(participant: number): number | null {
    return this.#byParticipant.get(participant)?.heart.arousal ?? null;
  }

  /** Advances every strap to `t` (ms since start); returns the inputs the phones send now. */
  step(t: number): HeartSend[] {
    const shared = this.#shared.at(t);
    const out: HeartSend[] = [];
    for (const w of this.#w) {
      const rr = w.heart.advance(t, w.felt, shared);
      this.#beats += rr.length;
      w.pending.push(...rr);
      while (w.nextFrame <= t) {
        const recent = w.pending.slice(-4);
        const bpm = recent.length ? 60_000 / (recent.reduce((a, b) => a + b, 0) / recent.length) : w.heart.rateAt(w.nextFrame, shared);
        const frame = encodeHeartRateMeasurement({ bpm, contact: 'detected', rrRaw: w.pending.slice(-MAX_RR_PER_FRAME).map(rrUnitsOfMs) });
        w.pending = [];
        const m = parseHeartRateMeasurement(frame);
        if (m.ok) w.session.frame(m.value, w.nextFrame);
        this.#frames++;
        w.nextFrame += this.#frameMs;
      }
      const { input } = w.session.tick(t);
      if (input) out.push({ participant: w.participant, input });
    }
    return out;
  }
}
