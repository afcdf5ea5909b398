/**
 * A feed is an audience of a space's displays. The space machine publishes display-rate pulses
 * only while a display watches (SPEC M1: `publish(displays)` when `displays > 0`), so a feed
 * that needs them — an SSE reader, an OSC rig, a webhook subscriber — joins the space as one
 * display through the host's ordinary `join(…, 'display')`, exactly as a projector's page does.
 * The join is an event like any other (`display-joined`, recorded and replayed), and the feed
 * still sees only what the bus carries: the released view.
 *
 * Holds are counted per space; when the last is released the display stays joined for
 * `lingerMs` more, so an EventSource that reconnects finds the pulses of its absence kept.
 */
import { normaliseCode } from '../core/protocol.ts';
import type { ConnRef } from '../core/space/events.ts';
import type { Cancel, Scheduler } from '../space/scheduler.ts';
import type { SpaceHost } from '../space/spaceHost.ts';

/** A hold on a space's display pulses. */
export interface AudienceHold {
  release(): void;
}

interface Entry {
  ref: ConnRef | null;
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
      e = { ref: null, holds: 0, linger: null, joining: null };
      this.entries.set(key, e);
    }
    e.holds++;
    e.linger?.cancel();
    e.linger = null;
    const entry = e;
    if (entry.ref === null) entry.joining ??= this.join(key, entry);
    const joined = entry.joining ? await entry.joining : entry.ref !== null;
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
    // Never step the host from inside one of its own effects: a hold may be asked for by a bus
    // handler that a publish is running (the LocalBus delivers synchronously), and a nested
    // step there would number its event inside the outer one's. Join after the current turn.
    await Promise.resolve();
    const host = this.o.host;
    const ref = host.attach({
      send: () => {},
      close: () => {
        // The space closed (or the host dropped us): forget the entry; a later hold joins anew.
        if (this.entries.get(key) === e) this.entries.delete(key);
        e.ref = null;
      },
      welcomed: () => {},
    });
    const r = await host.join(ref, key, 'display', false);
    e.joining = null;
    if (!r.ok) {
      host.detach(ref);
      if (this.entries.get(key) === e && e.holds <= 1) this.entries.delete(key);
      return false;
    }
    e.ref = ref;
    return true;
  }

  private leave(key: string, e: Entry): void {
    e.linger = null;
    if (e.holds > 0) return;
    if (e.ref !== null) this.o.host.detach(e.ref);
    e.ref = null;
    if (this.entries.get(key) === e) this.entries.delete(key);
  }

  /** Spaces joined now (tests). */
  get joined(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.ref !== null) n++;
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
