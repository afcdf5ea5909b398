/**
 * The host's view of its durable writes that have not settled yet (SPEC W5b): how many, and how
 * long the oldest has waited. The host refuses new inputs with OVERLOADED while either is past
 * its bound, so a database that cannot keep up costs refused inputs, not an ever longer queue
 * (and the memory, ack latency and event-loop time that queue would take) while the pulse goes
 * on.
 *
 * Writes settle in call order (S3), so the oldest unsettled write is almost always the head of
 * the queue; a write may still settle early (a storage that has failed rejects new calls at
 * once), so each slot has a settled flag and the head moves past settled slots. O(1) amortised
 * per write; the slots are compacted when the settled head is more than half of them.
 */

/** Bounds of the backlog (`attune serve --max-write-lag`, `--max-queued-writes`). */
export interface WriteBacklogBounds {
  /** Refuse inputs while the oldest unsettled write has waited longer than this, ms. */
  readonly maxLagMs: number;
  /** Refuse inputs while this many writes (or more) are unsettled. */
  readonly maxQueued: number;
}

/**
 * Defaults. 2 s of lag: a tap is acknowledged within a few seconds or refused at once, so a
 * person (or their phone's retry) learns quickly, and it is far above a healthy group commit
 * (a few ms to a few tens of ms). 20,000 writes: at about 1 KB of queued call, promise and ack
 * per input, a node's backlog stays near 20 MB whatever the database's speed — the lag bound
 * alone would let a fast stream of inputs into a slow-but-not-stuck database queue more.
 */
export const DEFAULT_WRITE_BACKLOG: WriteBacklogBounds = { maxLagMs: 2_000, maxQueued: 20_000 };

/** Unsettled writes, oldest first. */
export class WriteBacklog {
  readonly bounds: WriteBacklogBounds;
  #started: number[] = [];
  #settled: boolean[] = [];
  /** Index in the arrays of slot 0 (slots before it are gone). */
  #base = 0;
  #head = 0;
  #open = 0;

  constructor(bounds: Partial<WriteBacklogBounds> = {}) {
    this.bounds = { ...DEFAULT_WRITE_BACKLOG, ...bounds };
  }

  /** A write began at `now`; returns what to call when it settles (once; later calls do nothing). */
  begin(now: number): () => void {
    const slot = this.#base + this.#started.length;
    this.#started.push(now);
    this.#settled.push(false);
    this.#open++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#settle(slot);
    };
  }

  #settle(slot: number): void {
    const i = slot - this.#base;
    this.#settled[i] = true;
    this.#open--;
    while (this.#head < this.#started.length && this.#settled[this.#head]) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#started.length) {
      this.#started = this.#started.slice(this.#head);
      this.#settled = this.#settled.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }

  /** Writes not settled yet. */
  get queued(): number {
    return this.#open;
  }

  /** How long the oldest unsettled write has waited at `now`, ms (0 when none waits). */
  lagMs(now: number): number {
    return this.#open === 0 ? 0 : Math.max(0, now - (this.#started[this.#head] as number));
  }

  /** Why new inputs are refused at `now`, or null when they are taken. */
  over(now: number): string | null {
    if (this.#open >= this.bounds.maxQueued) return `${this.#open} writes are waiting for the database (the bound is ${this.bounds.maxQueued})`;
    const lag = this.lagMs(now);
    if (lag > this.bounds.maxLagMs) return `the oldest write has waited ${Math.round(lag)} ms for the database (the bound is ${this.bounds.maxLagMs} ms)`;
    return null;
  }
}
