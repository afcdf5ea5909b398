/**
 * The live feeds of a server, wired in one place: the display-mode book, the SSE pulse history,
 * the OSC feed and the webhooks — each a subscriber of the released views on the bus (SPEC §B,
 * §R), none of them reading a space's state.
 */
import type { Bus } from '../bus/port.ts';
import { DisplayModeBook } from '../feeds/displayModes.ts';
import { EmbedBook } from '../feeds/embedBook.ts';
import type { FeedDelivery } from '../feeds/feedDelivery.ts';
import { type AudienceHold, FeedAudience } from '../feeds/feedAudience.ts';
import { FeedSettings } from '../feeds/feedSettings.ts';
import { OscFeed, type OscTarget, parseOscTarget } from '../feeds/osc/oscFeed.ts';
import { PulseHistory } from '../feeds/sse/pulseHistory.ts';
import { WebhookBook } from '../feeds/webhooks/webhookBook.ts';
import type { Scheduler } from '../space/scheduler.ts';
import type { SpaceHost } from '../space/spaceHost.ts';
import type { Storage } from '../storage/port.ts';

/** The feeds of one server. */
export interface Feeds {
  readonly modes: DisplayModeBook;
  readonly history: PulseHistory;
  readonly osc: OscFeed;
  readonly webhooks: WebhookBook;
  /** Joins spaces as a display for the feeds that need display-rate pulses. */
  readonly audience: FeedAudience;
  /** Per-space frame-ancestors allow-lists of the display. */
  readonly embeds: EmbedBook;
  /** The steward's settings (OSC targets, allow-lists, webhooks): stored, then in force (S13). */
  readonly settings: FeedSettings;
  close(): Promise<void>;
}

/** Settings of {@link startFeeds}. */
export interface FeedsOptions {
  readonly host: SpaceHost;
  readonly bus: Bus;
  readonly scheduler: Scheduler;
  /** Server-wide OSC targets, `HOST:PORT`. */
  readonly osc?: readonly string[];
  /** The HTTP client webhooks use (default fetch). */
  readonly fetch?: typeof fetch;
  /** Where the steward's feed settings are kept (S13); without it they live in memory only. */
  readonly storage?: Storage;
  /** The key webhook secrets are derived from (default: random for this process). */
  readonly secretKey?: Uint8Array | string;
  readonly report?: (message: string) => void;
  /**
   * A cluster node (§K, F8): which pulses and closes this node delivers to the push feeds (OSC,
   * webhooks) — those it published or applied — and settings changes are announced on the bus
   * so every node holds the same ones. Absent on a single node: it delivers everything.
   */
  readonly cluster?: { readonly delivery: FeedDelivery };
}

/** Parses server-wide OSC targets; throws a RangeError naming the first bad one. */
export function oscTargetsOf(specs: readonly string[]): OscTarget[] {
  return specs.map((spec) => {
    const t = parseOscTarget(spec);
    if (typeof t === 'string') throw new RangeError(t);
    return t;
  });
}

const decoder = new TextDecoder();

/** Calls `f` with the id and code of each participant-rate pulse's space. */
function subscribeReleasedParticipantViews(bus: Bus, f: (spaceId: string, code: string) => void) {
  return bus.subscribe('space.>', (bytes, subject) => {
    const m = /^space\.([^.]+)\.pulse\.participant$/.exec(subject);
    if (!m?.[1]) return;
    try {
      const v = JSON.parse(decoder.decode(bytes)) as { space?: unknown };
      if (typeof v.space === 'string') f(m[1], v.space);
    } catch {}
  });
}

