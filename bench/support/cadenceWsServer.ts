/**
 * The plain-`ws` baseline of bench/cadence.ts, in its own process: the least a server can do to
 * give people what attune gives them. It speaks just enough of SPEC §W for the same protocol
 * client to use it — `join` → a welcome of the same shape, `input` → its cell moves in a
 * 16 × 16 count and an ack comes back, `bye` — and broadcasts, on a drift-free schedule, one
 * pulse per space padded to the byte size attune's pulses had in the same run: the same buffer
 * to every socket (built once per tick), 2 Hz to participants and 20 Hz to displays. Nothing is
 * stored, nothing is released or smoothed; that is the point of a baseline.
 *
 *   argv[2]: JSON { participantHz, displayHz, pulseBytes }
 *   → parent: { ready: true, url }   (ws://127.0.0.1:PORT/ws)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { padPulse } from './pulseBytes.ts';

const cfg = JSON.parse(process.argv[2] ?? '{}') as { participantHz?: number; displayHz?: number; pulseBytes?: number };
const participantHz = cfg.participantHz ?? 2;
const displayHz = cfg.displayHz ?? 20;
const pulseBytes = cfg.pulseBytes ?? 1500;
const BINS = 16;

interface Space {
  readonly code: string;
  readonly participants: Set<WebSocket>;
  readonly displays: Set<WebSocket>;
  readonly hist: number[];
  count: number;
  seq: number;
  latest: Buffer;
}

const spaces = new Map<string, Space>();
let nextId = 0;

const bin = (x: number): number => Math.min(BINS - 1, Math.max(0, Math.floor(((x + 1) / 2) * BINS)));

function encode(s: Space, at: number): Buffer {
  const body = { t: 'pulse', seq: s.seq, at, count: s.count, suppressed: false, minCohort: 3, mean: { valence: 0, arousal: 0 }, smoothed: { valence: 0, arousal: 0 }, spread: { valence: 0.5, arousal: 0.5 }, quadrants: [0.25, 0.25, 0.25, 0.25], bins: BINS, hist: s.hist, space: s.code };
  // Pad to attune's size so the same bytes cross the loopback.
  return Buffer.from(padPulse(JSON.stringify(body), pulseBytes));
}

function spaceOf(code: string): Space {
  let s = spaces.get(code);
  if (!s) {
    s = { code, participants: new Set(), displays: new Set(), hist: new Array<number>(BINS * BINS).fill(0), count: 0, seq: 0, latest: Buffer.alloc(0) };
    s.latest = encode(s, Date.now());
    spaces.set(code, s);
  }
  return s;
}

const http = createServer();
const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
http.on('upgrade', (req, socket, head) => {
  if (req.url !== '/ws') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
});

function accept(ws: WebSocket): void {
  let space: Space | null = null;
  let cell = -1;
  ws.on('message', (data) => {
    let m: { t?: string; code?: string; role?: string; seq?: number; valence?: number; arousal?: number };
    try {
      m = JSON.parse(String(data)) as typeof m;
    } catch {
      return;
    }
    if (m.t === 'join' && typeof m.code === 'string' && !space) {
      space = spaceOf(m.code);
      const display = m.role === 'display';
      (display ? space.displays : space.participants).add(ws);
      const id = (nextId++).toString(36);
      const welcome = { t: 'welcome', role: display ? 'display' : 'participant', ...(display ? {} : { participant: `p${id.padStart(15, '0')}`, token: `t${id.padStart(42, '0')}` }), space: { code: space.code, name: 'bench', status: 'open', capacity: 100_000, ttlMs: 120_000 }, you: null, lastSeq: 0, pulseHz: participantHz };
      ws.send(JSON.stringify(welcome));
      ws.send(space.latest, { binary: false });
    } else if (m.t === 'input' && space && typeof m.valence === 'number' && typeof m.arousal === 'number') {
      const c = bin(m.arousal) * BINS + bin(m.valence);
      if (cell >= 0) space.hist[cell] = (space.hist[cell] ?? 1) - 1;
      else space.count++;
      space.hist[c] = (space.hist[c] ?? 0) + 1;
      cell = c;
      ws.send(JSON.stringify({ t: 'ack', seq: m.seq, affect: { valence: m.valence, arousal: m.arousal, confidence: 1, source: 'tap', at: Date.now() } }));
    } else if (m.t === 'bye') ws.close(1000, 'bye');
  });
  ws.on('close', () => {
    space?.participants.delete(ws);
    space?.displays.delete(ws);
  });
  ws.on('error', () => {});
}

// One drift-free clock at the display rate; every (displayHz / participantHz)-th tick also goes
// to participants, as in attune.
const periodMs = 1000 / displayHz;
const every = Math.max(1, Math.round(displayHz / participantHz));
const t0 = performance.now();
const epoch0 = Date.now();
let k = 0;
function tick(): void {
  k++;
  // The tick's nominal time: after a stall the missed ticks go out at once, each stamped with
  // the time it was due, so a client's window counts each tick once, in its own slot.
  const at = Math.round(epoch0 + k * periodMs);
  for (const s of spaces.values()) {
    s.seq++;
    s.latest = encode(s, at);
    for (const ws of s.displays) ws.send(s.latest, { binary: false });
    if (k % every === 0) for (const ws of s.participants) ws.send(s.latest, { binary: false });
  }
  setTimeout(tick, Math.max(0, t0 + (k + 1) * periodMs - performance.now()));
}
setTimeout(tick, periodMs);

// Node's default backlog (511), as attune's server: the same kernel queue in front of both.
http.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws` });
});
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
