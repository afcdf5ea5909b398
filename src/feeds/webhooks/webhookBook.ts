/**
 * Signed webhooks (ARTISTS.md "Webhooks"): a space's steward subscribes URLs to its alerts
 * (raised and cleared, from the released pulse's collective state), decisions (the space closing,
 * council decisions), display-mode changes and the notifications of `notify` policies (SPEC Q5). Each delivery is a
 * JSON POST signed like Stripe's and Standard Webhooks' schemes:
 *
 *   attune-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *
 * so a receiver checks the MAC over the exact bytes and refuses stale timestamps (replays). A
 * delivery that fails (network error, timeout, 408, 429 or 5xx) is retried with exponential
 * back-off — 1 s, 2 s, 4 s, 8 s, 16 s — on the host's scheduler, then given up; 4xx other than
 * 408/429 is final. The last deliveries per space are kept as a log for the steward page.
 *
 * Subscriptions and the delivery log are kept through the Storage port (SPEC S13) when one is
 * given: a subscription is stored before it is in force, and a restarted server loads them
 * ({@link WebhookBook.load}). Secrets are never stored: each is HMAC-SHA256 of the server's feed
 * key over the space and subscription ids ({@link webhookSecret}), so a copy of the database
 * without the key file signs nothing, and the same key gives back the same secrets after a
 * restart. Retries pending at a shutdown are not resumed (the log shows them as `retrying`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Bus, Disposable } from '../../bus/port.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { Cancel, Scheduler } from '../../space/scheduler.ts';
import type { Storage, WebhookDeliveryRecord } from '../../storage/port.ts';
import type { DisplayModeBook } from '../displayModes.ts';
import type { FeedDelivery } from '../feedDelivery.ts';
import { subscribeReleasedViews } from '../releasedViews.ts';

/** Kinds of webhook event. */
export const WEBHOOK_EVENTS = ['alert', 'decision', 'display.mode', 'notify'] as const;
/** A kind of webhook event. */
export type WebhookEventKind = (typeof WEBHOOK_EVENTS)[number];

/** A subscription as the steward sees it (the secret only once, when created). */
export interface WebhookInfo {
  readonly id: string;
  readonly url: string;
  readonly events: readonly WebhookEventKind[];
  readonly createdAt: number;
}

/** One line of the delivery log: a stored attempt (S13) without its space, of a known kind. */
export type DeliveryRecord = Omit<WebhookDeliveryRecord, 'spaceId' | 'event'> & { readonly event: WebhookEventKind };

/** The body of a delivery. */
export interface WebhookPayload {
  readonly id: string;
  readonly event: WebhookEventKind;
  /** e.g. `alert.raised`, `alert.cleared`, `space.closed`, `policy.fired`, `display.mode`, `notify.steward`. */
  readonly type: string;
  readonly space: string;
  readonly at: number;
  readonly data: unknown;
}

/** Retry delays after attempt 1, 2, …, ms (then it is given up). */
export const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 16000] as const;
/** Deliveries kept in each space's log. */
export const DELIVERY_LOG_SIZE = 50;
/** Most subscriptions per space. */
export const MAX_WEBHOOKS = 10;

/**
 * A subscription's signing secret: `whsec_` and base64url of HMAC-SHA256(feed key,
 * "attune-webhook-secret/v1" NUL space id NUL webhook id). Derived, never stored.
 */
export function webhookSecret(key: Uint8Array | string, spaceId: string, webhookId: string): string {
  return `whsec_${createHmac('sha256', key).update(`attune-webhook-secret/v1\u0000${spaceId}\u0000${webhookId}`).digest('base64url')}`;
}

const isEventKind = (e: string): e is WebhookEventKind => (WEBHOOK_EVENTS as readonly string[]).includes(e);