/** Starts every feed, with the feed settings stored for the open spaces in force (S13). */
export async function startFeeds(o: FeedsOptions): Promise<Feeds> {
  const report = o.report ?? ((m: string) => console.error(`attune: ${m}`));
  const modeOf = (spaceId: string) => {
    const d = o.host.displayModeOf(spaceId);
    return d.by === 'default' ? null : { mode: d.mode, at: d.at, by: d.by === 'policy' ? ('policy' as const) : ('steward' as const) };
  };
  const modes = new DisplayModeBook(modeOf);
  // The mode is a governance act (SPEC Q9): the book follows what the host applied, and
  // webhooks hear of every council decision.
  const acts = o.host.listenActs((spaceId, e) => {
    if (e.kind !== 'act-logged') return;
    const d = o.host.displayModeOf(spaceId);
    modes.set(spaceId, d.mode, e.at, d.by === 'policy' ? 'policy' : 'steward');
    const k = e.act.kind;
    if (k === 'policy-fire' || k === 'policy-adopt' || k === 'proposal-expire' || k === 'policy-retire' || k === 'feedback-set' || k === 'council-create') {
      const fields = o.host.councilView(spaceId);
      const type = k === 'policy-fire' ? 'policy.fired' : k === 'policy-adopt' ? 'policy.adopted' : k === 'proposal-expire' ? 'policy.expired' : k === 'policy-retire' ? 'policy.retired' : k === 'feedback-set' ? 'feedback.changed' : 'council.created';
      webhooks.emit(spaceId, 'decision', type, e.at, {
        act: e.act,
        entry: e.entry ?? null,
        feedback: fields.ok ? fields.value.feedback : null,
      });
    }
    // A `notify` policy's notification, on its own signed channel (SPEC Q5): the notice as the steward and council read it.
    if (k === 'policy-fire' && 'notify' in e.act.action) {
      const notice = o.host.latestNotice(spaceId);
      if (notice) webhooks.emit(spaceId, 'notify', `notify.${notice.audience}`, e.at, notice);
    }
  });
  // On a cluster (K12) an act applied on another node reaches this one as a governance sync: the
  // book follows it too, so this node's SSE `mode` events see the mode in force.
  const synced = o.host.listenGovernanceSynced((spaceId) => {
    const d = o.host.displayModeOf(spaceId);
    if (d.by !== 'default') modes.set(spaceId, d.mode, d.at, d.by === 'policy' ? 'policy' : 'steward', true);
  });
  const history = new PulseHistory({ bus: o.bus });
  const delivery = o.cluster?.delivery;
  const osc = new OscFeed({ bus: o.bus, targets: oscTargetsOf(o.osc ?? []), modeOf: (id) => modes.get(id).mode, report, ...(delivery ? { delivery } : {}) }).start();
  const webhooks = new WebhookBook({
    bus: o.bus,
    scheduler: o.scheduler,
    modes,
    report,
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.storage ? { storage: o.storage } : {}),
    ...(o.secretKey !== undefined ? { secretKey: o.secretKey } : {}),
    ...(delivery ? { delivery } : {}),
  });
  const audience = new FeedAudience({ host: o.host, scheduler: o.scheduler });
  const embeds = new EmbedBook();
  const settings = new FeedSettings({ osc, embeds, webhooks, audience, now: () => o.scheduler.now(), report, ...(o.storage ? { storage: o.storage } : {}), ...(o.cluster ? { shareOn: o.bus } : {}) });
  // Server-wide OSC targets follow every space that is in use: a space announces itself with
  // its participant-rate pulses (published while anyone is connected or counted), and the feed
  // then watches it as a display, so its bundles come at the display rate.
  const watched = new Map<string, Promise<AudienceHold | null>>();
  const discovery =
    osc.targetsOf('').length > 0
      ? subscribeReleasedParticipantViews(o.bus, (spaceId, code) => {
          if (!watched.has(spaceId)) watched.set(spaceId, audience.hold(code));
        })
      : null;
  const ended = o.bus.subscribe('space.>', (_b, subject) => {
    const m = /^space\.([^.]+)\.control$/.exec(subject);
    if (m?.[1]) {
      void watched.get(m[1])?.then((h) => h?.release());
      watched.delete(m[1]);
    }
  });
  const feeds: Feeds = {
    modes,
    history,
    osc,
    webhooks,
    audience,
    embeds,
    settings,
    async close() {
      acts.dispose();
      synced.dispose();
      settings.close();
      discovery?.dispose();
      ended.dispose();
      audience.close();
      history.close();
      await osc.close();
      await webhooks.close();
    },
  };
  try {
    await settings.load(await o.host.listSpaces());
  } catch (e) {
    await feeds.close();
    throw e;
  }
  return feeds;
}
