/**
 * The WebSocket edge (SPEC.md §W): frames ↔ protocol messages ↔ the space host.
 *
 * Each connection is a small state machine with a serial frame queue — frames are handled one
 * at a time, in the order they arrived, so an `input` and a `bye` in one TCP read are stepped in
 * that order (W7):
 *
 *   connecting ──join/resume stepped──▶ joined ──bye──▶ leaving ──▶ closed
 *        │                                 │                          ▲
 *        └── fatal error / socket closed ──┴──────────────────────────┘
 *
 * Every frame is size-limited (ws maxPayload → close 1009), rate-limited on arrival (token bucket;
 * excess is answered RATE_LIMITED and dropped before it is queued), parsed and validated before
 * it reaches the host. Pulses arrive on the bus already encoded; the same bytes go to every
 * socket of a space, in slices of `fanoutSlice` sockets per event-loop turn so ticks, acks and
 * commits interleave with a large fan-out; a socket whose send buffer is backed up skips a pulse
 * (W9), and a pulse published while a pass runs goes out in the next pass.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import * as v from 'valibot';
import * as wsLib from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { addressKey, clientIp } from '../core/clientAddress.ts';
import { type ErrorCode, isFatal, wsCloseCodeOf } from '../core/errors.ts';
import { awaitAdmission, JoinThrottle } from '../core/joinThrottle.ts';
import { ByeSchema, CLIENT_TYPES, type ClientMessage, GroupSchema, JoinSchema, MAX_CLIENT_FRAME_BYTES, normaliseCode, PointInputSchema, ResumeSchema, TextInputSchema } from '../core/protocol.ts';
import { TokenBucket } from '../core/rateLimit.ts';
import type { ConnRef } from '../core/space/events.ts';
import type { Disposable } from '../bus/port.ts';
import type { Cancel, Scheduler } from '../space/scheduler.ts';
import { type ConnSink, type Session, type SpaceHost, subjects } from '../space/spaceHost.ts';

/** Settings of the edge. */
export interface WsEdgeOptions {
  readonly host: SpaceHost;
  /** Messages per second per connection (sustained). */
  readonly ratePerSec?: number;
  /** Burst allowance per connection. */
  readonly burst?: number;
  /** An input counts as exposed if a pulse reached the socket within this window, ms. */
  readonly exposureWindowMs?: number;
  /** Interval of WebSocket pings; a socket that misses one is terminated. */
  readonly pingIntervalMs?: number;
  /** A socket with more than this many bytes queued skips pulses. */
  readonly maxBufferedBytes?: number;
  /** New unknown join codes an address may try per minute, after a burst as large (W13). */
  readonly failedJoinsPerMinute?: number;
  /** The join-guessing throttle (W13); default one built from `failedJoinsPerMinute`. */
  readonly joinThrottle?: JoinThrottle;
  /** Trusted reverse proxies in front of the server, for `X-Forwarded-For` (0 = none). */
  readonly trustProxyHops?: number;
  /** Sockets written per event-loop turn during a fan-out. */
  readonly fanoutSlice?: number;
  /** Told about inputs, acks and skipped pulses (metrics, SPEC O1). */
  readonly observer?: WsEdgeObserver;
  /** The edge's time (pings, join waits, fan-out slices); default the host's. */
  readonly scheduler?: Scheduler;
}

/** What the edge reports as it works (src/server/metrics.ts implements it). */
export interface WsEdgeObserver {
  /** A participant's input was handed to the host. */
  inputReceived(): void;
  /** An input was acknowledged, `ms` after its frame was handled. */
  inputAcked(ms: number): void;
  /** A pulse was not sent to a socket whose send buffer was backed up (W9). */
  pulseSkipped(role: 'participant' | 'display'): void;
  /** A pulse waiting for the fan-out pass before it was replaced by a newer one: `sockets` never got it (W9). */
  pulseSuperseded(role: 'participant' | 'display', sockets: number): void;
  /** The host refused an input because its durable writes are behind (OVERLOADED, W5b). */
  inputOverloaded(): void;
}

