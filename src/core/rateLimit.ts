/**
 * A token bucket (Turner 1986; RFC 2697's single-rate idea without colours): `ratePerSec`
 * tokens refill continuously up to `burst`; each message takes one. Pure: `now` is passed in.
 */

/** Token-bucket state for one connection. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly ratePerSec: number;
  readonly burst: number;

  constructor(ratePerSec: number, burst: number, now: number) {
    if (!(ratePerSec > 0) || !(burst >= 1)) throw new RangeError('rate must be > 0 and burst ≥ 1');
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token if there is one; returns whether the message may pass. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Whether a token is available now, without taking it. */
  allows(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Gives back a token taken for an attempt that, after all, should not count (H1). */
  refund(now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Milliseconds until a token is available (0 if one is now), for `Retry-After`. */
  msUntilToken(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000);
  }

  /** Whether the bucket is full (an idle key can be forgotten). */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const dt = Math.max(0, now - this.last) / 1000;
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + dt * this.ratePerSec);
  }
}

/**
 * Token buckets per key (e.g. per client address), forgetting keys whose bucket has refilled so
 * that memory stays bounded by the number of recently active keys — and never more than
 * `maxKeys` (least recently used evicted first; an evicted key starts again with a full bucket,
 * which only someone holding `maxKeys` other active keys can force).
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  readonly ratePerSec: number;
  readonly burst: number;
  readonly maxKeys: number;
  private lastSweep = 0;

  constructor(ratePerSec: number, burst: number, maxKeys = 65_536) {
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.maxKeys = maxKeys;
  }

  private bucket(key: string, now: number): TokenBucket {
    if (now - this.lastSweep > 60_000) {
      this.lastSweep = now;
      for (const [k, b] of this.buckets) if (b.isFull(now)) this.buckets.delete(k);
    }
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key); // re-inserted below: the map's order is least recently used first
    else b = new TokenBucket(this.ratePerSec, this.burst, now);
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    return b;
  }

  /** Takes a token for `key`; returns whether it was available. */
  take(key: string, now: number): boolean {
    return this.bucket(key, now).take(now);
  }

  /** Gives back the token of an attempt that should not count (e.g. a request that was refused). */
  refund(key: string, now: number): void {
    this.buckets.get(key)?.refund(now);
  }

  /** Milliseconds until `key` has a token again (0 if it has one now). */
  msUntilToken(key: string, now: number): number {
    return this.buckets.get(key)?.msUntilToken(now) ?? 0;
  }

  /** Whether `key` has a token available, without taking it. */
  allows(key: string, now: number): boolean {
    return this.buckets.get(key)?.allows(now) ?? true;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.buckets.size;
  }
}
