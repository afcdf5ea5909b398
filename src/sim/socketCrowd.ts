/**
 * Runs a simulated crowd against a running attune server over real WebSockets, one socket per
 * participant, exactly like phones: each is the project's protocol client (src/client) over
 * `ws` — join with consent, send taps as inputs (the client numbers them and re-sends them
 * after a reconnection) with the `seen` flag, read pulses (their mean is what watchers are
 * shown and pulled toward), and leave with `bye`. Wall-clock time drives the crowd; the ground
 * truth's times are ms since `startedAt`.
 */
import WebSocket from 'ws';
import { AttuneClient } from '../client/attuneClient.ts';
import { Crowd, type CrowdOptions, type GroundTruth, type Point } from './crowd.ts';
import { HeartCrowd } from './heartCrowd.ts';
import { inputMessage } from './messages.ts';
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
  /** Share of people wearing a heart-rate strap, 0…1 (default 0: none; src/sim/heartCrowd.ts). */
  readonly heart?: number;
  /** Strength of the room's shared heart drive, 0…1 (default 0.5). */
  readonly heartSync?: number;
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
  /** People wearing a simulated strap, and the heart inputs their phones sent (counted in `sent` too). */
  readonly wearers: number;
  readonly heartSent: number;
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
  const hearts = o.heart ? new HeartCrowd({ seed: o.seed, participants: crowd.size, share: o.heart, ...(o.heartSync !== undefined ? { sync: o.heartSync } : {}) }) : null;
  let heartSent = 0;
  const wsUrl = new URL('/ws', o.url);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const phones: AttuneClient[] = [];
  const errors: Record<string, number> = {};
  let joined = 0;
  let sent = 0;
  let acked = 0;
  let pulses = 0;
  let maxPulseCount = 0;
  let pulseCount: number | null = null;
  let shown: Point | null = null;
  const alerts = new Map<string, SocketCrowdResult['alertsSeen'][number]>();

  const open = (i: number): AttuneClient => {
    const phone = new AttuneClient({ url: wsUrl.href, code: o.code, role: 'participant', consent: true, connect: (url) => new WebSocket(url, { perMessageDeflate: false }) });
    let welcomed = false;
    phone.on('welcome', () => {
      if (!welcomed) joined++;
      welcomed = true;
    });
    phone.on('ack', () => {
      acked++;
    });
    phone.on('pulse', (m) => {
      pulses++;
      if (i === 0 || pulseCount === null) pulseCount = m.count;
      if (m.count > maxPulseCount) maxPulseCount = m.count;
      if (m.mean) shown = { valence: m.mean.valence, arousal: m.mean.arousal };
      for (const a of m.collective?.alerts ?? []) if (!alerts.has(a.id)) alerts.set(a.id, { id: a.id, metric: a.metric, direction: a.direction, startedAt: a.startedAt, raisedAt: a.raisedAt });
    });
    phone.on('error', (m) => {
      errors[m.code] = (errors[m.code] ?? 0) + 1;
    });
    phone.on('full', () => {
      errors.full = (errors.full ?? 0) + 1;
    });
    phone.on('status', (st) => {
      if (st.state === 'waiting') errors.SOCKET = (errors.SOCKET ?? 0) + 1;
    });
    phone.start();
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
      hearts?.tapped(tap); // a wearer's heart follows what they feel, connected or not
      const phone = phones[tap.participant];
      if (phone?.state !== 'live') continue; // like a phone whose person waits for the connection
      const m = inputMessage(tap, 1);
      if (phone.send({ valence: m.valence, arousal: m.arousal, confidence: m.confidence, source: m.source, ...(m.seen !== undefined ? { seen: m.seen } : {}) }).ok) sent++;
    }
    for (const h of hearts?.step(t) ?? []) {
      const phone = phones[h.participant];
      if (phone?.state === 'live' && phone.send(h.input).ok) {
        sent++;
        heartSent++;
      }
    }
    if (t >= nextTruth) {
      crowd.sampleTruth(t);
      nextTruth += 5_000;
    }
    o.onProgress?.({ elapsedMs: t, durationMs: o.durationMs, joined, participants: crowd.size, sent, acked, errors: Object.values(errors).reduce((a, b) => a + b, 0), pulseCount, phase: phaseAt(crowd.phases, t).name });
    next += tickMs;
    await sleep(Math.max(0, next - clock()), o.signal);
  }

  // Let the last acknowledgements arrive (up to 1.5 s), then leave: bye and close.
  const ackDeadline = clock() + 1_500;
  while (acked < sent && clock() < ackDeadline && !o.signal?.aborted) await sleep(20, o.signal);
  for (const p of phones) p.leave();
  return { truth: crowd.groundTruth(startedAt), joined, sent, acked, errors, pulses, maxPulseCount, alertsSeen: [...alerts.values()], wearers: hearts?.wearers.length ?? 0, heartSent };
}
