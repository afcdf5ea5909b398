/**
 * The feed settings a steward chooses for a space — its own OSC targets, its display's
 * `frame-ancestors` allow-list and its webhooks — kept through the Storage port (SPEC S13) and
 * put in force: each change is stored first and applied once durable (a failed write changes
 * nothing: UNAVAILABLE), and a restarted server loads them all for its open spaces
 * ({@link FeedSettings.load}). While a space has OSC targets or webhooks, the space is watched
 * as a display (F5) so its display-rate pulses flow to them.
 */
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
}

/** Why a space is watched on the feeds' behalf. */
type HoldReason = 'osc' | 'webhooks';

/** The steward-set feed settings of every space. */
export class FeedSettings {
  private readonly o: FeedSettingsOptions;
  private readonly holds = new Map<string, Promise<AudienceHold | null>>();

  constructor(o: FeedSettingsOptions) {
    this.o = o;
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
    return ok(this.o.osc.spaceTargets(space.id));
  }

  /** Replaces the display's frame-ancestors allow-list (checked by the caller; stored, then in force). */
  async setFrameAncestors(space: SpaceRecord, origins: readonly string[]): Promise<Result<readonly string[]>> {
    const unique = [...new Set(origins)];
    const stored = await this.store(space, 'frame-ancestors', unique);
    if (!stored.ok) return stored;
    this.o.embeds.set(space.code, unique);
    return ok(this.o.embeds.origins(space.code));
  }

  /** Subscribes a webhook (stored, then in force); the secret is returned only now. */
  async addWebhook(space: SpaceRecord, url: string, events?: readonly WebhookEventKind[]): Promise<Result<WebhookInfo & { secret: string }>> {
    const r = await this.o.webhooks.add(space.id, space.code, url, events);
    if (r.ok) this.holdWhile('webhooks', space, true);
    return r;
  }

  /** Removes a webhook. */
  async removeWebhook(space: SpaceRecord, id: string): Promise<Result<true>> {
    const r = await this.o.webhooks.remove(space.id, id);
    if (r.ok) this.holdWhile('webhooks', space, this.o.webhooks.list(space.id).length > 0);
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
