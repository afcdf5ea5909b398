/**
 * A small WebSocket test client: collects server messages and waits for the next one matching
 * a predicate.
 */
import WebSocket from 'ws';

/** A message from the server (parsed JSON). */
export type Msg = { t: string; [k: string]: unknown };

/** A connected test client. */
export interface TestClient {
  readonly ws: WebSocket;
  readonly messages: Msg[];
  send(msg: unknown): void;
  sendRaw(data: string | Buffer): void;
  next(pred: (m: Msg) => boolean, ms?: number): Promise<Msg>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Opens a client to `url` (ws://…/ws). */
export async function connect(url: string): Promise<TestClient> {
  const ws = new WebSocket(url);
  const messages: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  let cursor = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) throw new Error('server sent a binary frame; the protocol is JSON text');
    const m = JSON.parse(String(data)) as Msg;
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  return {
    ws,
    messages,
    send: (msg) => ws.send(JSON.stringify(msg)),
    sendRaw: (d) => ws.send(d),
    next(pred, ms = 5000) {
      // Messages already received after the last consumed one count too.
      for (let i = cursor; i < messages.length; i++) {
        const m = messages[i] as Msg;
        if (pred(m)) {
          cursor = i + 1;
          return Promise.resolve(m);
        }
      }
      cursor = messages.length;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(messages.slice(-5).map((x) => x.t))}`)), ms);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            cursor = messages.length;
            resolve(m);
          },
        });
      });
    },
    closed,
    close: () => ws.close(),
  };
}

/** Is it a message of type `t`? */
export const isType =
  (t: string) =>
  (m: Msg): boolean =>
    m.t === t;
