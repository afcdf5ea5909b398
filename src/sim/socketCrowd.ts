/**
 * Runs a simulated crowd against a running attune server over real WebSockets, one socket per
 * participant, exactly like phones: join with consent, send taps as `input` frames with
 * increasing `seq` and the `seen` flag, read pulses (their mean is what watchers are shown and
 * pulled toward), and leave with `bye`. Wall-clock time drives the crowd; the ground truth's
 * times are ms since `startedAt`.
 */
import WebSocket from 'ws';
import { Crowd, type CrowdOptions, type GroundTruth, type Point } from './crowd.ts';
import { inputMessage, joinMessage } from './messages.ts';
import { phaseAt } from './scenarios.ts';

/** Progress of a run, reported every tick. */
export interface SocketCrowdProgress {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly joined: number;
  readonly participants: number;
  readonly sent: number;
  readonly acked: number;
  readonly errors: number;
  /** People counted in the latest pulse (null before the first). */
  readonly pulseCount: number | null;
  readonly phase: string;
}

/** Options of a socket run. */
export interface SocketCrowdOptions extends CrowdOptions {
  /** Server base URL, http(s)://host:port. */
  readonly url: string;
  /** Join code of the space. */
  readonly code: string;
  /** Crowd step interval, ms (default 500). */
  readonly tickMs?: number;
  /** Connections opened per 100 ms while joining (default 50). */
  readonly joinRate?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: SocketCrowdProgress) => void;
  /** Give up when no participant has been welcomed after this long (ms, default 10 000). */
  readonly joinTimeoutMs?: number;
  /** Clock (default Date.now). */
  readonly clock?: () => number;
}

/** What a socket run saw. */
export interface SocketCrowdResult {
  readonly truth: GroundTruth;
  readonly joined: number;
  readonly sent: number;
  readonly acked: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly pulses: number;
  /** The largest `count` any pulse reported. */
  readonly maxPulseCount: number;
  /** Alerts seen in pulses' `collective.alerts` (by id), if the server sends them. */
  readonly alertsSeen: readonly { readonly id: string; readonly metric: string; readonly direction: string; readonly startedAt: number; readonly raisedAt: number }[];
}

interface Phone {
  ws: WebSocket;
  ready: boolean;
  seq: number;
  closed: boolean;
}

/** Creates a space on the server; returns its join code and steward token. */
export async function createSpace(url: string, name: string, capacity: number, signal?: AbortSignal): Promise<{ code: string; stewardToken: string }> {
  const r = await fetch(new URL('/api/spaces', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, capacity }),
    ...(signal ? { signal } : {}),
  });
  const json = (await r.json()) as { code?: string; stewardToken?: string; error?: { code: string; message: string } };
  if (!r.ok || !json.code || !json.stewardToken) throw new Error(`creating a space failed (${r.status}): ${json.error ? `${json.error.code}: ${json.error.message}` : JSON.stringify(json)}`);
  return { code: json.code, stewardToken: json.stewardToken };
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((res) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      res();
    }, { once: true });
  });

