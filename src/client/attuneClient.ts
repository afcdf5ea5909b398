/**
 * The one protocol client (SPEC.md §W), for the browser and Node: the web app, the simulator,
 * the tests and the benches all speak to a server through it.
 *
 *   idle ─start─▶ connecting ─open─▶ joining ─welcome─▶ live
 *                   ▲   │               │                │
 *                   │   └────── close / error ───────────┘
 *                   │                   ▼
 *                   └──timer── waiting (back-off: 0.5 s doubling to 10 s, jittered)
 *
 *   any state ─stop/leave, fatal close, full, bye(space-closed|replaced)─▶ stopped
 *
 * It joins (or resumes with a stored token), numbers inputs with increasing `seq`, keeps every
 * input until the server acknowledges it or refuses it by an `error` naming its seq, and sends
 * the kept ones again, in order, after each welcome (W5: a replayed accepted seq is acked again
 * and counted once). An input the server refuses as OVERLOADED (W5b: its database is behind) is
 * kept and sent again after a back-off (0.5 s doubling to 10 s, jittered, reset by the next ack);
 * while it waits, newer inputs wait with it and only the newest is kept (a point's newest value
 * is what the pulse shows; the older ones were never acknowledged, so nothing acknowledged is
 * lost), so a crowd of clients sends less, not more, to a server that is behind. It reconnects
 * on its own (W12) and stops for good on the close codes that
 * no retry can fix (`FATAL_CLOSE_CODES`). A resume token the server no longer knows is
 * forgotten and the participant joins afresh.
 *
 * Everything outside the protocol is injected: the socket factory (`WebSocketLike`), the clock
 * and timers (so tests drive the back-off without sleeping) and the storage of the token and
 * seq (`localStorage` in the browser). It imports only `src/core`.
 */
import * as v from 'valibot';
import { type ErrorCode, fail, isFatal, ok, type Result, wsCloseCodeOf } from '../core/errors.ts';
import {
  type AckMessage,
  type AnyServerMessage,
  type ErrorMessage,
  errorCodeOfClose,
  FATAL_CLOSE_CODES,
  type FullMessage,
  type GroupChosenMessage,
  normaliseCode,
  PointInputSchema,
  type PulseMessage,
  type ServerByeMessage,
  ServerMessageSchema,
  type StoriesMessage,
  type StoryStateMessage,
  TextInputSchema,
  type WelcomeMessage,
} from '../core/protocol.ts';
import { type ConnectSocket, OPEN, type WebSocketLike } from './webSocketLike.ts';

/** Timers and time, injected so tests can drive them (`globalThis` timers by default). */
export interface ClientClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Where a participant's session survives a reload: `localStorage` fits. */
export interface SessionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A point input, as the application gives it (the client adds `t` and `seq`). */
export interface PointInput {
  readonly valence: number;
  readonly arousal: number;
  readonly confidence?: number;
  readonly source?: 'tap' | 'heart';
  /** With `source: 'heart'`: the reading's mean heart rate (SPEC W5; raw beats stay on the device). */
  readonly heart?: { readonly bpm: number };
  /** Whether the person could see the pulse; by default: a pulse arrived recently and `isVisible()`. */
  readonly seen?: boolean;
}

/** A text input (analysed on the server, then discarded). */
export interface TextInput {
  readonly text: string;
  readonly seen?: boolean;
}

/** Either kind of input. */
export type Input = PointInput | TextInput;

/** Where the client is (see the diagram above). */
export type ClientState = 'idle' | 'connecting' | 'joining' | 'live' | 'waiting' | 'stopped';

/** Why a client stopped for good. */
export type StopReason = 'stopped' | 'left' | 'space-closed' | 'replaced' | ErrorCode;

