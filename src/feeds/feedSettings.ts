/**
 * The feed settings a steward chooses for a space — its own OSC targets, its display's
 * `frame-ancestors` allow-list and its webhooks — kept through the Storage port (SPEC S13) and
 * put in force: each change is stored first and applied once durable (a failed write changes
 * nothing: UNAVAILABLE), and a restarted server loads them all for its open spaces
 * ({@link FeedSettings.load}). While a space has OSC targets or webhooks, the space is watched
 * as a display (F5) so its display-rate pulses flow to them.
 *
 * On a cluster (§K, F8) the settings live in the shared database and every node must hold the
 * same ones, since the node that delivers a space's OSC bundles and webhooks is its tick owner,
 * not the node the steward's request reached: after a change is stored the node announces it on
 * the bus (`cluster.feeds`, carrying the space's id and join code) and every node, itself included,
 * reloads that space's settings from storage ({@link FeedSettings.reloadSpace}).
 */
import type { Bus, Disposable } from '../bus/port.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import type { SpaceRecord, Storage } from '../storage/port.ts';
import type { EmbedBook } from './embedBook.ts';
import type { AudienceHold, FeedAudience } from './feedAudience.ts';
import { formatOscTarget, type OscFeed, type OscTarget, parseOscTarget } from './osc/oscFeed.ts';
import type { WebhookBook, WebhookEventKind, WebhookInfo } from './webhooks/webhookBook.ts';

/** What the settings act on. */
export interface FeedSettingsOptions {
  /** Where settings are kept; without it they live in memory only. */
  readonly storage?: Storage;
  readonly osc: OscFeed;
  readonly embeds: EmbedBook;
  readonly webhooks: WebhookBook;
  readonly audience: FeedAudience;
  /** The time settings are stamped with. */
  readonly now: () => number;
  readonly report?: (message: string) => void;
  /** A cluster's bus: changes are announced on it and every node reloads them (F8). */
  readonly shareOn?: Bus;
}

/**
 * The bus subject announcing that a space's feed settings changed (F8): one subject for every
 * space, so listening to it is not a wildcard over every space's pulses.
 */
export const FEED_SETTINGS_SUBJECT = 'cluster.feeds';

/** Why a space is watched on the feeds' behalf. */
type HoldReason = 'osc' | 'webhooks';

/** The steward-set feed settings of every space. */
export class FeedSettings {
  private readonly o: FeedSettingsOptions;
  private readonly holds = new Map<string, Promise<AudienceHold | null>>();
  private readonly shared: Disposable | null;

  constructor(o: FeedSettingsOptions) {
    this.o = o;
    this.shared =
      o.shareOn?.subscribe(FEED_SETTINGS_SUBJECT, (bytes) => {
        let m: { space?: unknown; code?: unknown };
        try {
          m = JSON.parse(new TextDecoder().decode(bytes)) as typeof m;
        } catch {
          return;
        }
        const { space: id, code } = m;
        if (typeof id !== 'string' || typeof code !== 'string') return;
        this.reloadSpace({ id, code }).catch((e: unknown) => this.o.report?.(`could not reload the feed settings of space ${code}: ${e instanceof Error ? e.message : String(e)}`));
      }) ?? null;
  }

  /** Tells the other nodes of a cluster that the space's settings changed (they reload them). */
  private announce(space: Pick<SpaceRecord, 'id' | 'code'>): void {
    this.o.shareOn?.publish(FEED_SETTINGS_SUBJECT, new TextEncoder().encode(JSON.stringify({ space: space.id, code: space.code })));
  }

  /**
   * Puts the stored settings of one space in force, replacing what this node held: its OSC
   * targets, its allow-list and its webhooks (another node of the cluster changed them, F8).
   */
  async reloadSpace(space: Pick<SpaceRecord, 'id' | 'code'>): Promise<void> {
    const storage = this.o.storage;
    if (!storage) return;
    const mine = (await storage.listFeedSettings()).filter((f) => f.spaceId === space.id);
    const targets: OscTarget[] = [];
    for (const spec of mine.find((f) => f.kind === 'osc-targets')?.values ?? []) {
      const t = parseOscTarget(spec);
      if (typeof t !== 'string') targets.push(t);
    }
    if (this.o.osc.setSpaceTargets(space.id, targets) === null) this.holdWhile('osc', space, targets.length > 0);
    this.o.embeds.set(space.code, mine.find((f) => f.kind === 'frame-ancestors')?.values ?? []);
    this.holdWhile('webhooks', space, (await this.o.webhooks.reload(space.id, space.code)) > 0);
  }