/** Every ack frame starts so (machine.ts builds it `{ t, seq, affect }`); the seq follows. */
const ACK_PREFIX = '{"t":"ack","seq":';

type ConnPhase = 'connecting' | 'joining' | 'joined' | 'leaving' | 'closed';

/**
 * What a connection calls on its edge. One object per edge, shared by all its connections, so a
 * connection carries no closures of its own (with 20,000 sockets, every per-socket closure and
 * its context is ≈ 0.1 KB × 20,000).
 */
interface EdgeHooks {
  /** A text or binary frame arrived. */
  frame(c: Conn, data: Buffer, isBinary: boolean): void;
  /** The socket closed or failed. */
  gone(c: Conn): void;
  /** The host sent a frame to the connection (after it went out). */
  sent(c: Conn, frame: string | Uint8Array): void;
  /** The host welcomed the connection into a session. */
  welcomed(c: Conn, session: Session): void;
}

/**
 * One connection: its state for the edge, and the host's sink for it ({@link ConnSink}, as
 * methods on the class rather than closures per socket).
 */
class Conn implements ConnSink {
  readonly ws: EdgeSocket;
  readonly hooks: EdgeHooks;
  ref: ConnRef = -1;
  /** The client's address key, for per-address limits. */
  readonly address: string;
  readonly bucket: TokenBucket;
  phase: ConnPhase = 'connecting';
  session: Session | null = null;
  /** The serial frame queue: each frame's handling chains on the previous one. */
  queue: Promise<void> = Promise.resolve();
  /** A join waiting for a guess token (W13): wakes it early when the socket closes. */
  waiting: { readonly timer: Cancel; readonly wake: () => void } | null = null;
  lastPulseAt = -Infinity;
  lastRateNoticeAt = -Infinity;
  alive = true;
  /**
   * With an observer: when each unacknowledged input's frame was handled, as a flat list
   * `[seq, ms, seq, ms, …]` (ms: performance.now) — usually empty or one input, so a list made
   * on the first input and dropped once empty, not a Map per socket.
   */
  inputsAt: number[] | null = null;

  constructor(ws: EdgeSocket, hooks: EdgeHooks, address: string, bucket: TokenBucket) {
    this.ws = ws;
    this.hooks = hooks;
    this.address = address;
    this.bucket = bucket;
  }

  send(frame: string | Uint8Array): void {
    this.hooks.sent(this, frame);
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(frame, { binary: false });
  }

  /**
   * Sends frames back to back as one write: ws corks the socket around each frame's header and
   * payload, and corked once more here they all leave in the last uncork's one writev — a
   * welcome and the space's last pulse cost one syscall, not two (measured with ws on loopback,
   * 2026-12-02: ≈ 16–26 → ≈ 8–11 µs of the sender's CPU per welcome and pulse).
   */
  sendAll(frames: readonly (string | Uint8Array)[]): void {
    const socket = this.ws.readyState === this.ws.OPEN ? (this.ws as unknown as WsInternals)._socket : undefined;
    socket?.cork();
    try {
      for (const f of frames) this.send(f);
    } finally {
      socket?.uncork();
    }
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  welcomed(session: Session): void {
    this.hooks.welcomed(this, session);
  }

  /** Notes when an input's frame was handled. */
  noteInput(seq: number, at: number): void {
    if (this.inputsAt) this.inputsAt.push(seq, at);
    else this.inputsAt = [seq, at];
  }

  /** When the input `seq` was handled (and forgets it), or undefined. */
  takeInput(seq: number): number | undefined {
    const l = this.inputsAt;
    if (!l) return undefined;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] !== seq) continue;
      const at = l[i + 1];
      l.splice(i, 2);
      if (l.length === 0) this.inputsAt = null;
      return at;
    }
    return undefined;
  }
}