/** A change of state. */
export interface StatusEvent {
  readonly state: ClientState;
  /** Reconnection attempts since the last welcome (0 on the first connection). */
  readonly attempt: number;
  /** While `waiting`: how long until the next attempt, ms. */
  readonly delayMs?: number;
  /** The close code that led here, when a socket closed. */
  readonly closeCode?: number;
  /** When `stopped`: why, and a sentence for people. */
  readonly reason?: StopReason;
  readonly message?: string;
}

/** The events a client emits, by name. */
export interface ClientEvents {
  readonly welcome: WelcomeMessage;
  readonly pulse: PulseMessage;
  readonly ack: AckMessage;
  /**
   * Every coded error; one with `seq` refused that input, which is not sent again — except
   * OVERLOADED (W5b): that input is kept and sent again after a back-off, unless a newer input
   * takes its place first (see {@link AttuneClient.held}).
   */
  readonly error: ErrorMessage;
  readonly full: FullMessage;
  readonly bye: ServerByeMessage;
  readonly status: StatusEvent;
  /** The participant's group choice is stored (R6). */
  readonly group: GroupChosenMessage;
  /** Displays: the gathering display's stories view (SPEC ST10). */
  readonly stories: StoriesMessage;
  /** Participants: one of their own stories changed state or was withdrawn (ST12). */
  readonly story: StoryStateMessage;
}

/** Settings of a client. */
export interface AttuneClientOptions {
  /** The server's WebSocket URL, `ws(s)://host/ws`. */
  readonly url: string;
  /**
   * More nodes of the same cluster (SPEC §K), tried in turn after `url`: each reconnection goes
   * to the next URL of the list, so a client whose node died resumes on another one.
   */
  readonly urls?: readonly string[];
  /** Join code of the space (any case, any separators). */
  readonly code: string;
  readonly role: 'participant' | 'display';
  /** Participants: consent was given on the consent screen (SPEC W3). */
  readonly consent?: boolean;
  /**
   * Participants: the consent text's version (`GET /api/consent`) the person agreed to on this
   * device (V1), sent with join and resume. A server whose text is newer answers
   * `CONSENT_CHANGED`, and the client stops with that reason: show the new text, then start again.
   */
  readonly consentVersion?: string;
  /** Participants: the group chosen at join (R6; null or absent: prefer not to say). */
  readonly group?: string | null;
  /** Opens a socket: `(url) => new WebSocket(url)` in the browser or with `ws`. */
  readonly connect: ConnectSocket;
  readonly clock?: ClientClock;
  /** Random numbers in [0, 1) for the back-off jitter (default Math.random). */
  readonly random?: () => number;
  /** Keeps the resume token and the last seq (default: kept in memory only). */
  readonly storage?: SessionStorage;
  /** Whether the page is visible to its person, for the default `seen` (default always). */
  readonly isVisible?: () => boolean;
  /** A pulse this recent counts as seen, ms (default 10 000, as the server's exposure window). */
  readonly exposureWindowMs?: number;
  /**
   * `all` (default) keeps every unacknowledged input and re-sends each; `latest` keeps only the
   * newest (a phone's point: only the last tap matters).
   */
  readonly keep?: 'all' | 'latest';
  /** Back-off: first delay and ceiling, ms (SPEC W12: 500 and 10 000). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

/** SPEC W12. */
export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 10_000 } as const;

/**
 * The wait before reconnection attempt `attempt` (1, 2, …): the base doubles from `initialMs`
 * up to `maxMs`, and the wait is drawn uniformly from its upper half ("equal jitter"), so that
 * a crowd dropped at once does not come back at once, yet nobody waits less than half the base.
 */
export function backoffDelay(attempt: number, random: () => number, b: { readonly initialMs: number; readonly maxMs: number } = DEFAULT_BACKOFF): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1));
  return base / 2 + random() * (base / 2);
}

const systemClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

/** A storage that forgets on exit (Node, tests). */
export function memoryStorage(): SessionStorage {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, val) => void m.set(k, val), removeItem: (k) => void m.delete(k) };
}

