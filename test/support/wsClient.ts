/**
 * WebSocket test clients. `joinSpace` is the happy path: the project's own protocol client
 * (src/client) over `ws`, with its events recorded and awaitable. `connect` is a raw socket for
 * hostile tests that send frames no well-behaved client would (bad shapes, floods, replays).
 */
import WebSocket from 'ws';
import { AttuneClient, type AttuneClientOptions, type ClientEvents } from '../../src/client/attuneClient.ts';

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

/** A protocol client whose events are recorded and can be awaited. */
export interface RecordedClient {
  readonly client: AttuneClient;
  /** Every event so far, in order. */
  readonly events: { readonly type: keyof ClientEvents; readonly e: ClientEvents[keyof ClientEvents] }[];
  /** The next event of a type (recorded since the last one consumed, or still to come) that matches. */
  next<K extends keyof ClientEvents>(type: K, pred?: (e: ClientEvents[K]) => boolean, ms?: number): Promise<ClientEvents[K]>;
  stop(): void;
}

/** A `ws` socket for the protocol client (no compression, as the server). */
export const wsSocket = (url: string): WebSocket => new WebSocket(url, { perMessageDeflate: false });

/** Starts the protocol client for a space at `url` (ws://…/ws) and records what it hears. */
export function joinSpace(url: string, code: string, o: Partial<Omit<AttuneClientOptions, 'url' | 'code'>> = {}): RecordedClient {
  const client = new AttuneClient({ url, code, role: 'participant', consent: true, connect: wsSocket, ...o });
  const events: RecordedClient['events'] = [];
  const cursor = new Map<string, number>();
  const waiters = new Set<() => void>();
  for (const type of ['welcome', 'pulse', 'ack', 'error', 'full', 'bye', 'status'] as const) {
    client.on(type, (e) => {
      events.push({ type, e });
      for (const w of [...waiters]) w();
    });
  }
  const find = <K extends keyof ClientEvents>(type: K, pred: (e: ClientEvents[K]) => boolean): ClientEvents[K] | undefined => {
    for (let i = cursor.get(type) ?? 0; i < events.length; i++) {
      const x = events[i];
      if (x && x.type === type && pred(x.e as ClientEvents[K])) {
        cursor.set(type, i + 1);
        return x.e as ClientEvents[K];
      }
    }
    return undefined;
  };
  client.start();
  return {
    client,
    events,
    next(type, pred = () => true, ms = 5000) {
      const now = find(type, pred);
      if (now !== undefined) return Promise.resolve(now);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const e = find(type, pred);
          if (e === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(e);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching '${type}' within ${ms} ms; last events: ${JSON.stringify(events.slice(-5).map((x) => x.type))}`));
        }, ms);
        waiters.add(check);
      });
    },
    stop: () => client.stop(),
  };
}
