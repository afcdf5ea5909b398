/**
 * Dynamic resolution for the display canvas. The display draws in software on many venue
 * machines (and in headless Chromium with `--disable-gpu`): every frame's cost is the pixels it
 * fills, and a machine whose cores are shared (a server, a media player, other work) misses
 * vsyncs when the fill rate it gets drops. So the canvas's backing store follows the frames
 * actually delivered: after a few missed frames in a short window it renders at the next lower
 * scale (the browser stretches the canvas to its CSS size, which costs one bilinear blit), and
 * after a long run without a miss it tries the next higher one — waiting twice as long before
 * the next try each time a step up misses at once, so a machine that cannot hold a scale does
 * not flicker between two. The art is soft light; the page's text is DOM and stays sharp.
 *
 * The technique is the dynamic resolution scaling of game engines (e.g. Unreal's
 * `r.DynamicRes`, Unity's `ScalableBufferManager`), driven here by rAF intervals alone.
 */

/** Settings of {@link RenderScale}. */
export interface RenderScaleOptions {
  /** Scales to step through, highest first. */
  readonly steps: readonly number[];
  /** An interval longer than this is a missed frame, ms (a 60 Hz frame is 16.7). */
  readonly slowMs: number;
  /** A step down when more than this many frames of a window were missed… */
  readonly maxSlow: number;
  /** …within a window of this many frames. */
  readonly windowFrames: number;
  /** A step up after this many frames in a row without a miss (doubled after each failed try). */
  readonly calmFrames: number;
  /** Longest wait before a step up, frames. */
  readonly maxCalmFrames: number;
  /** Intervals longer than this (a hidden tab, a stall of the whole machine) are not counted, ms. */
  readonly ignoreMs: number;
}

/** Defaults: at 60 Hz, 4 misses in half a second step down; 4 s clean steps up. */
export const RENDER_SCALE_DEFAULTS: RenderScaleOptions = {
  steps: [1, 0.85, 0.7, 0.6, 0.5],
  slowMs: 20,
  maxSlow: 3,
  windowFrames: 30,
  calmFrames: 240,
  maxCalmFrames: 3600,
  ignoreMs: 250,
};

/** The scale a display renders at, from the intervals between its frames. */
export class RenderScale {
  private readonly o: RenderScaleOptions;
  private index = 0;
  private frames = 0;
  private slow = 0;
  private calm = 0;
  private calmNeeded: number;
  /** Frames since the last step up (a miss soon after it means that step is too much). */
  private sinceUp = Number.POSITIVE_INFINITY;

  constructor(o: Partial<RenderScaleOptions> = {}) {
    this.o = { ...RENDER_SCALE_DEFAULTS, ...o };
    if (this.o.steps.length === 0) throw new RangeError('steps must not be empty');
    this.calmNeeded = this.o.calmFrames;
  }

  /** The backing-store scale to render at now (1 = the canvas's CSS size × devicePixelRatio). */
  get scale(): number {
    return this.o.steps[this.index] as number;
  }

  /** Takes one frame's interval (ms since the previous frame); returns whether the scale changed. */
  frame(intervalMs: number): boolean {
    if (!(intervalMs > 0) || intervalMs > this.o.ignoreMs) return false;
    this.frames++;
    this.sinceUp++;
    if (intervalMs > this.o.slowMs) {
      this.slow++;
      this.calm = 0;
      if (this.slow > this.o.maxSlow && this.index < this.o.steps.length - 1) {
        // A step up that missed within one window was too much: wait longer before the next.
        if (this.sinceUp <= this.o.windowFrames) this.calmNeeded = Math.min(this.o.maxCalmFrames, this.calmNeeded * 2);
        this.index++;
        this.restart();
        return true;
      }
    } else this.calm++;
    if (this.frames >= this.o.windowFrames) {
      this.frames = 0;
      this.slow = 0;
    }
    if (this.calm >= this.calmNeeded && this.index > 0) {
      this.index--;
      this.restart();
      this.sinceUp = 0;
      return true;
    }
    return false;
  }

  private restart(): void {
    this.frames = 0;
    this.slow = 0;
    this.calm = 0;
  }
}

/**
 * The scale `?scale=` pins for this screen (0.25…1; e.g. `?scale=1` for a machine known to keep
 * up at full resolution), or null to follow the frames.
 */
export function scaleFromQuery(search: string): number | null {
  const raw = new URLSearchParams(search).get('scale');
  if (raw === null || raw.trim() === '') return null;
  const s = Number(raw);
  return Number.isFinite(s) && s >= 0.25 && s <= 1 ? s : null;
}