/** The storage keys of one space's session (the web app's keys since its first release). */
export function sessionKeys(code: string): { readonly token: string; readonly seq: string } {
  const c = normaliseCode(code);
  return { token: `attune:${c}:token`, seq: `attune:${c}:seq` };
}

/** Parses one server frame; null when it is not a server message this client knows. */
export function parseServerFrame(data: unknown): AnyServerMessage | null {
  if (typeof data !== 'string') return null;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return null;
  }
  // Pulses are the bulk (20 a second on a display): checked by tag and counters, not walked.
  const p = raw as { t?: unknown; seq?: unknown; count?: unknown };
  if (p !== null && typeof p === 'object' && p.t === 'pulse') return typeof p.seq === 'number' && typeof p.count === 'number' ? (raw as PulseMessage) : null;
  return v.is(ServerMessageSchema, raw) ? (raw as AnyServerMessage) : null;
}

type Listener<K extends keyof ClientEvents> = (e: ClientEvents[K]) => void;
type ListenerTable = { [K in keyof ClientEvents]?: Listener<K>[] };

/** A self-healing connection to one space, as one participant or one display. */
export class AttuneClient {
  readonly code: string;
  readonly role: 'participant' | 'display';
  #o: AttuneClientOptions;
  #clock: ClientClock;
  #random: () => number;
  #storage: SessionStorage;
  #keys: { readonly token: string; readonly seq: string };
  #listeners: ListenerTable = {};
  #state: ClientState = 'idle';
  #ws: WebSocketLike | null = null;
  #timer: unknown = null;
  #attempt = 0;
  /** The group the participant wants (R6). */
  #group: string | null = null;
  /** A group chosen while not live, to send after the next welcome. */
  #groupPending = false;
  /** The participant's group as the server last confirmed it (or as chosen at join). */
  get group(): string | null {
    return this.#group;
  }
  /**
   * The participant's secret resume token, once a welcome gave one: it also authorises this
   * participant's own story calls over HTTP (SPEC ST2, src/client/storiesClient.ts). Null before.
   */
  get token(): string | null {
    return this.role === 'participant' ? this.#storage.getItem(this.#keys.token) : null;
  }
  #seq: number;
  /** Which of `[url, ...urls]` the next connection goes to. */
  #node = 0;
  /** Unacknowledged inputs by seq, in seq order (Map keeps insertion order). */
  #pending = new Map<number, string>();
  /** Whether the current socket resumed (a NOT_FOUND then means: join afresh). */
  #resuming = false;
  #end: { reason: StopReason; message: string } | null = null;
  #lastPulseAt = Number.NEGATIVE_INFINITY;
  #welcome: WelcomeMessage | null = null;
  /** The input refused as OVERLOADED (W5b) that waits for {@link #holdTimer} to be sent again. */
  #held: number | null = null;
  /** While set, new inputs are held instead of sent (the server said it is behind). */
  #holdTimer: unknown = null;
  /** OVERLOADED refusals since the last ack: the back-off's attempt. */
  #overloaded = 0;