/**
 * The edge's WebSocket (ws's `WebSocket` option of its server): ws's events go straight to the
 * connection instead of through listeners — four listeners per socket would cost four closures,
 * a context and a dictionary of listeners each. Events the edge does not handle (`ping`, …) are
 * emitted as usual.
 */
class EdgeSocket extends WebSocket {
  conn: Conn | null = null;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const c = this.conn;
    switch (event) {
      case 'message':
        if (c) c.hooks.frame(c, args[0] as Buffer, args[1] as boolean);
        return true;
      case 'pong':
        if (c) c.alive = true;
        return true;
      case 'close':
      case 'error':
        // ws emits 'error' before 'close' on a failing socket; both end the connection (once).
        // An 'error' is never rethrown: nobody else listens, and the socket is closing.
        if (c) c.hooks.gone(c);
        if (event === 'error' && this.listenerCount('error') === 0) return true;
        return super.emit(event, ...args);
      default:
        return super.emit(event, ...args);
    }
  }
}

interface FanJob {
  readonly bytes: Uint8Array;
  /** The same bytes as one WebSocket text frame, built once for the whole audience. */
  readonly frame: Buffer;
  readonly list: Conn[];
  i: number;
  /** The newest pulse published while this pass runs: the next pass sends it. */
  next: Uint8Array | null;
}

// ——— prepared frames ———————————————————————————————————————————————————————————————————
// A fan-out sends the same pulse to thousands of sockets. `ws.send` frames it anew for each one
// (a header, then cork, two writes, uncork: a writev per socket); a server's frames are never
// masked (RFC 6455 §5.1), so the frame is the same bytes for everyone and is built once, then
// written to each socket as one buffer — what uWebSockets calls a prepared message. It goes
// straight to the socket only when ws's sender has nothing queued (permessage-deflate is off
// here, so its queue is empty unless a Blob is being read), so frames keep their order; else, or
// if the pinned ws ever changes these internals, it falls back to `ws.send`.

interface SenderStatic {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}
const Sender = (wsLib as unknown as { Sender?: SenderStatic }).Sender;

/** The unmasked, final text frame (opcode 1) carrying `bytes`. */
export function textFrame(bytes: Uint8Array): Buffer {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!Sender) return data;
  return Buffer.concat(Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }));
}

interface WsInternals {
  readonly _socket?: Duplex | null;
  readonly _sender?: { readonly _state?: number; readonly _queue?: readonly unknown[] } | null;
}

/** Writes a prepared frame to an open socket, or sends the bytes the ordinary way when it can't be written directly. */
export function sendFrame(ws: WebSocket, frame: Buffer, bytes: Uint8Array): void {
  const w = ws as unknown as WsInternals;
  const socket = w._socket;
  const sender = w._sender;
  if (Sender && socket && !socket.destroyed && sender && sender._state === 0 && sender._queue?.length === 0) socket.write(frame);
  else ws.send(bytes, { binary: false });
}

interface Audience {
  readonly role: 'participant' | 'display';
  readonly set: Set<Conn>;
  job: FanJob | null;
}

interface SpaceSubs {
  readonly participants: Audience;
  readonly displays: Audience;
  readonly disposables: Disposable[];
}

/** The ping interval is served in this many steps, each pinging the sockets whose ref falls in it. */
const PING_STEPS = 30;

const SCHEMAS = { join: JoinSchema, resume: ResumeSchema, bye: ByeSchema, group: GroupSchema } as const;

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return 'invalid message';
  const path = first.path?.map((p) => String(p.key)).join('.') ?? '';
  return path ? `${path}: ${first.message}` : first.message;
}

/**
 * Parses and validates one text frame into a client message, or a coded error that names the
 * frame's `seq` when it had a usable one (so the client knows which input was refused).
 */