/** Runs the crowd over WebSockets until its duration ends or `signal` aborts. */
export async function runSocketCrowd(o: SocketCrowdOptions): Promise<SocketCrowdResult> {
  const clock = o.clock ?? Date.now;
  const tickMs = o.tickMs ?? 500;
  const crowd = new Crowd(o);
  const wsUrl = new URL('/ws', o.url);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const phones: Phone[] = [];
  const errors: Record<string, number> = {};
  let joined = 0;
  let sent = 0;
  let acked = 0;
  let pulses = 0;
  let maxPulseCount = 0;
  let pulseCount: number | null = null;
  let shown: Point | null = null;
  const alerts = new Map<string, SocketCrowdResult['alertsSeen'][number]>();

  const open = (i: number): Phone => {
    const ws = new WebSocket(wsUrl);
    const phone: Phone = { ws, ready: false, seq: 0, closed: false };
    ws.on('open', () => ws.send(JSON.stringify(joinMessage(o.code))));
    ws.on('message', (data) => {
      let m: { t?: string; [k: string]: unknown };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        errors.BAD_FRAME = (errors.BAD_FRAME ?? 0) + 1;
        return;
      }
      if (m.t === 'welcome') {
        if (!phone.ready) joined++;
        phone.ready = true;
        phone.seq = typeof m.lastSeq === 'number' ? m.lastSeq : 0;
      } else if (m.t === 'ack') acked++;
      else if (m.t === 'pulse') {
        pulses++;
        const count = typeof m.count === 'number' ? m.count : null;
        if (i === 0 || pulseCount === null) pulseCount = count;
        if (count !== null && count > maxPulseCount) maxPulseCount = count;
        const mean = m.mean as Point | null | undefined;
        if (mean && typeof mean.valence === 'number' && typeof mean.arousal === 'number') shown = { valence: mean.valence, arousal: mean.arousal };
        const col = m.collective as { alerts?: { id: string; metric: string; direction: string; startedAt: number; raisedAt: number }[] } | undefined;
        for (const a of col?.alerts ?? []) if (!alerts.has(a.id)) alerts.set(a.id, { id: a.id, metric: a.metric, direction: a.direction, startedAt: a.startedAt, raisedAt: a.raisedAt });
      } else if (m.t === 'error' || m.t === 'full') {
        const code = String(m.code ?? m.t);
        errors[code] = (errors[code] ?? 0) + 1;
      }
    });
    ws.on('error', () => {
      errors.SOCKET = (errors.SOCKET ?? 0) + 1;
    });
    ws.on('close', () => {
      phone.closed = true;
      phone.ready = false;
    });
    return phone;
  };

  const startedAt = clock();
  // Join in waves, like people arriving, so as not to stampede the server.
  const joinRate = o.joinRate ?? 50;
  for (let i = 0; i < crowd.size; i++) {
    phones.push(open(i));
    if ((i + 1) % joinRate === 0) await sleep(100, o.signal);
  }

  let next = startedAt;
  let nextTruth = 0;
  for (;;) {
    if (o.signal?.aborted) break;
    const t = clock() - startedAt;
    if (t > o.durationMs) break;
    if (joined === 0 && t > (o.joinTimeoutMs ?? 10_000)) break; // nobody got in: don't wait out the run
    for (const tap of crowd.step(t, shown)) {
      const phone = phones[tap.participant];
      if (!phone?.ready || phone.ws.readyState !== WebSocket.OPEN) continue;
      phone.seq += 1;
      phone.ws.send(JSON.stringify(inputMessage(tap, phone.seq)));
      sent++;
    }
    if (t >= nextTruth) {
      crowd.sampleTruth(t);
      nextTruth += 5_000;
    }
    o.onProgress?.({ elapsedMs: t, durationMs: o.durationMs, joined, participants: crowd.size, sent, acked, errors: Object.values(errors).reduce((a, b) => a + b, 0), pulseCount, phase: phaseAt(crowd.phases, t).name });
    next += tickMs;
    await sleep(Math.max(0, next - clock()), o.signal);
  }

  // Let the last acknowledgements arrive (up to 1.5 s), then leave: bye, close, wait briefly.
  const ackDeadline = clock() + 1_500;
  while (acked < sent && clock() < ackDeadline && !o.signal?.aborted) await sleep(20, o.signal);
  await Promise.all(
    phones.map(
      (p) =>
        new Promise<void>((res) => {
          if (p.closed || p.ws.readyState === WebSocket.CLOSED) return res();
          const done = (): void => {
            clearTimeout(timer);
            res();
          };
          const timer = setTimeout(() => {
            p.ws.terminate();
            res();
          }, 2_000);
          p.ws.once('close', done);
          try {
            if (p.ws.readyState === WebSocket.OPEN) p.ws.send(JSON.stringify({ t: 'bye' }));
            p.ws.close(1000, 'simulation over');
          } catch {
            p.ws.terminate();
          }
        }),
    ),
  );
  return { truth: crowd.groundTruth(startedAt), joined, sent, acked, errors, pulses, maxPulseCount, alertsSeen: [...alerts.values()] };
}
