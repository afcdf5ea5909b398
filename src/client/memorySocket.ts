/**
 * An in-memory socket pair and a hand-driven clock, so the client's reconnection, resend and
 * back-off logic can be tested without a network and without sleeping. The client end is a
 * real `WebSocketLike` (state machine and events as in the WebSocket standard); the peer end is
 * driven by the test, playing the server.
 */
import type { ClientClock } from './attuneClient.ts';
import type { CloseEventLike, MessageEventLike, WebSocketLike } from './webSocketLike.ts';

/** The server's end of a memory socket. */
export interface MemoryPeer {
  /** The client end (what the factory returned). */
  readonly socket: MemorySocket;
  /** The URL the client asked for. */
  readonly url: string;
  /** Frames the client sent, parsed. */
  readonly received: { t: string; [k: string]: unknown }[];
  /** Completes the handshake (`onopen`). */
  accept(): void;
  /** Sends a server message to the client. */
  send(msg: unknown): void;
  /** Closes from the server side with a code (`onclose`). */
  close(code: number, reason?: string): void;
}

/** The client end of a memory socket. */
export class MemorySocket implements WebSocketLike {
  readyState = 0;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  readonly sent: string[] = [];
  /** The close code and reason the client asked for, if it closed. */
  closedByClient: { code?: number | undefined; reason?: string | undefined } | null = null;

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError: send on a socket that is not open');
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedByClient = { code, reason };
    this.readyState = 3;
    this.onclose?.({ code: code ?? 1005, reason: reason ?? '' } satisfies CloseEventLike);
  }
}

/** A socket factory whose sockets the test plays the server for, in the order they opened. */
export function memorySockets(): { connect: (url: string) => MemorySocket; peers: MemoryPeer[]; last(): MemoryPeer } {
  const peers: MemoryPeer[] = [];
  const connect = (url: string): MemorySocket => {
    const socket = new MemorySocket();
    const received: MemoryPeer['received'] = [];
    const origSend = socket.send.bind(socket);
    socket.send = (data: string) => {
      origSend(data);
      received.push(JSON.parse(data) as MemoryPeer['received'][number]);
    };
    peers.push({
      socket,
      url,
      received,
      accept() {
        socket.readyState = 1;
        socket.onopen?.({});
      },
      send(msg) {
        if (socket.readyState !== 1) throw new Error('peer send on a socket that is not open');
        socket.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) } satisfies MessageEventLike);
      },
      close(code, reason = '') {
        if (socket.readyState === 3) return;
        socket.readyState = 3;
        socket.onclose?.({ code, reason });
      },
    });
    return socket;
  };
  return {
    connect,
    peers,
    last() {
      const p = peers.at(-1);
      if (!p) throw new Error('no socket was opened');
      return p;
    },
  };
}

/** A clock that moves only when told to; timers fire in due order. */
export class ManualClock implements ClientClock {
  #now: number;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers not yet fired, with how long until each fires. */
  get pending(): readonly number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Advances time by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.#timers.delete(first[0]);
      this.#now = first[1].at;
      first[1].fn();
    }
    this.#now = end;
  }
}
