/**
 * Join-code guessing throttle (SPEC W13). Pure: `now` is an argument; the caller owns timers.
 *
 * The threat is an attacker guessing 8-character join codes (31⁸ ≈ 8.5·10¹¹) from one address.
 * The old rule refused *every* join from an address after 30 failures a minute, so one person
 * (or honest typos) behind a venue's NAT could lock the whole venue out. This throttle limits
 * how fast *new unknown codes* are tried from an address, and never refuses a code that is
 * already known to be right:
 *
 *   admit(address, code) ──▶ code proven good from this address ─────────▶ evaluate (free)
 *                       ├──▶ code already failed from this address ──────▶ known-bad (free:
 *                       │                                                  NOT_FOUND again)
 *                       ├──▶ a guess token is available ─────────────────▶ evaluate (token held;
 *                       │                                                  refunded if found)
 *                       └──▶ none ──▶ wait for the next token ─┐
 *                                      (queued by code; the code asked for most often in
 *                                       the last minute gets the next token, so 50 honest
 *                                       people typing the venue's code outrank a guesser,
 *                                       whose every guess is a new code asked once) ◀──┘
 *
 * At most `maxWaiting` connections (64) wait per address. When they are all taken, a new code
 * finds room by displacing the least-asked waiting code, if it has been asked for more often —
 * so a guesser with more connections than that cannot keep a venue's code out for long: the
 * venue's asks (and its refused people's retries) add up. What cannot be told apart is a
 * *lone* first joiner from one guess: until a second person (or the display, or the steward
 * who created the space from this address) names the code, it takes its turn with the rest.
 *
 * Per address: a token bucket of `freeGuesses` (default 30) refilling at `guessesPerMinute`
 * (default 30). Back-off: each failure while the bucket is empty halves the refill rate, down to
 * `1/maxSlowdown` of it (default 1/8: one new guess per 16 s), so a sustained guesser slows
 * down; a new code found from the address, or (`freeGuesses` + `maxSlowdown`) token intervals at the
 * full rate (76 s) without a failure, restores the rate. A code counts as "found"
 * when evaluating it named a space (any answer but NOT_FOUND); found codes are remembered per
 * address for `goodTtlMs` (12 h), failed ones for `badTtlMs` (10 min). Resume tokens (256 bits)
 * are not throttled at all: guessing one is hopeless at any rate, and refusing valid resumes is
 * what kept people whose Wi-Fi dropped out of the venue.
 *
 * Security bound: from one address, at most `freeGuesses` + `guessesPerMinute`·minutes distinct
 * unknown codes are ever evaluated (less under back-off); waiting does not raise it.
 *
 * Memory bound: at most `maxAddresses` address entries (least recently used evicted first;
 * idle entries with a full bucket and nothing remembered are swept), each holding at most
 * `maxGood` + `maxBad` + `maxDemand` codes and `maxWaiting` tickets — with the defaults
 * 4096 × (8 + 32 + 32 + 64) = 557,056 small entries in the very worst case, measured at
 * ≈ 50 MiB of heap (every address at every cap at once, which takes 262,144 open connections
 * waiting); a venue under attack costs one entry of ≤ 136, and idle addresses nothing after a
 * minute. Evicting an attacker's entry needs `maxAddresses` other active addresses, which
 * would give them that many budgets anyway. Callers should key IPv6 clients by /64
 * (see clientAddress.ts), since one host holds a whole /64.
 *
 * The leaky/token bucket is Turner 1986 (as in rateLimit.ts); the "most waiters first" grant is
 * a priority queue over distinct codes, O(waiting) per grant with waiting ≤ `maxWaiting`.
 */

/** Settings of a join throttle. */
export interface JoinThrottleOptions {
  /** Unknown codes an address may try at once before it must wait. */
  readonly freeGuesses?: number;
  /** Sustained rate of new unknown codes per address, per minute (before back-off). */
  readonly guessesPerMinute?: number;
  /** The refill rate falls to at most this factor below `guessesPerMinute` under sustained guessing. */
  readonly maxSlowdown?: number;
  /** How long a found code stays known-good for an address, ms. */
  readonly goodTtlMs?: number;
  /** How long a failed code is answered NOT_FOUND without a lookup, ms. */
  readonly badTtlMs?: number;
  /** Addresses tracked at once. */
  readonly maxAddresses?: number;
  /** Known-good codes per address. */
  readonly maxGood?: number;
  /** Known-bad codes per address. */
  readonly maxBad?: number;
  /** Connections waiting for a guess token per address; more are refused. */
  readonly maxWaiting?: number;
  /** Distinct codes waiting per address. */
  readonly maxWaitingCodes?: number;
  /** Codes whose recent demand is remembered per address. */
  readonly maxDemand?: number;
  /** Demand (asks for a code) counts over this window, ms. */
  readonly demandWindowMs?: number;
  /** A granted code whose outcome was never recorded is released after this long, ms. */
  readonly grantTimeoutMs?: number;
}

