/**
 * RR intervals → RMSSD over a rolling time window, with artefact rejection.
 *
 * RMSSD, the root mean square of successive differences between normal beats, is the standard
 * short-term index of vagally mediated heart-rate variability: Task Force of the ESC and NASPE,
 * "Heart rate variability: standards of measurement, physiological interpretation and clinical
 * use", Circulation 93(5):1043–1065, 1996, Table 1. It is valid on ultra-short recordings (from
 * ≈ 10–30 s): Munoz et al., "Validity of (ultra-)short recordings for heart rate variability
 * measurements", PLoS ONE 10(9):e0138921, 2015 — hence the defaults below (60 s window, at least
 * 20 s and 10 differences before a value is reported).
 *
 * Artefact rejection, in two steps, before any difference is taken:
 *
 * 1. **Range.** An interval outside 273–2000 ms (220–30 bpm) is not a heartbeat a chest strap
 *    should report for a person in a room: a missed detection, a double detection or noise.
 * 2. **Relative (the 20 % filter).** An interval that differs by more than 20 % from the median
 *    of the last five accepted intervals is rejected as ectopic or mis-detected: Malik et al.,
 *    "Heart rate variability in relation to prognosis after myocardial infarction: selection of
 *    optimal processing techniques", Eur. Heart J. 10:1060–1074, 1989. After five rejections in
 *    a row the reference is reset, so a real change of rhythm is followed, not locked out.
 *
 * A rejected interval breaks the chain: no successive difference is taken across it (the
 * normal-to-normal rule), so one ectopic beat cannot inflate RMSSD.
 *
 * State is bounded: at most `maxBeats` intervals (default 512 ≈ 2 min at 220 bpm); each beat is
 * O(1) amortised (running sum of squared differences), each query O(1). `now` is an argument.
 */

/** Shortest and longest RR interval believed, in ms (220 and 30 bpm). */
export const RR_RANGE_MS = { min: 273, max: 2000 } as const;

/** Settings of a window. */
export interface RrWindowOptions {
  /** Rolling window, ms (default 60 000). */
  readonly windowMs?: number;
  /** Relative tolerance against the recent median (default 0.2, Malik's 20 %). */
  readonly tolerance?: number;
  /** Fewest successive differences before RMSSD is reported (default 10). */
  readonly minDifferences?: number;
  /** Shortest span of accepted beats before RMSSD is reported, ms (default 20 000). */
  readonly minSpanMs?: number;
  /** Bound on stored beats (default 512). */
  readonly maxBeats?: number;
}

/** Why an interval was not accepted. */
export type RrRejection = 'range' | 'relative';

interface Beat {
  /** When the beat ended, ms. */
  readonly t: number;
  readonly rr: number;
  /** Squared difference with the previous accepted beat, or NaN when the chain was broken. */
  readonly d2: number;
}

/** A rolling window of accepted RR intervals with the running RMSSD. */
export class RrWindow {
  readonly #windowMs: number;
  readonly #tol: number;
  readonly #minDiffs: number;
  readonly #minSpan: number;
  readonly #max: number;
  #beats: Beat[] = [];
  #head = 0;
  #sumD2 = 0;
  #nD2 = 0;
  #sumRr = 0;
  /** The last intervals accepted, for the median reference (≤ 5). */
  #recent: number[] = [];
  #rejectRun = 0;
  /** Whether the next accepted beat may be differenced with the last one. */
  #chained = false;
  #accepted = 0;
  #rejected = 0;

  constructor(o: RrWindowOptions = {}) {
    this.#windowMs = o.windowMs ?? 60_000;
    this.#tol = o.tolerance ?? 0.2;
    this.#minDiffs = o.minDifferences ?? 10;
    this.#minSpan = o.minSpanMs ?? 20_000;
    this.#max = o.maxBeats ?? 512;
  }

  /**
   * Adds the intervals of one frame, oldest first, all ending by `now` (the last one at `now`,
   * each earlier one its successor's length before). Returns the rejections, for display.
   */
  addFrame(rrMs: readonly number[], now: number): RrRejection[] {
    const out: RrRejection[] = [];
    let t = now;
    const ends: number[] = [];
    for (let i = rrMs.length - 1; i >= 0; i--) {
      ends[i] = t;
      const rr = rrMs[i] as number;
      t -= Number.isFinite(rr) && rr > 0 ? rr : 0;
    }
    for (let i = 0; i < rrMs.length; i++) {
      const r = this.add(rrMs[i] as number, ends[i] as number);
      if (r) out.push(r);
    }
    this.#evict(now);
    return out;
  }

