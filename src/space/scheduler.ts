/**
 * The Scheduler port: time for the host. `every` keeps drift-free target times — beat k is due at
 * `start + k·period`, however late beat k−1 ran — so a slow beat delays the next one by at most
 * its own lateness instead of shifting every later beat (the old `setInterval` + "≥ 499 ms since
 * the last" lost beats whenever a fan-out took longer than the period). Beats missed in a stall
 * run at once, in order, each with its own target time, up to `MAX_CATCH_UP_MS` of them; beyond
 * that (a process suspended for seconds) the oldest are skipped and counted.
 *
 * Two adapters: {@link RealScheduler} (timers; production) and {@link ManualScheduler} (tests,
 * in-process simulation: time moves only when told, so a 10-minute session runs in seconds).
 */

/** How far behind a repeating beat catches up after a stall, ms; older missed beats are skipped. */
export const MAX_CATCH_UP_MS = 1000;

/** Something to cancel. */
export interface Cancel {
  cancel(): void;
}

/** A repeating beat's handler: `beatAt` is the beat's target time, `index` its number from 0. */
export type BeatHandler = (beatAt: number, index: number) => void;

/** Time for the host. */
export interface Scheduler {
  /** Epoch ms. */
  now(): number;
  /** Runs `fn` once at (or as soon as possible after) absolute time `t`. */
  at(t: number, fn: () => void): Cancel;
  /** Runs `fn` at `start + k·periodMs` for k = 0, 1, 2, … (drift-free; see the header). */
  every(periodMs: number, fn: BeatHandler, start?: number): Cancel & { readonly skipped: number };
  /** Runs `fn` after the current turn, letting I/O in between (for slicing long work). */
  defer(fn: () => void): void;
}

/** Timers on the event loop. */
export class RealScheduler implements Scheduler {
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  now(): number {
    return this.clock();
  }

  at(t: number, fn: () => void): Cancel {
    const h = setTimeout(fn, Math.max(0, t - this.clock()));
    h.unref?.();
    return { cancel: () => clearTimeout(h) };
  }

  every(periodMs: number, fn: BeatHandler, start = this.clock()): Cancel & { readonly skipped: number } {
    if (!(periodMs > 0)) throw new RangeError('period must be positive');
    let k = 0;
    let timer: NodeJS.Timeout | null = null;
    let stopped = false;
    const beat = { skipped: 0, cancel: () => {} };
    const arm = () => {
      if (stopped) return;
      const target = start + k * periodMs;
      timer = setTimeout(fire, Math.max(0, target - this.clock()));
      timer.unref?.();
    };
    const fire = () => {
      if (stopped) return;
      const now = this.clock();
      // Every beat due by now runs, in order, each with its own target time; beats older than
      // MAX_CATCH_UP_MS are skipped (and counted) so a long suspension cannot start a storm.
      const due = Math.floor((now - start) / periodMs);
      const oldest = Math.max(k, due - Math.max(1, Math.floor(MAX_CATCH_UP_MS / periodMs)) + 1);
      if (oldest > k) {
        beat.skipped += oldest - k;
        k = oldest;
      }
      try {
        do {
          fn(start + k * periodMs, k);
          k++;
        } while (!stopped && k <= due);
      } finally {
        arm();
      }
    };
    beat.cancel = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
    arm();
    return beat;
  }

  defer(fn: () => void): void {
    setImmediate(fn);
  }
}

interface Timer {
  t: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A scheduler whose time moves only through {@link advance}. Timers run in time order (ties in
 * the order they were set); deferred work runs after each timer, as the event loop would.
 */
export class ManualScheduler implements Scheduler {
  private time: number;
  private order = 0;
  private readonly timers: Timer[] = [];
  private readonly deferred: (() => void)[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  at(t: number, fn: () => void): Cancel {
    const timer: Timer = { t: Math.max(t, this.time), order: this.order++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  every(periodMs: number, fn: BeatHandler, start = this.time): Cancel & { readonly skipped: number } {
    if (!(periodMs > 0)) throw new RangeError('period must be positive');
    let k = 0;
    let current: Cancel | null = null;
    let stopped = false;
    const arm = () => {
      if (stopped) return;
      current = this.at(start + k * periodMs, () => {
        fn(start + k * periodMs, k);
        k++;
        arm();
      });
    };
    arm();
    return {
      skipped: 0,
      cancel: () => {
        stopped = true;
        current?.cancel();
      },
    };
  }

  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  /** Runs deferred work until none is left. */
  flush(): void {
    for (let i = 0; i < 1_000_000 && this.deferred.length > 0; i++) (this.deferred.shift() as () => void)();
  }

  /** Moves time forward by `ms`, running every timer due on the way (and deferred work after each). */
  advance(ms: number): void {
    const until = this.time + ms;
    this.flush();
    for (;;) {
      let next: Timer | null = null;
      for (const t of this.timers) if (!t.cancelled && t.t <= until && (!next || t.t < next.t || (t.t === next.t && t.order < next.order))) next = t;
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.time = next.t;
      next.fn();
      this.flush();
    }
    this.time = until;
    for (let i = this.timers.length - 1; i >= 0; i--) if (this.timers[i]?.cancelled) this.timers.splice(i, 1);
  }
}