export function parseClientFrame(text: string): { ok: true; msg: ClientMessage } | { ok: false; code: ErrorCode; message: string; seq?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_REQUEST', message: 'frame is not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, code: 'BAD_REQUEST', message: 'a message must be a JSON object' };
  const rawSeq = (raw as { seq?: unknown }).seq;
  const seq = typeof rawSeq === 'number' && Number.isSafeInteger(rawSeq) ? { seq: rawSeq } : {};
  const t = (raw as { t?: unknown }).t;
  if (typeof t !== 'string') return { ok: false, code: 'BAD_REQUEST', message: 'a message needs a string field t', ...seq };
  if (!(CLIENT_TYPES as readonly string[]).includes(t)) return { ok: false, code: 'UNKNOWN_TYPE', message: `unknown message type '${t.slice(0, 32)}'`, ...seq };
  const schema = t === 'input' ? ('text' in raw ? TextInputSchema : PointInputSchema) : SCHEMAS[t as keyof typeof SCHEMAS];
  const r = v.safeParse(schema, raw);
  if (!r.success) return { ok: false, code: 'BAD_REQUEST', message: describeIssues(r.issues), ...seq };
  return { ok: true, msg: r.output as ClientMessage };
}

/** The WebSocket edge: attach `handleUpgrade` to an HTTP server's `upgrade` event for `/ws`. */
export class WsEdge {
  private readonly host: SpaceHost;
  private readonly o: Required<Omit<WsEdgeOptions, 'joinThrottle' | 'host' | 'observer' | 'scheduler'>>;
  private readonly sch: Scheduler;
  private readonly observer: WsEdgeObserver | null;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private readonly spaces = new Map<string, SpaceSubs>();
  private readonly pinger: Cancel;
  /** Which of the PING_STEPS slots of the ping interval the next ping step serves. */
  private pingStep = 0;
  private readonly throttle: JoinThrottle;
  private readonly hooks: EdgeHooks;

  constructor(opts: WsEdgeOptions) {
    const { joinThrottle, host, observer, scheduler, ...rest } = opts;
    this.host = host;
    this.sch = scheduler ?? host.scheduler;
    this.observer = observer ?? null;
    this.o = { ratePerSec: 20, burst: 40, exposureWindowMs: 10_000, pingIntervalMs: 30_000, maxBufferedBytes: 256 * 1024, failedJoinsPerMinute: 30, trustProxyHops: 0, fanoutSlice: 1500, ...rest };
    this.throttle = joinThrottle ?? new JoinThrottle({ freeGuesses: this.o.failedJoinsPerMinute, guessesPerMinute: this.o.failedJoinsPerMinute });
    // clientTracking off: the edge keeps its own set of connections; ws's would add a Set entry
    // and a close listener per socket for nothing.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES, perMessageDeflate: false, clientTracking: false, WebSocket: EdgeSocket });
    const seen = this.observer;
    this.hooks = {
      frame: (c, data, isBinary) => this.onMessage(c, data, isBinary),
      gone: (c) => this.cleanup(c),
      sent: seen
        ? (c, frame) => {
            if (c.inputsAt && typeof frame === 'string') this.observeReply(c, frame, seen);
          }
        : () => {},
      welcomed: (c, session) => {
        if (c.phase === 'closed') return;
        c.session = session;
        if (c.phase === 'joining') c.phase = 'joined';
        this.register(c, session);
      },
    };
    // Pings are spread over the interval in PING_STEPS steps (each socket in the step its ref
    // falls in), so 20,000 sockets never take one synchronous burst of 20,000 writes that would
    // hold back a pulse pass (W12).
    const step = this.o.pingIntervalMs / PING_STEPS;
    this.pinger = this.sch.every(step, () => this.ping(), this.sch.now() + step);
  }

  private now(): number {
    return this.sch.now();
  }