  /** Adds one interval that ended at `t`. Returns why it was rejected, or null when accepted. */
  add(rr: number, t: number): RrRejection | null {
    if (!Number.isFinite(rr) || rr < RR_RANGE_MS.min || rr > RR_RANGE_MS.max) return this.#reject('range');
    if (this.#recent.length >= 3) {
      const ref = median(this.#recent);
      if (Math.abs(rr - ref) > this.#tol * ref && this.#rejectRun < 5) return this.#reject('relative');
    }
    if (this.#rejectRun >= 5) this.#recent = [];
    this.#rejectRun = 0;
    const prev = this.#head < this.#beats.length ? (this.#beats[this.#beats.length - 1] as Beat) : null;
    const d2 = this.#chained && prev ? (rr - prev.rr) ** 2 : Number.NaN;
    this.#beats.push({ t, rr, d2 });
    this.#sumRr += rr;
    if (!Number.isNaN(d2)) {
      this.#sumD2 += d2;
      this.#nD2++;
    }
    this.#chained = true;
    this.#recent.push(rr);
    if (this.#recent.length > 5) this.#recent.shift();
    this.#accepted++;
    if (this.#beats.length - this.#head > this.#max) this.#drop();
    return null;
  }

  #reject(why: RrRejection): RrRejection {
    this.#chained = false;
    this.#rejectRun++;
    this.#rejected++;
    return why;
  }

  /** Forgets beats that ended before the window (call with the current time). */
  #evict(now: number): void {
    while (this.#head < this.#beats.length && (this.#beats[this.#head] as Beat).t < now - this.#windowMs) this.#drop();
    if (this.#head > 256 && this.#head * 2 > this.#beats.length) {
      this.#beats = this.#beats.slice(this.#head);
      this.#head = 0;
    }
  }

  #drop(): void {
    const b = this.#beats[this.#head++] as Beat;
    this.#sumRr -= b.rr;
    // The next beat's difference was taken against the dropped one: it leaves the window too.
    const next = this.#beats[this.#head];
    if (next && !Number.isNaN(next.d2)) {
      this.#sumD2 -= next.d2;
      this.#nD2--;
      this.#beats[this.#head] = { t: next.t, rr: next.rr, d2: Number.NaN };
    }
    if (this.#head === this.#beats.length) {
      this.#sumD2 = 0;
      this.#nD2 = 0;
      this.#sumRr = 0;
    }
  }

  /** Moves the window to `now` without adding a beat (a strap that went quiet). */
  advance(now: number): void {
    this.#evict(now);
  }

  /** Marks a gap (contact lost, reconnection): the next beat is not differenced with the last. */
  breakChain(): void {
    this.#chained = false;
  }

  /** Intervals in the window. */
  get size(): number {
    return this.#beats.length - this.#head;
  }

  /** Successive differences in the window. */
  get differences(): number {
    return this.#nD2;
  }

  /** Accepted and rejected intervals since the start. */
  get counts(): { readonly accepted: number; readonly rejected: number } {
    return { accepted: this.#accepted, rejected: this.#rejected };
  }

  /** RMSSD over the window, ms; null until enough differences over a long enough span. */
  rmssd(): number | null {
    if (this.#nD2 < this.#minDiffs) return null;
    const first = this.#beats[this.#head] as Beat;
    const last = this.#beats[this.#beats.length - 1] as Beat;
    if (last.t - first.t < this.#minSpan) return null;
    return Math.sqrt(Math.max(0, this.#sumD2) / this.#nD2);
  }

  /** Mean heart rate of the accepted beats in the window, bpm (null when empty). */
  meanBpm(): number | null {
    const n = this.size;
    return n === 0 ? null : 60_000 / (this.#sumRr / n);
  }
}

/** RMSSD of a list of normal-to-normal intervals (no rejection), ms; null below two intervals. */
export function rmssdOf(nn: readonly number[]): number | null {
  if (nn.length < 2) return null;
  let s = 0;
  for (let i = 1; i < nn.length; i++) s += ((nn[i] as number) - (nn[i - 1] as number)) ** 2;
  return Math.sqrt(s / (nn.length - 1));
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
