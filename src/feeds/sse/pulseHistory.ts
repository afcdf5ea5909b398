/**
 * The released display pulses of every space, the last few seconds of each kept, so that a
 * server-sent-events stream (`GET /api/spaces/:code/stream`, ARTISTS.md) can resume where a
 * client left off: the event id is the pulse's `seq` (P6: it increases and continues across
 * restarts), and a reconnecting EventSource sends it back as `Last-Event-ID` (WHATWG HTML
 * §9.2 "Server-sent events"). A stream yields the kept pulses after that id, then live ones.
 *
 * Streams are async iterables that end when their AbortSignal aborts or the space closes. A
 * reader slower than the display rate keeps only the newest `maxQueued` pulses (older ones are
 * dropped, as a display socket skips pulses when backed up, W9), so one slow client cannot grow
 * the server's memory.
 */
import type { Bus, Disposable } from '../../bus/port.ts';
import { subjects } from '../../space/spaceHost.ts';
import { spaceIdOfDisplaySubject, subscribeReleasedViews } from '../releasedViews.ts';

/** One kept pulse. */
export interface KeptPulse {
  readonly seq: number;
  /** The exact JSON every display socket got. */
  readonly data: string;
}

/** What a stream yields: a pulse, a gap (the resume point was no longer kept), or the end. */
export type StreamItem = { readonly kind: 'pulse'; readonly pulse: KeptPulse } | { readonly kind: 'gap'; readonly after: number; readonly next: number } | { readonly kind: 'end'; readonly reason: 'space-closed' | 'server-closing' | 'reconnect' };

/** Settings of the history. */
export interface PulseHistoryOptions {
  readonly bus: Bus;
  /** Pulses kept per space (default 200: 10 s at 20 Hz). */
  readonly keep?: number;
  /** Pulses queued per slow reader before the oldest are dropped (default 100). */
  readonly maxQueued?: number;
}

interface Reader {
  readonly queue: StreamItem[];
  wake: (() => void) | null;
  dropped: number;
}

interface SpaceRing {
  readonly ring: KeptPulse[];
  readonly readers: Set<Reader>;
}

const decoder = new TextDecoder();

/** Keeps recent pulses of every space and serves resumable streams of them. */
export class PulseHistory {
  private readonly keep: number;
  private readonly maxQueued: number;
  private readonly spaces = new Map<string, SpaceRing>();
  private readonly subs: Disposable[] = [];

  constructor(o: PulseHistoryOptions) {
    this.keep = o.keep ?? 200;
    this.maxQueued = o.maxQueued ?? 100;
    this.subs.push(subscribeReleasedViews(o.bus, '*', ({ spaceId, view, bytes }) => this.add(spaceId, { seq: view.seq, data: decoder.decode(bytes) })));
    this.subs.push(
      o.bus.subscribe('space.>', (_b, subject) => {
        if (spaceIdOfDisplaySubject(subject) !== null) return;
        const m = /^space\.([^.]+)\.control$/.exec(subject);
        if (m?.[1] && subject === subjects.control(m[1])) this.end(m[1]);
      }),
    );
  }

  private ringOf(spaceId: string): SpaceRing {
    let r = this.spaces.get(spaceId);
    if (!r) {
      r = { ring: [], readers: new Set() };
      this.spaces.set(spaceId, r);
    }
    return r;
  }

  private push(reader: Reader, item: StreamItem): void {
    reader.queue.push(item);
    if (reader.queue.length > this.maxQueued) {
      reader.queue.splice(0, reader.queue.length - this.maxQueued);
      reader.dropped++;
    }
    reader.wake?.();
  }

  private add(spaceId: string, p: KeptPulse): void {
    const r = this.ringOf(spaceId);
    const last = r.ring.at(-1);
    // A restarted space continues its numbering (P6); an older seq would be a replayed message.
    if (last && p.seq <= last.seq) return;
    r.ring.push(p);
    if (r.ring.length > this.keep) r.ring.splice(0, r.ring.length - this.keep);
    for (const reader of r.readers) this.push(reader, { kind: 'pulse', pulse: p });
  }

  private end(spaceId: string): void {
    const r = this.spaces.get(spaceId);
    if (!r) return;
    for (const reader of r.readers) this.push(reader, { kind: 'end', reason: 'space-closed' });
    this.spaces.delete(spaceId);
  }

  /** The newest kept pulse of a space. */
  latest(spaceId: string): KeptPulse | null {
    return this.spaces.get(spaceId)?.ring.at(-1) ?? null;
  }

  /**
   * A stream of the space's pulses with seq > `after` (null: from the newest kept one), then
   * live ones, until `signal` aborts or the space closes. When `after` is older than anything
   * kept, a `gap` item comes first.
   */
  async *stream(spaceId: string, after: number | null, signal: AbortSignal): AsyncGenerator<StreamItem> {
    const r = this.ringOf(spaceId);
    const reader: Reader = { queue: [], wake: null, dropped: 0 };
    if (after === null) {
      const last = r.ring.at(-1);
      if (last) reader.queue.push({ kind: 'pulse', pulse: last });
    } else {
      const first = r.ring[0];
      if (first && first.seq > after + 1) reader.queue.push({ kind: 'gap', after, next: first.seq });
      for (const p of r.ring) if (p.seq > after) reader.queue.push({ kind: 'pulse', pulse: p });
    }
    r.readers.add(reader);
    const onAbort = () => reader.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const item = reader.queue.shift();
        if (item) {
          yield item;
          if (item.kind === 'end') return;
          continue;
        }
        await new Promise<void>((res) => {
          reader.wake = res;
        });
        reader.wake = null;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      r.readers.delete(reader);
    }
  }

  /** Streams open now (tests, metrics). */
  get readers(): number {
    let n = 0;
    for (const r of this.spaces.values()) n += r.readers.size;
    return n;
  }

  /**
   * Ends every open stream with `event: end` (reason `reconnect`) while keeping the history: a
   * server that sheds its streams (before a deploy, or to rebalance behind a load balancer) lets
   * EventSource clients come back with `Last-Event-ID` and miss nothing kept.
   */
  dropStreams(): void {
    for (const r of this.spaces.values()) for (const reader of r.readers) this.push(reader, { kind: 'end', reason: 'reconnect' });
  }

  /** Stops following the bus and ends every open stream (so a server can close its sockets). */
  close(): void {
    for (const s of this.subs.splice(0)) s.dispose();
    for (const r of this.spaces.values()) for (const reader of r.readers) this.push(reader, { kind: 'end', reason: 'server-closing' });
  }
}
