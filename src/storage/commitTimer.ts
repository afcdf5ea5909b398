/**
 * The clock and timer a storage adapter's group commit waits on between two groups (SPEC S3:
 * groups start at least `minCommitIntervalMs` apart). Shared by the SQLite and PostgreSQL
 * adapters; tests pass a ManualScheduler (src/space/scheduler.ts), which fits.
 */

/** What the commit interval needs of a clock (ms). */
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
