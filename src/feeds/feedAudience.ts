/**
 * A feed is an audience of a space's displays. The space machine publishes display-rate pulses
 * only while a display watches (SPEC M1: `publish(displays)` when `displays > 0`), so a feed
 * that needs them — an SSE reader, an OSC rig, a webhook subscriber — watches the space as one
 * display through the host (`SpaceHost.watch`): a `display-joined` like a projector's page,
 * recorded and replayed, without a connection, and counted in presence as a feed rather than a
 * display. The feed still sees only what the bus carries: the released view.
 *
 * Holds are counted per space; when the last is released the display stays joined for
 * `lingerMs` more, so an EventSource that reconnects finds the pulses of its absence kept.
 */
import { normaliseCode } from '../core/protocol.ts';
import type { Cancel, Scheduler } from '../space/scheduler.ts';
import type { DisplayWatch, SpaceHost } from '../space/spaceHost.ts';

/** A hold on a space's display pulses. */
export interface AudienceHold {
  release(): void;
}

interface Entry {
  watch: DisplayWatch | null;
  holds: number;
  linger: Cancel | null;
  joining: Promise<boolean> | null;
}

/** Settings of the audience. */
export interface FeedAudienceOptions {
  readonly host: SpaceHost;
  readonly scheduler: Scheduler;
  /** How long the display stays joined after the last hold is released, ms (default 30 s). */
  readonly lingerMs?: number;
}

/** Joins spaces as a display on behalf of the feeds. */
export class FeedAudience {
  private readonly o: FeedAudienceOptions;
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(o: FeedAudienceOptions) {
    this.o = o;
  }

  /** Holds the space's display pulses flowing; resolves false when the space is not open. */
  async hold(code: string): Promise<AudienceHold | null> {
    if (this.closed) return null;
    const key = normaliseCode(code);
    let e = this.entries.get(key);
    if (!e) {
      e = { watch: null, holds: 0, linger: null, joining: null };
      this.entries.set(key, e);
    }
    e.holds++;
    e.linger?.cancel();
    e.linger = null;
    const entry = e;
    if (entry.watch === null) entry.joining ??= this.join(key, entry);
    const joined = entry.joining ? await entry.joining : entry.watch !== null;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      entry.holds--;
      if (entry.holds > 0 || this.closed) return;
      entry.linger = this.o.scheduler.at(this.o.scheduler.now() + (this.o.lingerMs ?? 30_000), () => this.leave(key, entry));
    };
    if (!joined) {
      release();
      return null;
    }
    return { release };
  }

  private async join(key: string, e: Entry): Promise<boolean> {
    // Join after the current turn: a hold may be asked for by a bus handler that a publish is
    // running (the LocalBus delivers synchronously); the host queues such a step, but the
    // watch would then not be in force when this resolves.
    await Promise.resolve();
    const r = await this.o.host.watch(key, () => {
      // The space closed: forget the entry; a later hold watches anew.
      if (this.entries.get(key) === e) this.entries.delete(key);
      e.watch = null;
    });
    e.joining = null;
    if (!r.ok) {
      if (this.entries.get(key) === e && e.holds <= 1) this.entries.delete(key);
      return false;
    }
    e.watch = r.value;
    return true;
  }

  private leave(key: string, e: Entry): void {
    e.linger = null;
    if (e.holds > 0) return;
    e.watch?.end();
    e.watch = null;
    if (this.entries.get(key) === e) this.entries.delete(key);
  }

  /** Spaces joined now (tests). */
  get joined(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.watch !== null) n++;
    return n;
  }

  /** Leaves every space. */
  close(): void {
    this.closed = true;
    for (const [key, e] of this.entries) {
      e.linger?.cancel();
      e.holds = 0;
      this.leave(key, e);
    }
  }
}