  /** Stops following the cluster's announcements. */
  close(): void {
    this.shared?.dispose();
  }

  /** Keeps the space watched while `want` (one hold per reason and space). */
  private holdWhile(reason: HoldReason, space: Pick<SpaceRecord, 'id' | 'code'>, want: boolean): void {
    const key = `${reason}\u0000${space.id}`;
    const held = this.holds.get(key);
    if (want && !held) this.holds.set(key, this.o.audience.hold(space.code));
    if (!want && held) {
      this.holds.delete(key);
      void held.then((h) => h?.release());
    }
  }

  /** Stores a setting first; UNAVAILABLE (and nothing changed) if the write fails. */
  private async store(space: SpaceRecord, kind: 'osc-targets' | 'frame-ancestors', values: readonly string[]): Promise<Result<true>> {
    if (!this.o.storage) return ok(true);
    try {
      await this.o.storage.setFeedSetting(space.id, kind, values, this.o.now());
      return ok(true);
    } catch (e) {
      this.o.report?.(`could not store the ${kind} of space ${space.code}: ${e instanceof Error ? e.message : String(e)}`);
      return fail('UNAVAILABLE', 'the setting could not be stored, so nothing was changed; try again');
    }
  }

  /** Replaces the space's own OSC targets (stored, then in force). */
  async setOscTargets(space: SpaceRecord, targets: readonly OscTarget[]): Promise<Result<readonly OscTarget[]>> {
    const refused = this.o.osc.checkSpaceTargets(targets);
    if (refused) return fail('BAD_REQUEST', refused);
    const stored = await this.store(space, 'osc-targets', targets.map(formatOscTarget));
    if (!stored.ok) return stored;
    this.o.osc.setSpaceTargets(space.id, targets);
    this.holdWhile('osc', space, targets.length > 0);
    this.announce(space);
    return ok(this.o.osc.spaceTargets(space.id));
  }

  /** Replaces the display's frame-ancestors allow-list (checked by the caller; stored, then in force). */
  async setFrameAncestors(space: SpaceRecord, origins: readonly string[]): Promise<Result<readonly string[]>> {
    const unique = [...new Set(origins)];
    const stored = await this.store(space, 'frame-ancestors', unique);
    if (!stored.ok) return stored;
    this.o.embeds.set(space.code, unique);
    this.announce(space);
    return ok(this.o.embeds.origins(space.code));
  }

  /** Subscribes a webhook (stored, then in force); the secret is returned only now. */
  async addWebhook(space: SpaceRecord, url: string, events?: readonly WebhookEventKind[]): Promise<Result<WebhookInfo & { secret: string }>> {
    const r = await this.o.webhooks.add(space.id, space.code, url, events);
    if (r.ok) {
      this.holdWhile('webhooks', space, true);
      this.announce(space);
    }
    return r;
  }

  /** Removes a webhook. */
  async removeWebhook(space: SpaceRecord, id: string): Promise<Result<true>> {
    const r = await this.o.webhooks.remove(space.id, id);
    if (r.ok) {
      this.holdWhile('webhooks', space, this.o.webhooks.list(space.id).length > 0);
      this.announce(space);
    }
    return r;
  }

  /**
   * Loads every stored setting of the open spaces among `spaces` and puts it in force: OSC
   * targets and webhooks are followed again, allow-lists sent again. A stored target this
   * version cannot parse is reported and skipped.
   */
  async load(spaces: readonly SpaceRecord[]): Promise<void> {
    const storage = this.o.storage;
    if (!storage) return;
    const open = new Map(spaces.filter((s) => s.status === 'open').map((s) => [s.id, s] as const));
    for (const f of await storage.listFeedSettings()) {
      const space = open.get(f.spaceId);
      if (!space) continue;
      if (f.kind === 'frame-ancestors') {
        this.o.embeds.set(space.code, f.values);
        continue;
      }
      const targets: OscTarget[] = [];
      for (const spec of f.values) {
        const t = parseOscTarget(spec);
        if (typeof t === 'string') this.o.report?.(`space ${space.code}: skipped a stored OSC target: ${t}`);
        else targets.push(t);
      }
      if (this.o.osc.checkSpaceTargets(targets) === null && targets.length > 0) {
        this.o.osc.setSpaceTargets(space.id, targets);
        this.holdWhile('osc', space, true);
      }
    }
    const codes = new Map([...open.values()].map((s) => [s.id, s.code] as const));
    for (const id of await this.o.webhooks.load(codes)) {
      const space = open.get(id);
      if (space) this.holdWhile('webhooks', space, true);
    }
  }
}
