/**
 * A `ws` socket as a {@link WebSocketLike} for the load driver's participants, which only count
 * pulses: a pulse frame is checked by its head — `{"t":"pulse","seq":S,"at":A,"count":C,` … `}`,
 * the order every pulse encoder writes (src/core/space/machine.ts, src/core/release/release.ts,
 * the plain-ws baseline of cadenceWsServer.ts) — on its bytes, and handed to the client as the
 * small frame `{"t":"pulse","seq":S,"at":A,"count":C}`, instead of decoding and JSON-parsing
 * 2–3 KB twice a second per participant (at 30,000 participants, 60,000 parses a second: the
 * driver's largest cost after the sockets themselves). A frame whose head does not read so is
 * passed on whole, and the client's own parser decides (a malformed one is dropped, so it is
 * not counted). Every other frame is passed on as text. Displays, which read the histogram
 * (tap → display), keep the plain socket.
 */
import WebSocket from 'ws';
import type { WebSocketLike } from '../../src/client/webSocketLike.ts';

const HEAD = Buffer.from('{"t":"pulse","seq":');
const AT = Buffer.from(',"at":');
const COUNT = Buffer.from(',"count":');

/** Reads a non-negative integer at `i`; [value, index after it] or null. */
function digits(b: Buffer, i: number): [number, number] | null {
  let n = 0;
  let j = i;
  while (j < b.length) {
    const c = b[j] as number;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    j++;
  }
  return j > i && j - i <= 16 ? [n, j] : null;
}

const startsAt = (b: Buffer, i: number, what: Buffer): boolean => b.length >= i + what.length && b.compare(what, 0, what.length, i, i + what.length) === 0;

/** The small pulse frame for a pulse's bytes, or null when its head does not read as a pulse's. */
export function pulseHead(b: Buffer): string | null {
  if (b.length < 32 || b[b.length - 1] !== 0x7d || !startsAt(b, 0, HEAD)) return null;
  const seq = digits(b, HEAD.length);
  if (!seq || !startsAt(b, seq[1], AT)) return null;
  const at = digits(b, seq[1] + AT.length);
  if (!at || !startsAt(b, at[1], COUNT)) return null;
  const count = digits(b, at[1] + COUNT.length);
  if (!count) return null;
  const next = b[count[1]];
  if (next !== 0x2c && next !== 0x7d) return null;
  return `{"t":"pulse","seq":${seq[0]},"at":${at[0]},"count":${count[0]}}`;
}

/** Opens a socket whose pulse frames reach the client as their heads (see above). */
export function pulseHeadSocket(url: string): WebSocketLike {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const like: WebSocketLike = {
    get readyState() {
      return ws.readyState;
    },
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.on('open', () => like.onopen?.({}));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      like.onmessage?.({ data });
      return;
    }
    like.onmessage?.({ data: pulseHead(data) ?? data.toString() });
  });
  ws.on('close', (code: number, reason: Buffer) => like.onclose?.({ code, reason: reason.toString() }));
  // A close follows every error; without a listener, ws would throw.
  ws.on('error', (e) => like.onerror?.(e));
  return like;
}
