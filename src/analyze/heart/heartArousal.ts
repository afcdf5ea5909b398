/**
 * A personal baseline of heart rate and HRV, and the mapping of a person's departure from it to
 * **arousal** (the energy axis of the circumplex) with a confidence.
 *
 * Why these signals: sympathetic activation raises heart rate and vagal withdrawal lowers
 * RMSSD in states of high arousal (fear, anxiety, excitement), and the reverse at rest — Kreibig,
 * "Autonomic nervous system activity in emotion: a review", Biological Psychology 84(3):394–421,
 * 2010; Shaffer & Ginsberg, "An overview of heart rate variability metrics and norms", Frontiers
 * in Public Health 5:258, 2017. The heart says little about *valence* (Kreibig's review finds no
 * consistent valence signature), which is why valence stays the person's own (their last tap or
 * sentence) and only arousal is read from the body.
 *
 * Why a personal baseline: resting heart rate differs between people by ±15 bpm and RMSSD by a
 * factor of several, so only departures from one's own usual are comparable. The baseline is
 * the mean and spread of HR and of ln RMSSD (RMSSD is right-skewed; its logarithm is close to
 * normal — Plews et al., "Training adaptation and heart rate variability in elite endurance
 * athletes", Sports Med. 43:773–781, 2013) over the first minutes of wearing the strap
 * (Welford's online algorithm), then frozen.
 *
 * The mapping: z_HR = (HR − μ_HR)/σ_HR and z_V = (ln RMSSD − μ_V)/σ_V, with floors on σ so a very
 * steady baseline does not turn a 1-bpm wobble into a large z; z = (z_HR − z_V)/2 (or z_HR alone
 * when the strap sends no RR intervals); arousal = u/√(1 + u²) with u = z/2 — a sigmoid like
 * tanh near 0 (z = ±2 gives ±0.71) that, unlike tanh, does not round to ±1 in floating point for
 * any z a heart can produce — so strictly increasing in HR and strictly decreasing in RMSSD,
 * bounded in (−1, 1). Confidence = CEILING × ramp × quality, where
 * ramp grows linearly from 0 to 1 as the baseline fills and quality is the share of accepted
 * beats (halved without RR). CEILING is 0.7: a body signal is indirect evidence, below a tap's 1.
 *
 * Pure: numbers in, numbers out.
 */

/** A running mean and variance (Welford 1962, Technometrics 4(3):419–420). */
export interface Moments {
  readonly n: number;
  readonly mean: number;
  /** Sum of squared deviations. */
  readonly m2: number;
}

/** No samples. */
export const NO_MOMENTS: Moments = { n: 0, mean: 0, m2: 0 };

/** Adds one sample (Welford's update). */
export function addMoment(m: Moments, x: number): Moments {
  const n = m.n + 1;
  const d = x - m.mean;
  const mean = m.mean + d / n;
  return { n, mean, m2: m.m2 + d * (x - mean) };
}

/** Sample standard deviation (0 below two samples). */
export function sdOf(m: Moments): number {
  return m.n < 2 ? 0 : Math.sqrt(m.m2 / (m.n - 1));
}

/** Settings of the baseline. */
export interface BaselineOptions {
  /** How long of valid readings fills the baseline, ms (default 180 000: three minutes). */
  readonly fillMs?: number;
  /** Shortest baseline before any arousal is given, ms (default 30 000). */
  readonly minMs?: number;
}

/** A person's baseline: HR and ln RMSSD moments and how much of it is filled. */
export interface Baseline {
  readonly hr: Moments;
  readonly lnRmssd: Moments;
  /** Time of valid readings gathered, ms. */
  readonly filledMs: number;
  readonly fillMs: number;
  readonly minMs: number;
}

/** An empty baseline. */
export function emptyBaseline(o: BaselineOptions = {}): Baseline {
  return { hr: NO_MOMENTS, lnRmssd: NO_MOMENTS, filledMs: 0, fillMs: o.fillMs ?? 180_000, minMs: o.minMs ?? 30_000 };
}

/** Share of the baseline filled, 0…1. */
export function baselineFill(b: Baseline): number {
  return Math.min(1, b.filledMs / b.fillMs);
}

/**
 * Adds a reading covering `dtMs` of valid signal. Once full, the baseline is frozen (returned
 * unchanged): it describes the person's usual at the start, not a mean that follows the event.
 */
export function addToBaseline(b: Baseline, hr: number, rmssd: number | null, dtMs: number): Baseline {
  if (b.filledMs >= b.fillMs || !Number.isFinite(hr) || !(dtMs > 0)) return b;
  return {
    ...b,
    hr: addMoment(b.hr, hr),
    lnRmssd: rmssd !== null && rmssd > 0 ? addMoment(b.lnRmssd, Math.log(rmssd)) : b.lnRmssd,
    filledMs: Math.min(b.fillMs, b.filledMs + dtMs),
  };
}

/** Floors on the baseline spreads: 2 bpm of HR, 0.15 of ln RMSSD (≈ 15 %). */
export const SD_FLOOR = { hr: 2, lnRmssd: 0.15 } as const;
/** Highest confidence a heart-derived arousal gets. */
export const HEART_CONFIDENCE_CEILING = 0.7;

/** A derived arousal with its evidence. */
export interface HeartArousal {
  readonly arousal: number;
  readonly confidence: number;
  readonly zHr: number;
  /** z of ln RMSSD, null when the strap sends no RR intervals. */
  readonly zRmssd: number | null;
}

/**
 * Arousal from the current HR and RMSSD against a baseline (module header). Null while the
 * baseline holds less than its minimum. `quality` is the share of accepted beats, 0…1.
 */
export function heartArousal(b: Baseline, hr: number, rmssd: number | null, quality: number): HeartArousal | null {
  if (b.filledMs < b.minMs || b.hr.n < 2 || !Number.isFinite(hr)) return null;
  const zHr = (hr - b.hr.mean) / Math.max(SD_FLOOR.hr, sdOf(b.hr));
  const zRmssd = rmssd !== null && rmssd > 0 && b.lnRmssd.n >= 2 ? (Math.log(rmssd) - b.lnRmssd.mean) / Math.max(SD_FLOOR.lnRmssd, sdOf(b.lnRmssd)) : null;
  const z = zRmssd === null ? zHr : (zHr - zRmssd) / 2;
  const q = Math.max(0, Math.min(1, Number.isFinite(quality) ? quality : 0)) * (zRmssd === null ? 0.5 : 1);
  const u = z / 2;
  return { arousal: u / Math.sqrt(1 + u * u), confidence: HEART_CONFIDENCE_CEILING * baselineFill(b) * q, zHr, zRmssd };
}