  /** Open connections (for metrics and tests). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Open connections by role (for metrics): joined participants, joined displays, the rest. */
  connectionsByRole(): { participant: number; display: number; other: number } {
    let participant = 0;
    let display = 0;
    for (const subs of this.spaces.values()) {
      participant += subs.participants.set.size;
      display += subs.displays.set.size;
    }
    return { participant, display, other: Math.max(0, this.conns.size - participant - display) };
  }

  /** Accepts an upgrade request for the edge's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = addressKey(clientIp({ peer: req.socket.remoteAddress, forwardedFor: req.headers['x-forwarded-for']?.toString(), trustProxyHops: this.o.trustProxyHops }));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, address));
  }

  private accept(ws: WebSocket, address: string): void {
    const sock = ws as EdgeSocket;
    const c = new Conn(sock, this.hooks, address, new TokenBucket(this.o.ratePerSec, this.o.burst, this.now()));
    c.ref = this.host.attach(c);
    sock.conn = c;
    this.conns.add(c);
  }

  /** An ack (or an error naming a seq) ends that input's wait: report its latency. */
  private observeReply(conn: Conn, frame: string, observer: WsEdgeObserver): void {
    let seq: number | undefined;
    if (frame.startsWith(ACK_PREFIX)) seq = Number.parseInt(frame.slice(ACK_PREFIX.length), 10);
    else if (frame.startsWith('{"t":"error"')) seq = (JSON.parse(frame) as { seq?: number }).seq;
    if (seq === undefined) return;
    const t0 = conn.takeInput(seq);
    if (t0 === undefined) return;
    if (frame.startsWith(ACK_PREFIX)) observer.inputAcked(performance.now() - t0);
  }

  private send(conn: Conn, msg: object): void {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(JSON.stringify(msg));
  }

  private sendError(conn: Conn, code: ErrorCode, message: string, seq?: number): void {
    this.send(conn, seq === undefined ? { t: 'error', code, message } : { t: 'error', code, message, seq });
    if (isFatal(code)) conn.ws.close(wsCloseCodeOf(code), message.slice(0, 120));
  }

  /** On arrival: rate limit, then parse, then queue the handling behind the connection's earlier frames. */
  private onMessage(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (conn.phase === 'closed' || conn.phase === 'leaving') return;
    const now = this.now();
    if (!conn.bucket.take(now)) {
      // Tell the client at most once a second, so a flood cannot make us flood back.
      if (now - conn.lastRateNoticeAt >= 1000) {
        conn.lastRateNoticeAt = now;
        this.sendError(conn, 'RATE_LIMITED', `more than ${this.o.ratePerSec} messages per second; message dropped`);
      }
      return;
    }
    if (isBinary) {
      this.sendError(conn, 'BAD_REQUEST', 'send JSON text frames, not binary');
      return;
    }
    const parsed = parseClientFrame(data.toString('utf8'));
    if (!parsed.ok) {
      this.sendError(conn, parsed.code, parsed.message, parsed.seq);
      return;
    }
    const msg = parsed.msg;
    conn.queue = conn.queue.then(() => this.handle(conn, msg)).catch((e) => {
      console.error('attune: websocket handler failed', e);
      this.sendError(conn, 'INTERNAL', 'internal error');
    });
  }

