/**
 * The phone's side of sharing a heart signal: Heart Rate Measurements in, at most one derived
 * point out every two seconds. Raw beats never leave this object — what it emits is the
 * participant's own valence (their last tap or sentence), the arousal read from their heart
 * against their own baseline, its confidence, and the mean heart rate of the period (for the
 * room's synchrony, `src/core/collective/heartSynchrony.ts`).
 *
 * ```
 *   frame(m, now) ─► contact? ─► RR window (rejection, RMSSD) ─┐
 *                        └────► period's plausible bpm ────────┤
 *   tick(now): every periodMs ─► reading {hr, rmssd} ─► baseline (first minutes) ─► arousal, confidence
 *                                   └─ valence said? ≥ minIntervalMs since the last? ─► input
 * ```
 *
 * States shown to the person (`HeartReading.status`): `waiting` (no beat yet), `no-contact`
 * (the strap says it lost the skin), `stale` (no frame for `staleMs`: out of range or asleep),
 * `baseline` (learning your usual; arousal not given yet), `ready`.
 *
 * Pure: `now` is an argument, no timers, no I/O; runs in the browser and in the simulator.
 */
import { type Baseline, type BaselineOptions, addToBaseline, baselineFill, emptyBaseline, type HeartArousal, heartArousal } from './heartArousal.ts';
import { type HeartRateMeasurement, isPlausibleBpm, type SensorContact } from './heartRateMeasurement.ts';
import { RrWindow, type RrWindowOptions } from './rrWindow.ts';

/** Settings of a session. */
export interface HeartSessionOptions extends BaselineOptions {
  /** Length of one reading, ms (default 2 000). */
  readonly periodMs?: number;
  /** Least time between two inputs sent, ms (default 2 000; the "at most one per 2 s"). */
  readonly minIntervalMs?: number;
  /** No frame for this long → stale, ms (default 5 000). */
  readonly staleMs?: number;
  readonly rr?: RrWindowOptions;
}

/** What the person sees about their heart signal. */
export interface HeartReading {
  readonly status: 'waiting' | 'no-contact' | 'stale' | 'baseline' | 'ready';
  /** Heart rate of the last reading, bpm. */
  readonly bpm: number | null;
  /** RMSSD over the rolling window, ms (null without RR intervals or before enough beats). */
  readonly rmssdMs: number | null;
  /** Share of the baseline filled, 0…1. */
  readonly baselineFill: number;
  readonly arousal: HeartArousal | null;
  /** The valence the person gave, and when (null until they tap or write). */
  readonly valence: number | null;
  readonly valenceAt: number | null;
  readonly contact: SensorContact | null;
  /** Share of recent RR intervals accepted by the artefact filter (1 without RR). */
  readonly quality: number;
  readonly rejected: number;
}

/** The point a heart-sharing phone sends (the client adds `t` and `seq`). */
export interface HeartInput {
  readonly valence: number;
  readonly arousal: number;
  readonly confidence: number;
  readonly source: 'heart';
  readonly heart: { readonly bpm: number };
}

/** One tick's answer: what to show, and the input to send now, if any. */
export interface HeartTick {
  readonly reading: HeartReading;
  readonly input: HeartInput | null;
}

const round = (x: number, step: number): number => Math.round(x / step) * step;

/** One person's heart signal, from the first frame until they stop sharing. */
export class HeartSession {
  readonly #periodMs: number;
  readonly #minIntervalMs: number;
  readonly #staleMs: number;
  readonly #rr: RrWindow;
  #baseline: Baseline;
  #periodStart: number | null = null;
  #bpmSum = 0;
  #bpmN = 0;
  #lastFrameAt: number | null = null;
  #contact: SensorContact | null = null;
  #lastBpm: number | null = null;
  #arousal: HeartArousal | null = null;
  #valence: number | null = null;
  #valenceAt: number | null = null;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #quality = 1;
  #seenRr = false;
  #counts = { accepted: 0, rejected: 0 };

  constructor(o: HeartSessionOptions = {}) {
    this.#periodMs = o.periodMs ?? 2_000;
    this.#minIntervalMs = o.minIntervalMs ?? 2_000;
    this.#staleMs = o.staleMs ?? 5_000;
    this.#rr = new RrWindow(o.rr);
    this.#baseline = emptyBaseline(o);
  }

