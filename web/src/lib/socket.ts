/**
 * The browser side of the protocol (SPEC.md §W): connects, joins or resumes, re-sends inputs
 * that were not acknowledged, and reconnects on its own with exponential back-off and jitter.
 *
 *   idle ─connect─▶ connecting ─open─▶ joining ─welcome─▶ live
 *     ▲                 │                 │                 │
 *     └──── wait(backoff) ◀── close/error ┴─────────────────┘   (fatal: stopped)
 */
import { useEffect, useMemo } from 'preact/hooks';
import type { Pulse } from './affect.ts';

/** Connection status shown to people. */
export type Status = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** A server message. */
export type ServerMsg =
  | { t: 'welcome'; role: string; participant?: string; token?: string; space: { code: string; name: string; status: string; capacity: number; ttlMs: number }; you: { valence: number; arousal: number; confidence: number; source: string; at: number } | null; lastSeq: number; pulseHz: number }
  | { t: 'ack'; seq: number; affect: { valence: number; arousal: number; confidence: number; source: string } }
  | { t: 'error'; code: string; message: string; seq?: number }
  | { t: 'full'; message: string; capacity: number }
  | { t: 'bye'; reason: string }
  | Pulse;

/** What a page hears from the socket. */
export interface SocketHandlers {
  onStatus?(s: Status, detail?: string): void;
  onWelcome?(m: Extract<ServerMsg, { t: 'welcome' }>): void;
  onPulse?(p: Pulse): void;
  onAck?(m: Extract<ServerMsg, { t: 'ack' }>): void;
  onError?(m: Extract<ServerMsg, { t: 'error' }>): void;
  /** The session ended for good (space closed, full, replaced…). */
  onEnd?(reason: string, message: string): void;
}

/** Input payload (without t/seq). */
export type InputPayload = { valence: number; arousal: number; confidence?: number; source?: 'tap' | 'heart' } | { text: string };

const FATAL_CLOSE = new Set([4401, 4404, 4409, 4410]);

/** Storage keys for one space's session on this device. */
const keys = (code: string) => ({ token: `attune:${code}:token`, seq: `attune:${code}:seq`, consent: `attune:${code}:consent` });

/** Whether this device already consented for this space. */
export function hasConsented(code: string): boolean {
  return localStorage.getItem(keys(code).consent) === 'yes';
}

/** Records consent on this device. */
export function recordConsent(code: string): void {
  localStorage.setItem(keys(code).consent, 'yes');
}

/** Forgets this device's session for a space (leave). */
export function forgetSession(code: string): void {
  const k = keys(code);
  localStorage.removeItem(k.token);
  localStorage.removeItem(k.seq);
  localStorage.removeItem(k.consent);
}

