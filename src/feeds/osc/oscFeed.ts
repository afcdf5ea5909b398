/**
 * The OSC feed: every released display pulse (SPEC §B subject `space.<id>.pulse.display`) as one
 * OSC bundle over UDP to each target — the venue's TouchDesigner, Max/MSP, Resolume or lighting
 * desk. Targets are server-wide (`attune serve --osc HOST:PORT`, several) or per space (set by
 * the steward page). A bundle is encoded once per pulse with node-osc and the same bytes go to
 * every target of that space, at the display rate.
 *
 * UDP is fire-and-forget: a target that is down costs one failed `send` per pulse and is reported
 * once, never retried or queued (a late pulse is worthless to a light show).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { Bundle, encode, Message } from 'node-osc';
import type { Bus, Disposable } from '../../bus/port.ts';
import type { DisplayMode } from '../../core/displayMode.ts';
import type { FeedDelivery } from '../feedDelivery.ts';
import { subscribeReleasedViews } from '../releasedViews.ts';
import { type OscMessageSpec, oscMessagesOf } from './oscPulse.ts';

/** Where bundles go. */
export interface OscTarget {
  readonly host: string;
  readonly port: number;
}

/** Most targets one space may have (the steward page's list). */
export const MAX_SPACE_TARGETS = 8;

/**
 * Parses `HOST:PORT` (`[v6]:PORT` for IPv6). Returns a message for anything else, as a value.
 */
export function parseOscTarget(spec: string): OscTarget | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(spec.trim());
  if (!m) return `an OSC target is HOST:PORT (or [IPv6]:PORT), got '${spec}'`;
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `the OSC port must be in 1…65535, got ${port}`;
  if (m[1] && isIP(host) !== 6) return `'${host}' is not an IPv6 address`;
  return { host, port };
}

/** A target as `HOST:PORT`. */
export function formatOscTarget(t: OscTarget): string {
  return isIP(t.host) === 6 ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** Encodes messages as one OSC bundle (timetag "immediately": pulses are live, not scheduled). */
export function encodeOscBundle(messages: readonly OscMessageSpec[]): Uint8Array {
  const bundle = new Bundle(0);
  for (const m of messages) {
    const msg = new Message(m.address);
    for (const a of m.args) msg.append({ type: a.type, value: a.value });
    bundle.append(msg);
  }
  return encode(bundle);
}

/** Settings of the feed. */
export interface OscFeedOptions {
  readonly bus: Bus;
  /** Server-wide targets: every space's pulses go to each. */
  readonly targets?: readonly OscTarget[];
  /** The display mode of a space, sent as `/mode`. */
  readonly modeOf?: (spaceId: string) => DisplayMode | undefined;
  /** Also send `/hist`. */
  readonly hist?: boolean;
  /** Where a failing target is reported (once per target until it works again). */
  readonly report?: (message: string) => void;
  /** Which pulses this node sends (a cluster: those it published, F8); default every one. */
  readonly delivery?: FeedDelivery;
}

/** Figures for the steward page and tests. */
export interface OscFeedStats {
  readonly bundles: number;
  readonly datagrams: number;
  readonly errors: number;
}

/** Sends released pulses as OSC bundles. Dispose with {@link OscFeed.close}. */
export class OscFeed {
  private readonly o: OscFeedOptions;
  private readonly global: OscTarget[];
  private readonly perSpace = new Map<string, OscTarget[]>();
  private readonly failing = new Set<string>();
  private sub: Disposable | null = null;
  private v4: Socket | null = null;
  private v6: Socket | null = null;
  private s = { bundles: 0, datagrams: 0, errors: 0 };

  constructor(o: OscFeedOptions) {
    this.o = o;
    this.global = [...(o.targets ?? [])];
  }

  /** Starts following every space's released pulses. */
  start(): this {
    this.sub ??= subscribeReleasedViews(this.o.bus, '*', ({ spaceId, view }) => {
      const targets = this.targetsOf(spaceId);
      if (targets.length === 0 || (this.o.delivery && !this.o.delivery.pulse(spaceId, view.seq))) return;
      const mode = this.o.modeOf?.(spaceId);
      const bytes = encodeOscBundle(oscMessagesOf(view, { ...(mode ? { mode } : {}), ...(this.o.hist ? { hist: true } : {}) }));
      this.s.bundles++;
      for (const t of targets) this.send(bytes, t);
    });
    return this;
  }

  /** The targets a space's pulses go to (server-wide first, then the space's own). */
  targetsOf(spaceId: string): readonly OscTarget[] {
    const own = this.perSpace.get(spaceId);
    return own ? [...this.global, ...own] : this.global;
  }

  /** The space's own targets (the steward page's list). */
  spaceTargets(spaceId: string): readonly OscTarget[] {
    return this.perSpace.get(spaceId) ?? [];
  }

  /** Why a space may not have these targets (more than {@link MAX_SPACE_TARGETS}), or null. */
  checkSpaceTargets(targets: readonly OscTarget[]): string | null {
    return targets.length > MAX_SPACE_TARGETS ? `at most ${MAX_SPACE_TARGETS} OSC targets per space` : null;
  }

  /** Replaces the space's own targets; refuses more than {@link MAX_SPACE_TARGETS}. */
  setSpaceTargets(spaceId: string, targets: readonly OscTarget[]): string | null {
    const refused = this.checkSpaceTargets(targets);
    if (refused) return refused;
    if (targets.length === 0) this.perSpace.delete(spaceId);
    else this.perSpace.set(spaceId, [...targets]);
    return null;
  }

  get stats(): OscFeedStats {
    return { ...this.s };
  }

  private socketFor(host: string): Socket {
    const six = isIP(host) === 6;
    const existing = six ? this.v6 : this.v4;
    if (existing) return existing;
    const sock = createSocket(six ? 'udp6' : 'udp4');
    sock.on('error', (e) => this.o.report?.(`OSC socket: ${e.message}`));
    sock.unref();
    if (six) this.v6 = sock;
    else this.v4 = sock;
    return sock;
  }

  private send(bytes: Uint8Array, t: OscTarget): void {
    const key = formatOscTarget(t);
    this.socketFor(t.host).send(bytes, t.port, t.host, (err) => {
      if (err) {
        this.s.errors++;
        if (!this.failing.has(key)) {
          this.failing.add(key);
          this.o.report?.(`OSC to ${key} failed: ${err.message}`);
        }
        return;
      }
      this.s.datagrams++;
      this.failing.delete(key);
    });
  }

  /** Stops following and closes the sockets. Idempotent. */
  async close(): Promise<void> {
    this.sub?.dispose();
    this.sub = null;
    const socks = [this.v4, this.v6].filter((x): x is Socket => x !== null);
    this.v4 = null;
    this.v6 = null;
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
