/**
 * A Scheduler whose clock runs `speed` times faster than the wall clock from a chosen start
 * (`attune play --speed 4`): `now()` is `startAt + speed · (wall − wallAtStart)`, and a timer for
 * time t fires after (t − now) / speed real ms. Beats are drift-free in its own time, as
 * RealScheduler's are (beat k at `start + k·period`; a beat more than a period late runs once).
 * A rehearsal server runs on it, so TTLs, smoothing and the display rate all keep the recorded
 * session's proportions, only faster.
 */
import type { BeatHandler, Cancel, Scheduler } from './scheduler.ts';

/** Time `speed` times faster than the wall clock, starting at `startAt`. */
export class ScaledScheduler implements Scheduler {
  private readonly speed: number;
  private readonly startAt: number;
  private readonly wallStart: number;
  private readonly wall: () => number;

  constructor(startAt: number, speed: number, wall: () => number = Date.now) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError('speed must be a positive number');
    this.speed = speed;
    this.startAt = startAt;
    this.wall = wall;
    this.wallStart = wall();
  }

  now(): number {
    return this.startAt + (this.wall() - this.wallStart) * this.speed;
  }

  at(t: number, fn: () => void): Cancel {
    const h = setTimeout(fn, Math.max(0, (t - this.now()) / this.speed));
    return { cancel: () => clearTimeout(h) };
  }

  every(periodMs: number, fn: BeatHandler, start = this.now()): Cancel & { readonly skipped: number } {
    if (!(periodMs > 0)) throw new RangeError('period must be positive');
    let k = 0;
    let timer: Cancel | null = null;
    let stopped = false;
    const beat = { skipped: 0, cancel: () => {} };
    const arm = () => {
      if (!stopped) timer = this.at(start + k * periodMs, fire);
    };
    const fire = () => {
      if (stopped) return;
      const due = Math.floor((this.now() - start) / periodMs);
      if (due > k) {
        beat.skipped += due - k;
        k = due;
      }
      try {
        fn(start + k * periodMs, k);
      } finally {
        k++;
        arm();
      }
    };
    beat.cancel = () => {
      stopped = true;
      timer?.cancel();
    };
    arm();
    return beat;
  }

  defer(fn: () => void): void {
    setImmediate(fn);
  }
}
