/**
 * The pages' connection to a space: the project's protocol client (src/client) with the
 * browser's WebSocket, `localStorage` for the session and the page's visibility for `seen`,
 * wrapped in the hook and handler shape the pages use. Joining, resuming, seqs, re-sending
 * unacknowledged inputs and the back-off (SPEC W12) all live in the client.
 */
import { useEffect, useMemo } from 'preact/hooks';
import { AttuneClient, sessionKeys } from '../../../src/client/attuneClient.ts';
import { type AckMessage, type AnyServerMessage, type ErrorMessage, normaliseCode, type PulseMessage, type StoriesMessage, type StoryStateMessage, type WelcomeMessage } from '../../../src/core/protocol.ts';

/** Connection status shown to people. */
export type Status = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** A server message. */
export type ServerMsg = AnyServerMessage;

/** What a page hears from the socket. */
export interface SocketHandlers {
  onStatus?(s: Status, detail?: string): void;
  onWelcome?(m: WelcomeMessage): void;
  onPulse?(p: PulseMessage): void;
  onAck?(m: AckMessage): void;
  onError?(m: ErrorMessage): void;
  /** The session ended for good (space closed, full, replaced…). */
  onEnd?(reason: string, message: string): void;
  /** Displays: the gathering display's stories view (SPEC ST10). */
  onStories?(m: StoriesMessage): void;
  /** Participants: one of their own stories changed state or was withdrawn (ST12). */
  onStory?(m: StoryStateMessage): void;
}

/** Input payload (without t/seq). */
export type InputPayload = { valence: number; arousal: number; confidence?: number; source?: 'tap' | 'heart'; heart?: { bpm: number } } | { text: string };

const consentKey = (code: string) => `attune:${code}:consent`;

/** Whether this device already consented for this space to this version of the consent text (V1). */
export function hasConsented(code: string, version: string): boolean {
  return localStorage.getItem(consentKey(code)) === version;
}

/** Records on this device which version of the consent text it agreed to. */
export function recordConsent(code: string, version: string): void {
  localStorage.setItem(consentKey(code), version);
}

/** Forgets which consent text this device agreed to for a space, so the consent screen shows again (V1). */
export function forgetConsent(code: string): void {
  localStorage.removeItem(consentKey(code));
}

/** Forgets this device's session for a space (leave). */
export function forgetSession(code: string): void {
  const k = sessionKeys(code);
  localStorage.removeItem(k.token);
  localStorage.removeItem(k.seq);
  localStorage.removeItem(consentKey(code));
}

/** What people read when the session ends, by the client's stop reason. */
const END_MESSAGES: Record<string, string> = {
  replaced: 'This session continued in another tab or device.',
  'space-closed': 'The steward closed this space. Thank you for being here.',
  SPACE_CLOSED: 'The steward closed this space. Thank you for being here.',
  NOT_FOUND: 'No space has that join code.',
};

/** A self-healing connection to one space. */
export class AttuneSocket {
  readonly client: AttuneClient;
  private readonly code: string;
  private readonly h: SocketHandlers;

  constructor(code: string, role: 'participant' | 'display', h: SocketHandlers, group: string | null = null, consentVersion: string | null = null) {
    this.code = code;
    this.h = h;
    this.client = new AttuneClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
      code,
      role,
      consent: role === 'participant', // the Room mounts only after the consent screen
      group, // R6: chosen on the consent screen (null: prefer not to say)
      // V1: the consent text agreed to on this device; a newer one on the server stops us (CONSENT_CHANGED).
      ...(role === 'participant' && consentVersion ? { consentVersion } : {}),
      connect: (url) => new WebSocket(url),
      storage: localStorage,
      isVisible: () => typeof document === 'undefined' || document.visibilityState === 'visible',
      keep: 'latest', // a phone's point: only the newest tap matters
    });
    const c = this.client;
    c.on('status', (s) => {
      if (s.state === 'live') h.onStatus?.('live');
      else if (s.state === 'waiting') h.onStatus?.('reconnecting', `retrying in ${((s.delayMs ?? 0) / 1000).toFixed(1)} s`);
      else if (s.state === 'connecting' || s.state === 'joining') h.onStatus?.(s.attempt === 0 ? 'connecting' : 'reconnecting');
      else if (s.state === 'stopped') {
        h.onStatus?.('stopped', s.message);
        if (s.reason && s.reason !== 'stopped' && s.reason !== 'left') h.onEnd?.(s.reason, END_MESSAGES[s.reason] ?? s.message ?? s.reason);
      }
    });
    c.on('welcome', (m) => h.onWelcome?.(m));
    c.on('pulse', (p) => h.onPulse?.(p));
    c.on('ack', (m) => h.onAck?.(m));
    c.on('error', (m) => h.onError?.(m));
    c.on('stories', (m) => h.onStories?.(m));
    c.on('story', (m) => h.onStory?.(m));
  }

  /** Opens the connection (and keeps it open). */
  start(): void {
    this.client.start();
  }

  /** Closes for good. */
  stop(): void {
    this.client.stop();
  }

  /** Sends an input; it is re-sent after a reconnect until acknowledged. Returns its seq (null if refused here). */
  sendInput(p: InputPayload): number | null {
    const r = this.client.send(p);
    if (r.ok) return r.value;
    this.h.onError?.({ t: 'error', code: r.code, message: r.message });
    return null;
  }

  /** Leaves the space: the point is removed at once and this device forgets the session. */
  leave(): void {
    this.client.leave();
    forgetSession(this.code);
  }
}

/** The join code in a page path like /j/CODE. */
export function codeFromPath(): string {
  const parts = location.pathname.split('/').filter(Boolean);
  return normaliseCode(decodeURIComponent(parts[1] ?? ''));
}

/**
 * A page's connection to its space, opened on mount and closed on unmount. The handlers are
 * those of the first render (pass state setters, which are stable).
 */
export function useSpaceSocket(code: string, role: 'participant' | 'display', handlers: SocketHandlers, group: string | null = null, consentVersion: string | null = null): AttuneSocket {
  const socket = useMemo(() => new AttuneSocket(code, role, handlers, group, consentVersion), [code, role]);
  useEffect(() => {
    socket.start();
    return () => socket.stop();
  }, [socket]);
  return socket;
}