/** The `attune-signature` header value for a body sent at unix second `t`. */
export function signWebhook(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Settings of the book. */
export interface WebhookBookOptions {
  readonly bus: Bus;
  readonly scheduler: Scheduler;
  readonly modes?: DisplayModeBook;
  /** The HTTP client (default global fetch). */
  readonly fetch?: typeof fetch;
  /** Per-attempt timeout, ms (real time: it bounds a socket, default 10 s). */
  readonly timeoutMs?: number;
  /**
   * The wall clock signatures are stamped with (default Date.now): receivers compare it with
   * their own clock, so it is not the scheduler's time (a rehearsal runs in recorded time).
   */
  readonly wallClock?: () => number;
  /** Code of a space by id (mode changes carry only the id). */
  readonly codeOf?: (spaceId: string) => string | undefined;
  /** Where subscriptions and the delivery log are kept (S13); without it they live in memory only. */
  readonly storage?: Storage;
  /** The key secrets are derived from (default: random, so secrets last as long as the process). */
  readonly secretKey?: Uint8Array | string;
  /** Where a failed write of the delivery log is reported. */
  readonly report?: (message: string) => void;
  /**
   * Which alerts and closings this node delivers (a cluster: the pulses it published, the
   * closes it applied; F8); default every one. With it, the delivery log is read from storage,
   * where every node appends its attempts.
   */
  readonly delivery?: FeedDelivery;
}

interface Sub extends WebhookInfo {
  readonly secret: string;
}

interface SpaceBook {
  readonly spaceId: string;
  code: string;
  readonly subs: Sub[];
  readonly log: DeliveryRecord[];
}

const newId = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/** Webhook subscriptions and deliveries of every space. */
export class WebhookBook {
  private readonly o: WebhookBookOptions;
  private readonly spaces = new Map<string, SpaceBook>();
  private readonly subs: Disposable[] = [];
  private readonly timers = new Set<Cancel>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly key: Uint8Array | string;
  /** Per space, subscriptions being stored (counted against the limit). */
  private readonly adding = new Map<string, number>();
  private closed = false;

  constructor(o: WebhookBookOptions) {
    this.o = o;
    this.key = o.secretKey ?? randomBytes(32);
    this.subs.push(
      subscribeReleasedViews(o.bus, '*', ({ spaceId, view }) => {
        const book = this.spaces.get(spaceId);
        if (!book || !view.collective || (o.delivery && !o.delivery.pulse(spaceId, view.seq))) return;
        for (const m of view.collective.events) {
          if (m.type === 'updated') continue;
          this.emit(spaceId, 'alert', `alert.${m.type}`, m.at, m.alert);
        }
      }),
    );
    this.subs.push(
      o.bus.subscribe('space.>', (bytes, subject) => {
        const m = /^space\.([^.]+)\.control$/.exec(subject);
        if (!m?.[1]) return;
        const spaceId = m[1];
        if (o.delivery && !o.delivery.closed(spaceId)) return;
        let msg: { t?: string; reason?: string } = {};
        try {
          msg = JSON.parse(new TextDecoder().decode(bytes)) as typeof msg;
        } catch {}
        if (msg.t === 'bye' && msg.reason === 'space-closed') this.emit(spaceId, 'decision', 'space.closed', o.scheduler.now(), { reason: 'closed by its steward' });
      }),
    );
    // A mode another node applied is announced by that node's webhooks (F8).
    if (o.modes) this.subs.push(o.modes.listen((spaceId, choice, synced) => (synced ? undefined : this.emit(spaceId, 'display.mode', 'display.mode', choice.at, choice))));
  }

  /**
   * Subscribes a URL; returns the subscription with its signing secret (shown only now). With a
   * storage, it is in force only once stored (UNAVAILABLE if the write fails).
   */
  async add(spaceId: string, code: string, url: string, events: readonly WebhookEventKind[] = WEBHOOK_EVENTS): Promise<Result<WebhookInfo & { secret: string }>> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return fail('BAD_REQUEST', 'url must be an absolute URL');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return fail('BAD_REQUEST', 'a webhook URL must be http: or https:');
    if (u.username || u.password) return fail('BAD_REQUEST', 'put no credentials in a webhook URL; verify the signature instead');
    const adding = this.adding.get(spaceId) ?? 0;
    if ((this.spaces.get(spaceId)?.subs.length ?? 0) + adding >= MAX_WEBHOOKS) return fail('BAD_REQUEST', `at most ${MAX_WEBHOOKS} webhooks per space`);
    const info: WebhookInfo = { id: newId('wh'), url: u.toString(), events: [...new Set(events)], createdAt: this.o.scheduler.now() };
    if (this.o.storage) {
      this.adding.set(spaceId, adding + 1);
      try {
        await this.o.storage.addWebhook({ spaceId, ...info });
      } catch (e) {
        this.o.report?.(`could not store a webhook: ${e instanceof Error ? e.message : String(e)}`);
        return fail('UNAVAILABLE', 'the webhook could not be stored; try again');
      } finally {
        const n = (this.adding.get(spaceId) ?? 1) - 1;
        if (n > 0) this.adding.set(spaceId, n);
        else this.adding.delete(spaceId);
      }
    }
    const sub = this.adopt(spaceId, code, info);
    return ok({ ...info, secret: sub.secret });
  }

  private adopt(spaceId: string, code: string, info: WebhookInfo): Sub {
    const book = this.spaces.get(spaceId) ?? { spaceId, code, subs: [], log: [] };
    const sub: Sub = { ...info, secret: webhookSecret(this.key, spaceId, info.id) };
    book.subs.push(sub);
    this.spaces.set(spaceId, book);
    return sub;
  }

  /**
   * Loads the stored subscriptions and delivery logs of the spaces in `codes` (id → join code:
   * the open spaces; others stay stored but idle). Returns the ids of the spaces with a
   * subscription.
   */
  async load(codes: ReadonlyMap<string, string>): Promise<string[]> {
    const storage = this.o.storage;
    if (!storage) return [];
    for (const w of await storage.listWebhooks()) {
      const code = codes.get(w.spaceId);
      if (code === undefined || this.spaces.get(w.spaceId)?.subs.some((s) => s.id === w.id)) continue;
      this.adopt(w.spaceId, code, { id: w.id, url: w.url, events: w.events.filter(isEventKind), createdAt: w.createdAt });
    }
    for (const [spaceId, book] of this.spaces) {
      if (book.log.length > 0) continue;
      for (const d of await storage.listWebhookDeliveries(spaceId, DELIVERY_LOG_SIZE)) {
        const { spaceId: _id, event, ...rest } = d;
        if (isEventKind(event)) book.log.push({ ...rest, event });
      }
    }
    return [...this.spaces.entries()].filter(([, b]) => b.subs.length > 0).map(([id]) => id);
  }

  /** Removes a subscription (from storage first, when there is one). */
  async remove(spaceId: string, id: string): Promise<Result<true>> {
    const book = this.spaces.get(spaceId);
    if (!book?.subs.some((s) => s.id === id)) return fail('NOT_FOUND', 'no such webhook');
    if (this.o.storage) {
      try {
        await this.o.storage.removeWebhook(id);
      } catch (e) {
        this.o.report?.(`could not remove a webhook: ${e instanceof Error ? e.message : String(e)}`);
        return fail('UNAVAILABLE', 'the webhook could not be removed; try again');
      }
    }
    const i = book.subs.findIndex((s) => s.id === id);
    if (i >= 0) book.subs.splice(i, 1);
    return ok(true);
  }

  /** A space's subscriptions (without secrets). */
  list(spaceId: string): WebhookInfo[] {
    return (this.spaces.get(spaceId)?.subs ?? []).map(({ secret: _s, ...info }) => info);
  }

  /** A space's delivery log as this node made it, newest first. */
  deliveries(spaceId: string): readonly DeliveryRecord[] {
    return [...(this.spaces.get(spaceId)?.log ?? [])].reverse();
  }

  /**
   * A space's delivery log for the steward, newest first: this node's ({@link deliveries}), or on
   * a cluster (a `delivery` given, and storage) the stored log every node appends to, since the
   * node that delivers a space's alerts is its tick owner, not the node the steward asks.
   */
  async listDeliveries(spaceId: string): Promise<readonly DeliveryRecord[]> {
    if (!this.o.delivery || !this.o.storage) return this.deliveries(spaceId);
    const out: DeliveryRecord[] = [];
    for (const d of await this.o.storage.listWebhookDeliveries(spaceId, DELIVERY_LOG_SIZE)) {
      const { spaceId: _id, event, ...rest } = d;
      if (isEventKind(event)) out.push({ ...rest, event });
    }
    return out.reverse();
  }

  /**
   * Puts the stored subscriptions of one space in force again (another node of a cluster changed
   * them, F8): new ones are adopted, removed ones dropped, the others kept as they are (with their
   * retries). Returns how many the space has now.
   */
  async reload(spaceId: string, code: string): Promise<number> {
    const storage = this.o.storage;
    if (!storage) return this.spaces.get(spaceId)?.subs.length ?? 0;
    const stored = (await storage.listWebhooks()).filter((w) => w.spaceId === spaceId);
    const book = this.spaces.get(spaceId);
    if (book) {
      const keep = new Set(stored.map((w) => w.id));
      for (let i = book.subs.length - 1; i >= 0; i--) if (!keep.has((book.subs[i] as Sub).id)) book.subs.splice(i, 1);
    }
    for (const w of stored) {
      if (this.spaces.get(spaceId)?.subs.some((s) => s.id === w.id)) continue;
      this.adopt(spaceId, code, { id: w.id, url: w.url, events: w.events.filter(isEventKind), createdAt: w.createdAt });
    }
    return this.spaces.get(spaceId)?.subs.length ?? 0;
  }

  /** Sends an event to every subscription of the space that wants it. */
  emit(spaceId: string, event: WebhookEventKind, type: string, at: number, data: unknown): void {
    const book = this.spaces.get(spaceId);
    if (!book || this.closed) return;
    const code = this.o.codeOf?.(spaceId) ?? book.code;
    for (const sub of book.subs) {
      if (!sub.events.includes(event)) continue;
      const payload: WebhookPayload = { id: newId('evt'), event, type, space: code, at, data };
      this.attempt(book, sub, payload, JSON.stringify(payload), 1);
    }
  }

  private log(book: SpaceBook, r: DeliveryRecord): void {
    book.log.push(r);
    if (book.log.length > DELIVERY_LOG_SIZE) book.log.splice(0, book.log.length - DELIVERY_LOG_SIZE);
    this.o.storage?.appendWebhookDeliveries([{ spaceId: book.spaceId, ...r }], DELIVERY_LOG_SIZE).catch((e: unknown) => this.o.report?.(`could not store a webhook delivery: ${e instanceof Error ? e.message : String(e)}`));
  }

  private attempt(book: SpaceBook, sub: Sub, payload: WebhookPayload, body: string, attempt: number): void {
    if (this.closed || !book.subs.includes(sub)) return;
    const t = Math.floor((this.o.wallClock ?? Date.now)() / 1000);
    const doFetch = this.o.fetch ?? fetch;
    const p = doFetch(sub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'attune-webhooks/1', 'attune-event': payload.type, 'attune-delivery': payload.id, 'attune-attempt': String(attempt), 'attune-signature': signWebhook(sub.secret, t, body) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
    }).then(
      async (res) => {
        await res.body?.cancel().catch(() => {});
        this.settle(book, sub, payload, body, attempt, res.status, res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`);
      },
      (e: unknown) => this.settle(book, sub, payload, body, attempt, null, e instanceof Error ? (e.name === 'TimeoutError' ? 'timed out' : e.message) : String(e)),
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private settle(book: SpaceBook, sub: Sub, payload: WebhookPayload, body: string, attempt: number, status: number | null, error: string | null): void {
    const at = this.o.scheduler.now();
    const base = { delivery: payload.id, webhook: sub.id, event: payload.event, type: payload.type, attempt, at, status };
    if (error === null) {
      this.log(book, { ...base, outcome: 'delivered' });
      return;
    }
    const delay = RETRY_DELAYS_MS[attempt - 1];
    if (delay === undefined || (status !== null && !retryable(status)) || this.closed) {
      this.log(book, { ...base, outcome: 'failed', error });
      return;
    }
    const nextAttemptAt = at + delay;
    this.log(book, { ...base, outcome: 'retrying', error, nextAttemptAt });
    const timer = this.o.scheduler.at(nextAttemptAt, () => {
      this.timers.delete(timer);
      this.attempt(book, sub, payload, body, attempt + 1);
    });
    this.timers.add(timer);
  }

  /** Resolves once every attempt under way has settled (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops: no further attempts; waits for those under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.subs.splice(0)) s.dispose();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    await this.idle();
  }
}