  constructor(o: AttuneClientOptions) {
    this.#o = o;
    this.code = normaliseCode(o.code);
    this.role = o.role;
    this.#group = o.group ?? null;
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? Math.random;
    this.#storage = o.storage ?? memoryStorage();
    this.#keys = sessionKeys(this.code);
    const stored = Number(this.#storage.getItem(this.#keys.seq) ?? '0');
    this.#seq = Number.isSafeInteger(stored) && stored > 0 ? stored : 0;
  }

  /** The URL the client connects (or connected) to now. */
  get url(): string {
    const all = this.#o.urls?.length ? [this.#o.url, ...this.#o.urls] : null;
    return all ? (all[this.#node % all.length] as string) : this.#o.url;
  }

  /** Where the client is now. */
  get state(): ClientState {
    return this.#state;
  }

  /** The last welcome (null before the first). */
  get welcome(): WelcomeMessage | null {
    return this.#welcome;
  }

  /** The highest seq this client has assigned. */
  get seq(): number {
    return this.#seq;
  }

  /** Inputs sent but neither acknowledged nor refused yet, by seq. */
  get pending(): readonly number[] {
    return [...this.#pending.keys()];
  }

  /** The input waiting to be sent again after an OVERLOADED refusal (W5b), or null. */
  get held(): number | null {
    return this.#held;
  }

  /** Listens to one kind of event; returns the function that stops listening. */
  on<K extends keyof ClientEvents>(type: K, fn: Listener<K>): () => void {
    const list: Listener<K>[] = (this.#listeners[type] as Listener<K>[] | undefined) ?? [];
    this.#listeners[type] = list as ListenerTable[K];
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Opens the connection, and keeps it open until `stop`, `leave` or a fatal close. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#open();
  }

  /**
   * Queues an input and sends it now if the client is live. It is kept until acknowledged or
   * refused, and sent again after every reconnection. Returns its seq, or a BAD_REQUEST failure
   * (nothing queued) when the server would refuse its shape (SPEC W2, W5).
   */
  send(input: Input): Result<number> {
    if (this.role !== 'participant') return fail('BAD_REQUEST', 'only participants send inputs');
    if (this.#state === 'stopped') return fail('BAD_REQUEST', 'the client has stopped');
    const seq = this.#seq + 1;
    const seen = input.seen ?? (this.#clock.now() - this.#lastPulseAt < (this.#o.exposureWindowMs ?? 10_000) && (this.#o.isVisible?.() ?? true));
    const msg = 'text' in input ? { t: 'input' as const, seq, text: input.text, seen } : { t: 'input' as const, seq, valence: input.valence, arousal: input.arousal, ...(input.confidence !== undefined ? { confidence: input.confidence } : {}), ...(input.source ? { source: input.source } : {}), ...(input.heart ? { heart: { bpm: input.heart.bpm } } : {}), seen };
    const checked = v.safeParse('text' in msg ? TextInputSchema : PointInputSchema, msg);
    if (!checked.success) {
      const issue = checked.issues[0];
      return fail('BAD_REQUEST', `${issue?.path?.map((p) => String(p.key)).join('.') ?? 'input'}: ${issue?.message ?? 'invalid'}`);
    }
    this.#seq = seq;
    this.#storage.setItem(this.#keys.seq, String(seq));
    if (this.#o.keep === 'latest') this.#pending.clear();
    const frame = JSON.stringify(msg);
    this.#pending.set(seq, frame);
    // The server is behind (W5b): this input waits with the refused one, in its place.
    if (this.#holdTimer !== null) this.#hold(seq);
    else if (this.#state === 'live') this.#transmit(frame);
    return ok(seq);
  }

  /**
   * Chooses, changes or drops (null) the participant's group (R6). Sent now when live, else on
   * the next welcome; the server answers with a `group` event once the choice is stored.
   */
  setGroup(group: string | null): void {
    this.#group = group;
    if (this.#state === 'live' && this.#ws?.readyState === OPEN) this.#ws.send(JSON.stringify({ t: 'group', group }));
    else this.#groupPending = true;
  }

  /** Leaves the space: `bye` (the point leaves the pulse at once), forget the session, stop. */
  leave(): void {
    if (this.#ws?.readyState === OPEN) this.#ws.send('{"t":"bye"}');
    this.#storage.removeItem(this.#keys.token);
    this.#storage.removeItem(this.#keys.seq);
    this.#pending.clear();
    this.#held = null;
    this.#finish({ reason: 'left', message: 'You left.' }, false);
  }

  /** Closes for good (the point stays until its TTL, as when a phone goes to sleep). */
  stop(): void {
    this.#finish({ reason: 'stopped', message: 'Closed.' }, true);
  }

  // ——— internals ————————————————————————————————————————————————————————————————

  #emit<K extends keyof ClientEvents>(type: K, e: ClientEvents[K]): void {
    const list = this.#listeners[type] as Listener<K>[] | undefined;
    if (!list) return;
    for (const fn of [...list]) fn(e);
  }

  #setState(state: ClientState, extra: Omit<StatusEvent, 'state' | 'attempt'> = {}): void {
    this.#state = state;
    this.#emit('status', { state, attempt: this.#attempt, ...extra });
  }

  #transmit(frame: string): void {
    if (this.#ws?.readyState === OPEN) this.#ws.send(frame);
  }

  /** Keeps `seq` as the one input to send again (W5b); an older held one is given up, a newer one wins. */
  #hold(seq: number): void {
    if (this.#held !== null && this.#held > seq) {
      this.#pending.delete(seq);
      return;
    }
    if (this.#held !== null && this.#held !== seq) this.#pending.delete(this.#held);
    this.#held = seq;
  }

  /** The back-off after OVERLOADED is over: the held input goes again (or at the next welcome, if not live). */
  #release(): void {
    this.#holdTimer = null;
    const seq = this.#held;
    if (seq === null || this.#state !== 'live') return;
    this.#held = null;
    const frame = this.#pending.get(seq);
    if (frame !== undefined) this.#transmit(frame);
  }

  #cancelHold(): void {
    if (this.#holdTimer !== null) this.#clock.clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
    this.#held = null;
  }

  #open(): void {
    this.#timer = null;
    this.#end = null;
    this.#setState('connecting');
    let ws: WebSocketLike;
    try {
      ws = this.#o.connect(this.url);
    } catch {
      this.#wait(undefined);
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      const token = this.role === 'participant' ? this.#storage.getItem(this.#keys.token) : null;
      this.#resuming = token !== null;
      this.#setState('joining');
      const version = this.role === 'participant' && this.#o.consentVersion !== undefined ? { consentVersion: this.#o.consentVersion } : {};
      ws.send(JSON.stringify(token !== null ? { t: 'resume', token, ...version } : { t: 'join', code: this.code, role: this.role, consent: this.#o.consent ?? false, ...(this.#group !== null ? { group: this.#group } : {}), ...version }));
    };
    ws.onmessage = (ev) => {
      if (this.#ws !== ws) return;
      const m = parseServerFrame(ev.data);
      if (m) this.#onMessage(m);
    };
    ws.onerror = () => {
      // A close event follows every error; the decision is taken there.
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#onClose(ev.code, ev.reason);
    };
  }

  #onClose(code: number, reason: string): void {
    if (this.#state === 'stopped') return;
    if (this.#end || FATAL_CLOSE_CODES.has(code)) {
      const known = errorCodeOfClose(code);
      this.#finish(this.#end ?? { reason: known ?? 'INTERNAL', message: reason || `closed (${code})` }, false, code);
      return;
    }
    this.#wait(code);
  }

  #wait(closeCode: number | undefined): void {
    this.#attempt++;
    // A cluster's other nodes (§K): the next attempt goes to the next one.
    if (this.#o.urls?.length) this.#node++;
    const delayMs = backoffDelay(this.#attempt, this.#random, this.#o.backoff ?? DEFAULT_BACKOFF);
    this.#timer = this.#clock.setTimeout(() => this.#open(), delayMs);
    this.#setState('waiting', { delayMs, ...(closeCode !== undefined ? { closeCode } : {}) });
  }

  #finish(end: { reason: StopReason; message: string }, close: boolean, closeCode?: number): void {
    if (this.#state === 'stopped') return;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#cancelHold();
    if (close || this.#ws?.readyState === OPEN) this.#drop(end.reason);
    else this.#detach();
    this.#setState('stopped', { reason: end.reason, message: end.message, ...(closeCode !== undefined ? { closeCode } : {}) });
  }

  /** Forgets the current socket: its late events are ignored. */
  #detach(): WebSocketLike | null {
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Not null: `ws` emits 'error' when a socket still connecting is closed, and an 'error'
      // nobody listens to would throw in Node.
      ws.onerror = () => {};
    }
    return ws;
  }

  /** Closes the current socket from this side. */
  #drop(reason: string): void {
    this.#detach()?.close(1000, reason);
  }

  #onMessage(m: AnyServerMessage): void {
    switch (m.t) {
      case 'pulse':
        this.#lastPulseAt = this.#clock.now();
        this.#emit('pulse', m);
        return;
      case 'welcome': {
        this.#attempt = 0;
        this.#welcome = m;
        if (m.token) this.#storage.setItem(this.#keys.token, m.token);
        if (m.lastSeq > this.#seq) {
          this.#seq = m.lastSeq;
          this.#storage.setItem(this.#keys.seq, String(m.lastSeq));
        }
        this.#setState('live');
        this.#emit('welcome', m);
        // A group chosen while away (or before a resume) goes now, if the server has another.
        if (this.#groupPending && (m.group ?? null) !== this.#group) this.#ws?.send(JSON.stringify({ t: 'group', group: this.#group }));
        else if (!this.#groupPending) this.#group = m.group ?? null;
        this.#groupPending = false;
        // Everything not yet acknowledged goes again, in order; the server acks an accepted
        // seq again without counting it twice, and refuses one it never accepted (W5). A held
        // input (W5b) goes with them: a new socket (often another node) starts afresh.
        this.#cancelHold();
        for (const frame of this.#pending.values()) this.#transmit(frame);
        return;
      }
      case 'ack':
        this.#pending.delete(m.seq);
        this.#overloaded = 0;
        // A newer seq was accepted: the held older one would be refused as below the highest (W5).
        if (this.#held !== null && this.#held < m.seq) {
          this.#pending.delete(this.#held);
          this.#held = null;
        }
        this.#emit('ack', m);
        return;
      case 'error':
        if (m.code === 'NOT_FOUND' && this.#resuming && this.#state === 'joining') {
          // An unknown resume token (expired, erased, another server): forget it and join
          // afresh at once on a new socket (not a failure of the server: no back-off).
          this.#storage.removeItem(this.#keys.token);
          this.#drop('rejoin');
          this.#open();
          return;
        }
        if (m.code === 'OVERLOADED' && m.seq !== undefined && this.#pending.has(m.seq)) {
          // W5b: not counted, not stored; kept and sent again after a back-off.
          this.#hold(m.seq);
          if (this.#holdTimer === null) this.#holdTimer = this.#clock.setTimeout(() => this.#release(), backoffDelay(++this.#overloaded, this.#random, this.#o.backoff ?? DEFAULT_BACKOFF));
          this.#emit('error', m);
          return;
        }
        if (m.seq !== undefined) this.#pending.delete(m.seq);
        if (isFatal(m.code) && FATAL_CLOSE_CODES.has(wsCloseCodeOf(m.code))) this.#end = { reason: m.code, message: m.message };
        this.#emit('error', m);
        // V1: no retry can fix an older consent: the person must read the new text first.
        if (m.code === 'CONSENT_CHANGED' && this.#state === 'joining') this.#finish({ reason: m.code, message: m.message }, true);
        return;
      case 'group':
        this.#group = m.group;
        this.#emit('group', m);
        return;
      case 'stories':
        this.#emit('stories', m);
        return;
      case 'story':
        this.#emit('story', m);
        return;
      case 'full':
        this.#end = { reason: 'SPACE_FULL', message: m.message };
        this.#emit('full', m);
        return;
      case 'bye':
        if (m.reason !== 'shutdown') this.#end = { reason: m.reason, message: m.reason === 'replaced' ? 'This session continued in another tab or device.' : m.reason === 'left' ? 'You left.' : 'The steward closed this space.' };
        this.#emit('bye', m);
        return;
    }
  }
}
