/**
 * The smallest socket a protocol client needs. The browser's `WebSocket`, Node's global
 * `WebSocket` and the `ws` package's `WebSocket` all satisfy it structurally, so the client
 * never imports a socket library: the application injects a factory.
 * (After tldraw's `WebSocketMinimal`.)
 */

/**
 * A handler property typed with method bivariance, so that a socket whose handler takes a
 * richer event (the browser's `MessageEvent`, ws's `WebSocket.MessageEvent`) still fits.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'] | null;

/** What the client reads of a message event. */
export interface MessageEventLike {
  readonly data: unknown;
}

/** What the client reads of a close event. */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/** `readyState` of an open socket (the same number in every implementation). */
export const OPEN = 1;

/** The socket surface the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown>;
  onmessage: Handler<MessageEventLike>;
  onclose: Handler<CloseEventLike>;
  onerror: Handler<unknown>;
}

/** Opens a socket to a URL (`ws://host/ws`). */
export type ConnectSocket = (url: string) => WebSocketLike;