  /** One Heart Rate Measurement from the strap, received at `now`. */
  frame(m: HeartRateMeasurement, now: number): void {
    this.#lastFrameAt = now;
    this.#contact = m.contact;
    if (this.#periodStart === null) this.#periodStart = now;
    if (m.contact === 'lost') {
      this.#rr.breakChain(); // beats across a loss of contact are not successive
      return;
    }
    if (m.rrMs.length > 0) {
      this.#seenRr = true;
      this.#rr.addFrame(m.rrMs, now);
    }
    if (isPlausibleBpm(m.bpm)) {
      this.#bpmSum += m.bpm;
      this.#bpmN++;
    }
  }

  /** The person said how pleasant it feels (a tap or a sentence's valence), at `now`. */
  said(valence: number, now: number): void {
    if (!Number.isFinite(valence)) return;
    this.#valence = Math.max(-1, Math.min(1, valence));
    this.#valenceAt = now;
  }

  /** The strap disconnected: beats after the reconnection do not difference with those before. */
  disconnected(): void {
    this.#rr.breakChain();
    this.#contact = null;
  }

  /** Advances to `now`: closes a reading when a period has passed, and says whether to send. */
  tick(now: number): HeartTick {
    this.#rr.advance(now);
    const stale = this.#lastFrameAt === null || now - this.#lastFrameAt > this.#staleMs;
    if (this.#periodStart !== null && now - this.#periodStart >= this.#periodMs) this.#closePeriod(now, stale);
    const reading = this.reading(now);
    let input: HeartInput | null = null;
    if (reading.status === 'ready' && this.#arousal && this.#valence !== null && now - this.#lastSentAt >= this.#minIntervalMs && this.#lastBpm !== null) {
      this.#lastSentAt = now;
      input = { valence: round(this.#valence, 1e-4), arousal: round(this.#arousal.arousal, 1e-3), confidence: round(this.#arousal.confidence, 1e-3), source: 'heart', heart: { bpm: round(this.#lastBpm, 0.1) } };
    }
    return { reading, input };
  }

  #closePeriod(now: number, stale: boolean): void {
    const dt = now - (this.#periodStart as number);
    this.#periodStart = now;
    const counts = this.#rr.counts;
    const acc = counts.accepted - this.#counts.accepted;
    const rej = counts.rejected - this.#counts.rejected;
    this.#counts = counts;
    if (acc + rej > 0) this.#quality = 0.8 * this.#quality + 0.2 * (acc / (acc + rej));
    const hr = this.#bpmN > 0 ? this.#bpmSum / this.#bpmN : null;
    this.#bpmSum = 0;
    this.#bpmN = 0;
    if (hr === null || stale || this.#contact === 'lost') {
      this.#lastBpm = null;
      this.#arousal = null;
      return;
    }
    this.#lastBpm = hr;
    const rmssd = this.#rr.rmssd();
    this.#baseline = addToBaseline(this.#baseline, hr, rmssd, dt);
    this.#arousal = heartArousal(this.#baseline, hr, rmssd, this.#seenRr ? this.#quality : 1);
  }

  /** What to show now. */
  reading(now: number): HeartReading {
    const stale = this.#lastFrameAt === null || now - this.#lastFrameAt > this.#staleMs;
    const status: HeartReading['status'] = this.#lastFrameAt === null ? 'waiting' : stale ? 'stale' : this.#contact === 'lost' ? 'no-contact' : this.#arousal ? 'ready' : 'baseline';
    return {
      status,
      bpm: status === 'stale' || status === 'no-contact' ? null : this.#lastBpm,
      rmssdMs: this.#rr.rmssd(),
      baselineFill: baselineFill(this.#baseline),
      arousal: status === 'ready' ? this.#arousal : null,
      valence: this.#valence,
      valenceAt: this.#valenceAt,
      contact: this.#contact,
      quality: this.#seenRr ? this.#quality : 1,
      rejected: this.#rr.counts.rejected,
    };
  }
}