/** What to do with one join attempt. */
export type JoinDecision =
  /** Look the code up now, then call `record`. */
  | { readonly kind: 'evaluate' }
  /** This code already failed from this address: answer NOT_FOUND without a lookup. */
  | { readonly kind: 'known-bad' }
  /** Ask again (same ticket) at `until`; call `cancel(ticket)` if the client goes away. */
  | { readonly kind: 'wait'; readonly ticket: number; readonly until: number }
  /** Too many connections already wait on this address: refuse (RATE_LIMITED). */
  | { readonly kind: 'refuse'; readonly retryAfterMs: number };

/** The outcome of evaluating a code: `found` = it named a space (whatever the answer was). */
export type JoinOutcome = 'found' | 'not-found' | 'error';

interface Waiter {
  readonly code: string;
  readonly since: number;
}

interface AddressState {
  tokens: number;
  last: number;
  /** Current refill rate, tokens per ms. */
  rate: number;
  /** When a code last failed from this address. */
  lastFailure: number;
  readonly good: Map<string, number>;
  readonly bad: Map<string, number>;
  /** Codes granted a token whose outcome is pending → when granted. */
  readonly granted: Map<string, number>;
  readonly waiting: Map<number, Waiter>;
  /** Fresh asks per code in the current window (least recently asked first). */
  readonly demand: Map<string, { n: number; since: number }>;
}

const DEFAULTS: Required<JoinThrottleOptions> = {
  freeGuesses: 30,
  guessesPerMinute: 30,
  maxSlowdown: 8,
  goodTtlMs: 12 * 3600_000,
  badTtlMs: 10 * 60_000,
  maxAddresses: 4096,
  maxGood: 8,
  maxBad: 32,
  maxWaiting: 64,
  maxWaitingCodes: 64,
  maxDemand: 32,
  demandWindowMs: 60_000,
  grantTimeoutMs: 30_000,
};

/** Deletes the oldest entries of an insertion-ordered map until it has at most `max`. */
function trim<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) {
    const first = m.keys().next();
    if (first.done) return;
    m.delete(first.value);
  }
}

/** Per-address join-guessing throttle; see the module header. */
export class JoinThrottle {
  private readonly o: Required<JoinThrottleOptions>;
  private readonly baseRate: number;
  private readonly addresses = new Map<string, AddressState>();
  private nextTicket = 1;
  private lastSweep = -Infinity;

  constructor(opts: JoinThrottleOptions = {}) {
    this.o = { ...DEFAULTS, ...opts };
    if (!(this.o.freeGuesses >= 1) || !(this.o.guessesPerMinute > 0) || !(this.o.maxSlowdown >= 1)) throw new RangeError('freeGuesses ≥ 1, guessesPerMinute > 0 and maxSlowdown ≥ 1 are required');
    this.baseRate = this.o.guessesPerMinute / 60_000;
  }

  /**
   * Decides what to do with a join attempt for `code` (normalised) from `address`. A first ask
   * has no ticket; after a `wait`, ask again with its ticket.
   */
  admit(address: string, code: string, now: number, ticket?: number): JoinDecision {
    this.sweep(now);
    const st = this.state(address, now);
    this.refill(st, now);
    const good = st.good.get(code);
    if (good !== undefined && good > now) return this.leave(st, ticket, { kind: 'evaluate' });
    const bad = st.bad.get(code);
    if (bad !== undefined && bad > now) return this.leave(st, ticket, { kind: 'known-bad' });
    for (const [c, at] of st.granted) if (now - at > this.o.grantTimeoutMs) this.release(st, c);
    if (st.granted.has(code)) return this.leave(st, ticket, { kind: 'evaluate' });

    const mine = ticket !== undefined ? st.waiting.get(ticket) : undefined;
    if (ticket === undefined) this.ask(st, code, now);
    while (st.tokens >= 1) {
      // Grant tokens to the most-asked codes first (this one competes even if not queued).
      const top = this.topCode(st, code, mine?.since ?? now);
      st.tokens -= 1;
      st.granted.set(top, now);
      if (top === code) return this.leave(st, ticket, { kind: 'evaluate' });
    }
    const until = now + Math.max(1, Math.ceil((1 - st.tokens) / st.rate));
    if (mine) return { kind: 'wait', ticket: ticket as number, until };
    if (!this.makeRoom(st, code, now)) return { kind: 'refuse', retryAfterMs: until - now };
    const t = this.nextTicket++;
    st.waiting.set(t, { code, since: now });
    return { kind: 'wait', ticket: t, until };
  }