  private async handle(conn: Conn, msg: ClientMessage): Promise<void> {
    if (conn.phase === 'closed' || conn.phase === 'leaving') return;
    switch (msg.t) {
      case 'join':
      case 'resume': {
        if (conn.phase !== 'connecting') return this.sendError(conn, 'BAD_REQUEST', 'already joined on this connection');
        conn.phase = 'joining';
        let r: Awaited<ReturnType<SpaceHost['join']>>;
        if (msg.t === 'join') {
          // Join codes are short; guessing new ones is throttled per address, but a code already
          // found from this address is never refused (W13). Resume tokens (256 bits) are not.
          const code = normaliseCode(msg.code);
          const gate = await this.admitJoin(conn, code);
          if (gate !== 'evaluate') {
            conn.phase = 'connecting';
            if (gate === 'known-bad') return this.sendError(conn, 'NOT_FOUND', 'no space has that join code');
            if (gate !== 'closed') {
              this.sendError(conn, 'RATE_LIMITED', `too many new join codes tried from your address; check the code and try again in ${Math.ceil(gate.retryAfterMs / 1000)} s`);
              conn.ws.close(wsCloseCodeOf('RATE_LIMITED'), 'too many failed joins');
            }
            return;
          }
          try {
            r = await this.host.join(conn.ref, msg.code, msg.role, msg.consent, msg.group ?? null, msg.consentVersion);
          } catch (e) {
            this.throttle.record(conn.address, code, 'error', this.now());
            throw e;
          }
          this.throttle.record(conn.address, code, r.ok || r.code !== 'NOT_FOUND' ? 'found' : 'not-found', this.now());
        } else r = await this.host.resume(conn.ref, msg.token, msg.consentVersion);
        if (!r.ok) {
          conn.phase = 'connecting';
          return this.sendError(conn, r.code, r.message);
        }
        // The host stepped the join; the welcome (after its write is durable) moves us to joined.
        // A refusal (full, consent) leaves no session: back to connecting.
        if (!this.host.sessionOf(conn.ref) && conn.phase === 'joining') conn.phase = 'connecting';
        return;
      }
      case 'input': {
        if (!this.host.sessionOf(conn.ref)) return this.sendError(conn, 'NOT_JOINED', 'join or resume first', msg.seq);
        const now = this.now();
        const exposed = msg.seen !== false && now - conn.lastPulseAt <= this.o.exposureWindowMs;
        // Noted before the host sees it, so an ack however soon finds it.
        if (this.observer) conn.noteInput(msg.seq, performance.now());
        const r = this.host.input(conn.ref, msg, exposed);
        if (!r.ok) {
          if (this.observer) conn.takeInput(msg.seq);
          if (r.code === 'OVERLOADED') this.observer?.inputOverloaded();
          return this.sendError(conn, r.code, r.message, msg.seq);
        }
        this.observer?.inputReceived();
        return;
      }
      case 'group': {
        const r = this.host.setGroup(conn.ref, msg.group);
        if (!r.ok) return this.sendError(conn, r.code, r.message);
        return;
      }
      case 'bye': {
        conn.phase = 'leaving';
        this.host.leave(conn.ref);
        return;
      }
    }
  }

  /**
   * Asks the join throttle (W13) until it lets this code be looked up, waiting for a guess token
   * if the address has used its own up; `closed` if the socket went away while waiting.
   */
  private async admitJoin(conn: Conn, code: string): Promise<'evaluate' | 'known-bad' | 'closed' | { retryAfterMs: number }> {
    const sch = this.sch;
    const d = await awaitAdmission(this.throttle, conn.address, code, {
      now: () => sch.now(),
      sleep: (ms) =>
        new Promise<boolean>((resolve) => {
          const wake = () => {
            conn.waiting?.timer.cancel();
            conn.waiting = null;
            resolve(conn.ws.readyState === conn.ws.OPEN);
          };
          conn.waiting = { timer: sch.at(sch.now() + ms, wake), wake };
        }),
    });
    if (d.kind === 'refuse') return { retryAfterMs: d.retryAfterMs };
    return d.kind === 'gone' ? 'closed' : d.kind;
  }

