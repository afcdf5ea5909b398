/**
 * The commit interval both durable adapters share (SPEC S3): groups start at least
 * `minCommitIntervalMs` apart, so the writes of a burst share one COMMIT. A group due sooner
 * after the previous one was sent waits out the rest, gathering every call made meanwhile; one
 * due later — an idle writer, or after a COMMIT that took longer — goes after the current turn
 * (a turn's calls are never split), as with no interval.
 */

/** What the commit interval needs of a clock (ms); a ManualScheduler (src/space/scheduler.ts) fits. */
export interface CommitTimer {
  now(): number;
  /** Runs `fn` once at (or as soon as possible after) time `t`. */
  at(t: number, fn: () => void): { cancel(): void };
}

/** performance.now and setTimeout. */
export const REAL_COMMIT_TIMER: CommitTimer = {
  now: () => performance.now(),
  at: (t, fn) => {
    const h = setTimeout(fn, Math.max(0, t - performance.now()));
    return { cancel: () => clearTimeout(h) };
  },
};

/**
 * The default least time between two groups' starts, ms (`attune serve --commit-interval`).
 * A COMMIT costs about the same whatever it holds, so a writer that commits as fast as the last
 * one returns pays it per handful of calls:
 * - SQLite: ≈ 0.5 ms of the writer thread's CPU per COMMIT (the WAL pages of two files written
 *   and fsynced, `synchronous = FULL`). A 3,000-joins/s storm made ≈ 2,500 commits of 4 joins;
 *   10 ms folds it into ≈ 350 of ≈ 30 and took the storm's storage CPU from ≈ 180 to ≈ 110 µs per
 *   join (in process, 2026-12-02).
 * - PostgreSQL: a WAL flush and ≈ 0.4–0.9 ms of the backend's CPU per COMMIT; a live room's few
 *   hundred inputs a second on a node each went alone. 10 ms caps a node at 100 commits a second:
 *   at 200 / 500 / 2,000 inputs/s the inputs per commit went from 1 / 3 / 11 to 2 / 5 / 19–20 and
 *   the backend's CPU per input from 930 / 392 / 163 to 780 / 360 / 102 µs
 *   (`npm run bench:durable -- --targets pg-eager,pg,pg-eager,pg`, 2026-12-03; attune's own CPU
 *   per input within noise; ack p50 1.6–2.2 → 7.8–8.6 ms).
 * At most 10 ms more before a write is durable, and only while writes come that close together:
 * a write after a quiet spell commits at once, and a COMMIT that takes longer is followed at once.
 */
export const DEFAULT_MIN_COMMIT_INTERVAL_MS = 10;

/**
 * When an adapter's next group starts. The adapter calls {@link schedule} when a group could go,
 * {@link fired} first thing in the start it gave, and {@link sent} when it does send a group.
 */
export class CommitPacer {
  readonly minIntervalMs: number;
  readonly #timer: CommitTimer;
  #scheduled = false;
  #waiting: { cancel(): void } | null = null;
  #lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(minIntervalMs: number, timer: CommitTimer = REAL_COMMIT_TIMER) {
    if (!(minIntervalMs >= 0)) throw new RangeError(`minCommitIntervalMs must be ≥ 0, got ${minIntervalMs}`);
    this.minIntervalMs = minIntervalMs;
    this.#timer = timer;
  }

  /** Whether the scheduled start waits for the interval (a closing adapter starts it at once). */
  get waiting(): boolean {
    return this.#waiting !== null;
  }

  /** Schedules `start` once: at the interval's end if that is later, else after this turn (always so when `closing`). */
  schedule(start: () => void, closing: boolean): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const due = this.#lastSentAt + this.minIntervalMs;
    if (this.minIntervalMs > 0 && due > this.#timer.now() && !closing) this.#waiting = this.#timer.at(due, start);
    else setImmediate(start);
  }

  /** The scheduled start runs (or is run early): nothing is scheduled any more. */
  fired(): void {
    this.#scheduled = false;
    this.#waiting?.cancel();
    this.#waiting = null;
  }

  /** A group was sent now: the interval counts from here. */
  sent(): void {
    if (this.minIntervalMs > 0) this.#lastSentAt = this.#timer.now();
  }
}