/** A self-healing connection to one space. */
export class AttuneSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private seq: number;
  private readonly pending = new Map<number, InputPayload>();
  private readonly code: string;
  private readonly role: 'participant' | 'display';
  private readonly h: SocketHandlers;
  private lastPulseAt = 0;
  private rejoin = false;

  constructor(code: string, role: 'participant' | 'display', handlers: SocketHandlers) {
    this.code = code;
    this.role = role;
    this.h = handlers;
    this.seq = Number(localStorage.getItem(keys(code).seq) ?? '0') || 0;
  }

  /** Opens the connection (and keeps it open). */
  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Closes for good. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000, 'page closed');
    this.h.onStatus?.('stopped');
  }

  /** Sends an input; it is re-sent after a reconnect until acknowledged. Returns its seq. */
  sendInput(p: InputPayload): number {
    this.seq++;
    localStorage.setItem(keys(this.code).seq, String(this.seq));
    // Only the newest point matters: drop older unacknowledged ones.
    this.pending.clear();
    this.pending.set(this.seq, p);
    this.transmit(this.seq, p);
    return this.seq;
  }

  /** Leaves the space: the point is removed at once and this device forgets the session. */
  leave(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ t: 'bye' }));
    forgetSession(this.code);
    this.stopped = true;
    this.h.onStatus?.('stopped');
  }

  private transmit(seq: number, p: InputPayload): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const seen = typeof document === 'undefined' || document.visibilityState === 'visible';
    const exposed = seen && Date.now() - this.lastPulseAt < 10_000;
    this.ws.send(JSON.stringify({ t: 'input', seq, ...p, seen: exposed }));
  }

  private open(): void {
    this.h.onStatus?.(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      const token = localStorage.getItem(keys(this.code).token);
      if (this.role === 'participant' && token) ws.send(JSON.stringify({ t: 'resume', token }));
      else ws.send(JSON.stringify({ t: 'join', code: this.code, role: this.role, consent: this.role === 'participant' }));
    };
    ws.onmessage = (ev) => this.onMessage(JSON.parse(String(ev.data)) as ServerMsg);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (this.rejoin) {
        this.rejoin = false;
        this.open();
        return;
      }
      if (FATAL_CLOSE.has(ev.code)) {
        this.stopped = true;
        this.h.onStatus?.('stopped', ev.reason);
        return;
      }
      this.schedule();
    };
  }

  private schedule(): void {
    this.attempt++;
    const base = Math.min(10_000, 500 * 2 ** Math.min(this.attempt - 1, 5));
    const wait = base / 2 + Math.random() * (base / 2);
    this.h.onStatus?.('reconnecting', `retrying in ${(wait / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => this.open(), wait);
  }

  private onMessage(m: ServerMsg): void {
    switch (m.t) {
      case 'welcome': {
        this.attempt = 0;
        if (m.token) localStorage.setItem(keys(this.code).token, m.token);
        if (m.lastSeq > this.seq) this.seq = m.lastSeq;
        for (const s of [...this.pending.keys()]) if (s <= m.lastSeq) this.pending.delete(s);
        this.h.onStatus?.('live');
        this.h.onWelcome?.(m);
        for (const [s, p] of this.pending) this.transmit(s, p);
        return;
      }
      case 'pulse':
        this.lastPulseAt = Date.now();
        this.h.onPulse?.(m);
        return;
      case 'ack':
        this.pending.delete(m.seq);
        this.h.onAck?.(m);
        return;
      case 'error':
        if (m.code === 'NOT_FOUND' && this.role === 'participant' && localStorage.getItem(keys(this.code).token)) {
          // The stored session is unknown (erased, or another server): join afresh.
          localStorage.removeItem(keys(this.code).token);
          this.rejoin = true; // the server closes this socket; open a fresh one and join
          return;
        }
        if (m.seq !== undefined) this.pending.delete(m.seq);
        this.h.onError?.(m);
        if (m.code === 'SPACE_CLOSED' || m.code === 'NOT_FOUND') this.h.onEnd?.(m.code, m.message);
        return;
      case 'full':
        this.h.onEnd?.('SPACE_FULL', m.message);
        return;
      case 'bye':
        if (m.reason !== 'shutdown') {
          this.stopped = true;
          this.h.onEnd?.(m.reason, m.reason === 'replaced' ? 'This session continued in another tab or device.' : 'The steward closed this space. Thank you for being here.');
        }
        return;
    }
  }
}

/** The join code in a page path like /j/CODE. */
export function codeFromPath(): string {
  const parts = location.pathname.split('/').filter(Boolean);
  return decodeURIComponent(parts[1] ?? '').toUpperCase().replace(/[^0-9A-Z]/g, '');
}

/**
 * A page's connection to its space, opened on mount and closed on unmount. The handlers are
 * those of the first render (pass state setters, which are stable).
 */
export function useSpaceSocket(code: string, role: 'participant' | 'display', handlers: SocketHandlers): AttuneSocket {
  // biome-ignore lint/correctness/useExhaustiveDependencies: one socket per space and role
  const socket = useMemo(() => new AttuneSocket(code, role, handlers), [code, role]);
  useEffect(() => {
    socket.start();
    return () => socket.stop();
  }, [socket]);
  return socket;
}
