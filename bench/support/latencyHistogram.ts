/**
 * A mergeable latency histogram with 1 % wide logarithmic buckets from 1 µs to ~100 s, so that
 * client processes can each record millions of samples and the coordinator merges them and
 * reads p50/p95/p99 within 1 %. (The idea of HdrHistogram, without its precision knobs.)
 */

const MIN_MS = 0.001;
const GROWTH = Math.log(1.01);
const BUCKETS = 1900; // 1.01^1900 · 1 µs ≈ 160 s

/** A histogram of durations in ms. */
export class LatencyHistogram {
  readonly counts: Uint32Array;
  total = 0;
  max = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(BUCKETS);
    if (counts) {
      this.counts.set(counts);
      for (const c of this.counts) this.total += c;
    }
  }

  /** Records one duration, ms. */
  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / GROWTH));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's samples. */
  merge(o: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = (this.counts[i] ?? 0) + (o.counts[i] ?? 0);
    this.total += o.total;
    this.max = Math.max(this.max, o.max);
  }

  /** The q-quantile (0..1), ms: the upper edge of the bucket holding it (NaN when empty). */
  quantile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, MIN_MS * Math.exp(i * GROWTH));
    }
    return this.max;
  }

  /** A plain form for IPC. */
  toJSON(): { counts: number[]; max: number } {
    return { counts: Array.from(this.counts), max: this.max };
  }

  /** Rebuilds from `toJSON`. */
  static from(j: { counts: number[]; max: number }): LatencyHistogram {
    const h = new LatencyHistogram(j.counts);
    h.max = j.max;
    return h;
  }
}