  private subsOf(spaceId: string): SpaceSubs {
    let subs = this.spaces.get(spaceId);
    if (subs) return subs;
    const created: SpaceSubs = { participants: { role: 'participant', set: new Set(), job: null }, displays: { role: 'display', set: new Set(), job: null }, disposables: [] };
    const bus = this.host.bus;
    created.disposables.push(
      bus.subscribe(subjects.participantPulse(spaceId), (bytes) => this.fanOut(created.participants, bytes)),
      bus.subscribe(subjects.displayPulse(spaceId), (bytes) => this.fanOut(created.displays, bytes)),
      // The gathering display's stories view (SPEC ST10): rare and small, so each goes to every display at once.
      bus.subscribe(subjects.stories(spaceId), (bytes) => {
        for (const c of created.displays.set) if (c.phase === 'joined' && c.ws.readyState === c.ws.OPEN) c.ws.send(bytes, { binary: false });
      }),
      bus.subscribe(subjects.control(spaceId), (bytes) => {
        for (const c of [...created.participants.set, ...created.displays.set]) {
          if (c.ws.readyState === c.ws.OPEN) c.ws.send(bytes, { binary: false });
          c.ws.close(wsCloseCodeOf('SPACE_CLOSED'), 'space closed');
        }
      }),
    );
    this.spaces.set(spaceId, created);
    subs = created;
    return subs;
  }

  private register(conn: Conn, s: Session): void {
    const subs = this.subsOf(s.spaceId);
    (s.role === 'display' ? subs.displays : subs.participants).set.add(conn);
    conn.lastPulseAt = this.now();
  }

  /**
   * Sends the same bytes to every socket of an audience, `fanoutSlice` sockets per turn. A pass
   * always completes with its bytes, so every socket of the audience gets the same pulses; a
   * newer pulse published meanwhile waits and goes out in the next pass (only the newest waits:
   * when passes are slower than the rate, the pulses in between are skipped for everyone alike).
   */
  private fanOut(aud: Audience, bytes: Uint8Array): void {
    if (aud.set.size === 0) return;
    if (aud.job) {
      if (aud.job.next) this.observer?.pulseSuperseded(aud.role, aud.set.size);
      aud.job.next = bytes;
      return;
    }
    const job: FanJob = { bytes, frame: textFrame(bytes), list: [...aud.set], i: 0, next: null };
    aud.job = job;
    const run = () => {
      const end = Math.min(job.list.length, job.i + this.o.fanoutSlice);
      const now = this.now();
      for (; job.i < end; job.i++) {
        const c = job.list[job.i] as Conn;
        if (c.phase !== 'joined' || c.ws.readyState !== c.ws.OPEN) continue;
        if (c.ws.bufferedAmount > this.o.maxBufferedBytes) {
          this.observer?.pulseSkipped(aud.role);
          continue;
        }
        sendFrame(c.ws, job.frame, job.bytes);
        c.lastPulseAt = now;
      }
      if (job.i < job.list.length) return this.sch.defer(run);
      aud.job = null;
      if (job.next) this.fanOut(aud, job.next);
    };
    run();
  }

  private cleanup(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    conn.phase = 'closed';
    if (conn.waiting) {
      conn.waiting.timer.cancel();
      conn.waiting.wake();
    }
    const s = conn.session;
    conn.session = null;
    this.host.detach(conn.ref);
    if (!s) return;
    const subs = this.spaces.get(s.spaceId);
    if (!subs) return;
    subs.participants.set.delete(conn);
    subs.displays.set.delete(conn);
    if (subs.participants.set.size === 0 && subs.displays.set.size === 0) {
      for (const d of subs.disposables) d.dispose();
      this.spaces.delete(s.spaceId);
    }
  }

  private ping(): void {
    const slot = this.pingStep;
    this.pingStep = (this.pingStep + 1) % PING_STEPS;
    for (const c of this.conns) {
      if (c.ref % PING_STEPS !== slot) continue;
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /** Tells every client the server is going away and closes all sockets. */
  async close(): Promise<void> {
    this.pinger.cancel();
    for (const c of this.conns) {
      this.send(c, { t: 'bye', reason: 'shutdown' });
      c.ws.close(1001, 'server shutting down');
    }
    await new Promise<void>((r) => setTimeout(r, 20));
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
