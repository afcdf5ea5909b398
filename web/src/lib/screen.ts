/**
 * What a council's settings change on the screens (SPEC Q5, Q8), as pure functions the
 * participant page and the display share, so both draw the same room:
 *
 * - `display.smoothingSeconds` (1–30, while a policy's display override lasts): the crowd's mean
 *   the screens draw is an exponential moving average of the released mean with that time
 *   constant, advanced by the pulses' own times (`pulse.at`), so it does not depend on the frame
 *   rate or on how often pulses arrive. Without it the screens draw the server's `smoothed`.
 * - `display.showCrowd: false`: participants' screens hide the crowd (its distribution, mean and
 *   shares); their own point stays.
 * - `calm` feedback: a slower heartbeat (`bpmOf(…, calm)`) and cooler colours.
 * - a template's grid words (Q14) name the ends of the axes.
 *
 * A participant who opted out of adaptive feedback sees the room as it is: mirror, the crowd,
 * and the server's smoothing.
 */
import type { Pulse } from './affect.ts';
import type { DisplayField, FeedbackField } from './feedback.ts';

/** The names of the axes' ends. */
export interface AxisWords {
  readonly pleasant: string;
  readonly unpleasant: string;
  readonly calm: string;
  readonly energised: string;
}

/** attune's own axis words. */
export const DEFAULT_AXIS_WORDS: AxisWords = { pleasant: 'pleasant', unpleasant: 'unpleasant', calm: 'calm', energised: 'energised' };

/** The axis words a space's template chose (`settings.words` of the council view), else attune's own. */
export function axisWordsOf(settings: { readonly words?: Partial<AxisWords> | null } | null | undefined): AxisWords {
  const w = settings?.words;
  if (!w) return DEFAULT_AXIS_WORDS;
  const pick = (k: keyof AxisWords) => (typeof w[k] === 'string' && (w[k] as string).trim() ? (w[k] as string).trim().slice(0, 40) : DEFAULT_AXIS_WORDS[k]);
  return { pleasant: pick('pleasant'), unpleasant: pick('unpleasant'), calm: pick('calm'), energised: pick('energised') };
}

/** The cool tint calm feedback lays over a screen's colours (a blend that keeps their lightness). */
export const CALM_TINT = '#5b8fc7';
/** How strongly the tint is laid on, 0…1. */
export const CALM_TINT_ALPHA = 0.55;

/** The smoothing a screen applies now, seconds (null: the server's own `smoothed`). */
export function smoothingOf(display: DisplayField | null, optedOut = false): number | null {
  const s = display?.smoothingSeconds;
  return !optedOut && typeof s === 'number' && Number.isFinite(s) && s >= 1 && s <= 30 ? s : null;
}

/** Whether a participant's screen shows the crowd (always, once they opted out). */
export function crowdShown(display: DisplayField | null, optedOut = false): boolean {
  return optedOut || display?.showCrowd !== false;
}

/** Whether the screen is calm (the council's calm feedback, unless this person opted out). */
export function calmShown(feedback: FeedbackField | null, optedOut = false): boolean {
  return !optedOut && feedback?.mode === 'calm';
}

/**
 * The crowd mean a screen draws under a council's smoothing: an EMA of the released mean with
 * time constant τ = smoothingSeconds, stepped by the pulses' times. One per screen; feed it every
 * pulse in order.
 */
export class ScreenSmoother {
  #mean: { valence: number; arousal: number } | null = null;
  #at: number | null = null;

  /** The mean to draw for this pulse (the pulse's own `smoothed` when no smoothing is set). */
  next(pulse: Pick<Pulse, 'at' | 'mean' | 'smoothed'>, smoothingSeconds: number | null): { valence: number; arousal: number } | null {
    if (smoothingSeconds === null || !pulse.mean) {
      // Without a council's smoothing the server's is drawn; the EMA starts from it when one is set.
      this.#mean = pulse.smoothed ? { valence: pulse.smoothed.valence, arousal: pulse.smoothed.arousal } : null;
      this.#at = pulse.at;
      return pulse.smoothed;
    }
    if (!this.#mean || this.#at === null) this.#mean = { valence: pulse.mean.valence, arousal: pulse.mean.arousal };
    else {
      const k = 1 - Math.exp(-Math.max(0, pulse.at - this.#at) / (smoothingSeconds * 1000));
      this.#mean = { valence: this.#mean.valence + (pulse.mean.valence - this.#mean.valence) * k, arousal: this.#mean.arousal + (pulse.mean.arousal - this.#mean.arousal) * k };
    }
    this.#at = pulse.at;
    return { ...this.#mean };
  }
}

/** The pulse as a screen draws it: `smoothed` replaced by the council's smoothing when one is in force. */
export function smoothedForScreen<P extends Pick<Pulse, 'at' | 'mean' | 'smoothed'>>(smoother: ScreenSmoother, pulse: P, smoothingSeconds: number | null): P {
  const m = smoother.next(pulse, smoothingSeconds);
  return smoothingSeconds === null ? pulse : { ...pulse, smoothed: m };
}

/** A quadrant's name in the space's axis words: `pleasant-energised` → "moved · electric". */
export function quadrantLabel(key: string, words: AxisWords): string {
  const [v, a] = key.split('-') as [keyof AxisWords, keyof AxisWords];
  return `${words[v] ?? v} · ${words[a] ?? a}`;
}