  /** Records what evaluating `code` from `address` found (after an `evaluate` decision). */
  record(address: string, code: string, outcome: JoinOutcome, now: number): void {
    const st = this.state(address, now);
    this.refill(st, now);
    const charged = st.granted.delete(code);
    if (outcome === 'error') {
      if (charged) st.tokens = Math.min(this.o.freeGuesses, st.tokens + 1);
      return;
    }
    if (outcome === 'found') {
      // A new code that named a space: not a guess after all. (Joins with a code already known
      // here prove nothing new, so they neither refund nor end a back-off.)
      if (charged) {
        st.tokens = Math.min(this.o.freeGuesses, st.tokens + 1);
        st.rate = this.baseRate;
      }
      st.bad.delete(code);
      st.good.delete(code);
      st.good.set(code, now + this.o.goodTtlMs);
      trim(st.good, this.o.maxGood);
      return;
    }
    // not found: a token was spent (held since the grant, or taken now for a code that was
    // good and no longer is — but not again for the other waiters of a code that just failed).
    // Guessing on an empty bucket slows the refill (back-off).
    const known = (st.bad.get(code) ?? -Infinity) > now;
    if (!charged && !known) st.tokens = Math.max(0, st.tokens - 1);
    st.lastFailure = now;
    if (st.tokens < 1) st.rate = Math.max(this.baseRate / this.o.maxSlowdown, st.rate / 2);
    st.good.delete(code);
    st.bad.delete(code);
    st.bad.set(code, now + this.o.badTtlMs);
    trim(st.bad, this.o.maxBad);
  }

  /** Forgets a waiting ticket (the client went away). */
  cancel(address: string, ticket: number): void {
    this.addresses.get(address)?.waiting.delete(ticket);
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.addresses.size;
  }

  /** Everything held for one address (for tests and metrics): codes, tickets, tokens. */
  inspect(address: string): { good: number; bad: number; waiting: number; waitingCodes: number; granted: number; demand: number; tokens: number; perMinute: number } | null {
    const st = this.addresses.get(address);
    if (!st) return null;
    const waitingCodes = new Set([...st.waiting.values()].map((w) => w.code)).size;
    return { good: st.good.size, bad: st.bad.size, waiting: st.waiting.size, waitingCodes, granted: st.granted.size, demand: st.demand.size, tokens: st.tokens, perMinute: st.rate * 60_000 };
  }

  private leave(st: AddressState, ticket: number | undefined, d: JoinDecision): JoinDecision {
    if (ticket !== undefined) st.waiting.delete(ticket);
    return d;
  }

  private release(st: AddressState, code: string): void {
    if (st.granted.delete(code)) st.tokens = Math.min(this.o.freeGuesses, st.tokens + 1);
  }

  /** Asks for `code` in the current window. */
  private ask(st: AddressState, code: string, now: number): void {
    const d = st.demand.get(code);
    st.demand.delete(code);
    st.demand.set(code, d && now - d.since < this.o.demandWindowMs ? { n: d.n + 1, since: d.since } : { n: 1, since: now });
    if (st.demand.size <= this.o.maxDemand) return;
    // Forget the least recently asked codes — never one that waits, or a flood of fresh guesses
    // would wipe out the venue's demand.
    const queued = new Set([...st.waiting.values()].map((w) => w.code));
    for (const c of st.demand.keys()) {
      if (st.demand.size <= this.o.maxDemand) break;
      if (!queued.has(c) && c !== code) st.demand.delete(c);
    }
  }

  private demandOf(st: AddressState, code: string, now: number): number {
    const d = st.demand.get(code);
    return d && now - d.since < this.o.demandWindowMs ? d.n : 0;
  }

  /**
   * The code that gets the next token: among the waiting codes not yet granted and `asker`
   * (waiting since `askerSince`), the most asked for; ties go to the one waiting longest.
   */
  private topCode(st: AddressState, asker: string, askerSince: number): string {
    const since = new Map<string, number>([[asker, askerSince]]);
    for (const w of st.waiting.values()) {
      if (st.granted.has(w.code)) continue;
      since.set(w.code, Math.min(since.get(w.code) ?? Infinity, w.since));
    }
    const now = st.last;
    let best = asker;
    let bn = -1;
    let bs = Infinity;
    for (const [c, s] of since) {
      const n = this.demandOf(st, c, now);
      if (n > bn || (n === bn && s < bs)) {
        best = c;
        bn = n;
        bs = s;
      }
    }
    return best;
  }

  /**
   * Whether `code` may join the queue: it already waits, or there is room, or it displaces the
   * least-asked waiting code (ties: the one that arrived last), which must be asked for less.
   */
  private makeRoom(st: AddressState, code: string, now: number): boolean {
    if (st.waiting.size >= this.o.maxWaiting) return false;
    const codes = new Map<string, number>();
    for (const w of st.waiting.values()) codes.set(w.code, Math.max(codes.get(w.code) ?? -Infinity, w.since));
    if (codes.has(code) || codes.size < this.o.maxWaitingCodes) return true;
    let victim: string | null = null;
    let vn = Infinity;
    let vs = -Infinity;
    for (const [c, s] of codes) {
      if (st.granted.has(c)) continue;
      const n = this.demandOf(st, c, now);
      if (n < vn || (n === vn && s > vs)) {
        victim = c;
        vn = n;
        vs = s;
      }
    }
    if (victim === null || vn >= this.demandOf(st, code, now)) return false;
    // Its waiters will be treated as fresh asks when they come back (and likely refused).
    for (const [t, w] of st.waiting) if (w.code === victim) st.waiting.delete(t);
    return true;
  }

  private refill(st: AddressState, now: number): void {
    const dt = Math.max(0, now - st.last);
    st.last = Math.max(st.last, now);
    // Calm again once no guess failed for longer than a full budget takes to refill plus the
    // slowest token interval (so a guesser who waits out every slowed token stays slowed).
    if (st.rate < this.baseRate && now - st.lastFailure >= (this.o.freeGuesses + this.o.maxSlowdown) / this.baseRate) st.rate = this.baseRate;
    st.tokens = Math.min(this.o.freeGuesses, st.tokens + dt * st.rate);
  }

  private state(address: string, now: number): AddressState {
    let st = this.addresses.get(address);
    if (st) {
      // Move to the back: the map's order is least recently used first.
      this.addresses.delete(address);
    } else {
      st = { tokens: this.o.freeGuesses, last: now, rate: this.baseRate, lastFailure: -Infinity, good: new Map(), bad: new Map(), granted: new Map(), waiting: new Map(), demand: new Map() };
    }
    this.addresses.set(address, st);
    trim(this.addresses, this.o.maxAddresses);
    return st;
  }

  /** Once a minute: drop expired codes and entries that hold nothing worth keeping. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [a, st] of this.addresses) {
      this.refill(st, now);
      for (const [c, exp] of st.good) if (exp <= now) st.good.delete(c);
      for (const [c, exp] of st.bad) if (exp <= now) st.bad.delete(c);
      for (const [c, at] of st.granted) if (now - at > this.o.grantTimeoutMs) this.release(st, c);
      for (const [t, w] of st.waiting) if (now - w.since > 10 * 60_000) st.waiting.delete(t);
      for (const [c, d] of st.demand) if (now - d.since >= this.o.demandWindowMs) st.demand.delete(c);
      if (st.tokens >= this.o.freeGuesses && st.good.size === 0 && st.bad.size === 0 && st.granted.size === 0 && st.waiting.size === 0 && st.demand.size === 0) this.addresses.delete(a);
    }
  }
}

/** How a caller waits: the clock, and a sleep that resolves false if the client went away meanwhile. */
export interface AdmissionIO {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<boolean>;
}

/** The final answer of `awaitAdmission`. */
export type Admission = { readonly kind: 'evaluate' } | { readonly kind: 'known-bad' } | { readonly kind: 'refuse'; readonly retryAfterMs: number } | { readonly kind: 'gone' };

/**
 * Asks the throttle until it decides, sleeping (through `io`) while it says wait, and cancelling
 * the ticket if the client goes away. The WebSocket edge and the HTTP routes both use it, so a
 * code guessed over HTTP (`GET /api/spaces/:code`) spends the same budget as over a socket.
 */
export async function awaitAdmission(t: JoinThrottle, address: string, code: string, io: AdmissionIO): Promise<Admission> {
  let d = t.admit(address, code, io.now());
  while (d.kind === 'wait') {
    const { ticket, until } = d;
    if (!(await io.sleep(Math.max(0, until - io.now())))) {
      t.cancel(address, ticket);
      return { kind: 'gone' };
    }
    d = t.admit(address, code, io.now(), ticket);
  }
  return d;
}
