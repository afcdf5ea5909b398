/**
 * In-memory Storage: for tests and ephemeral demos. Same contract as SQLite
 * (test/contracts/storage.contract.ts), nothing survives the process.
 *
 * Writes follow the SQLite adapter's group commit (SPEC S3): every write call joins one ordered
 * queue that is applied on the next `setImmediate`, in exactly call order; each call validates
 * everything before it changes anything, so a failing call leaves no trace (the savepoint of the
 * SQLite adapter) and the others apply. Promises settle only after the whole group applied, like
 * a COMMIT, so callers cannot come to depend on a memory store being faster than a real one.
 */
import type { ConsentRecord, FeedSettingKind, FeedSettingRecord, InputRecord, ParticipantRecord, PrivacyReleaseRecord, PulsePoint, SpaceEventRecord, SpaceRecord, Storage, StoredCounts, StoryRecord, StorySettingsRecord, WebhookDeliveryRecord, WebhookRecord } from '../port.ts';

/** An input that carries its machine event number. */
type NumberedInput = InputRecord & { readonly n: number };

/** One queued write: `apply` throws before changing anything, or changes everything. */
interface Write {
  readonly apply: () => unknown;
  readonly resolve: (value: never) => void;
  readonly reject: (e: unknown) => void;
}

/** Throws unless `n` is a valid event number (a positive safe integer; numbering starts at 1). */
function checkEventNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`event number must be a positive integer, got ${n}`);
}

/** Index of the first item of `list` (ascending by n) whose n is ≥ `n`. O(log length). */
function lowerBound(list: readonly { readonly n: number }[], n: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as { n: number }).n < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts keeping `list` ascending by n; O(1) for the usual in-order append. */
function insertByN<T extends { readonly n: number }>(list: T[], item: T): void {
  const last = list[list.length - 1];
  if (last === undefined || last.n < item.n) list.push(item);
  else list.splice(lowerBound(list, item.n), 0, item);
}

/** `map.get(key)`, creating an empty array first. */
function listOf<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

/** `map.get(key)`, creating an empty map first. */
function innerMap<K, V>(map: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = map.get(key);
  if (!inner) {
    inner = new Map();
    map.set(key, inner);
  }
  return inner;
}

/** A Storage that keeps everything in maps. */
export class MemoryStorage implements Storage {
  private readonly spaces = new Map<string, SpaceRecord>();
  private readonly codes = new Map<string, string>();
  private readonly participants = new Map<string, ParticipantRecord>();
  private readonly byToken = new Map<string, string>();
  /** Per space, in append order. */
  private readonly inputs = new Map<string, InputRecord[]>();
  /** Per space, the inputs that carry an n, ascending by n. */
  private readonly inputsByN = new Map<string, NumberedInput[]>();
  /** Per space, ascending by n. */
  private readonly events = new Map<string, SpaceEventRecord[]>();
  /** Per space, every n stored (events and inputs share one numbering). */
  private readonly numbers = new Map<string, Set<number>>();
  private readonly pulses = new Map<string, PulsePoint[]>();
  /** Per space, the spaces its steward agreed to link with (S10), in agreement order. */
  private readonly links = new Map<string, Map<string, number>>();
  private readonly governance = new Map<string, string>();
  /** Stories by id (ST13), and each space's story settings. */
  private readonly stories = new Map<string, StoryRecord>();
  private readonly storySettings = new Map<string, StorySettingsRecord>();
  /** Feed settings (S13) by space, then kind. */
  private readonly feedSettings = new Map<string, Map<FeedSettingKind, FeedSettingRecord>>();
  /** Webhook subscriptions in creation order, by id. */
  private readonly webhooks = new Map<string, WebhookRecord>();
  /** Per space, delivery attempts in append order (trimmed). */
  private readonly deliveries = new Map<string, WebhookDeliveryRecord[]>();
  /** Space id → secret noise seed (S15). */
  private readonly secrets = new Map<string, string>();
  /** Space id → DP releases, by n (S15). */
  private readonly releases = new Map<string, PrivacyReleaseRecord[]>();
  /** Participant id → consents (S16). */
  private readonly consents = new Map<string, ConsentRecord[]>();
  private pending: Write[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Number of groups applied (the SQLite adapter's commit count). */
  commits = 0;

  private check(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  /** Queues a write; it applies in call order with the rest of its group. */
  private enqueue<T>(apply: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, resolve: resolve as (value: never) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Applies the pending group in order, then settles every promise of the group. */
  private flush(): void {
    this.flushScheduled = false;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    const outcomes = group.map((w) => {
      try {
        return { ok: true as const, value: w.apply() };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
    this.commits++;
    group.forEach((w, k) => {
      const o = outcomes[k] as (typeof outcomes)[number];
      if (o.ok) w.resolve(o.value as never);
      else w.reject(o.error);
    });
  }

  private hasNumber(spaceId: string, n: number): boolean {
    return this.numbers.get(spaceId)?.has(n) ?? false;
  }

  private addNumber(spaceId: string, n: number): void {
    let set = this.numbers.get(spaceId);
    if (!set) {
      set = new Set();
      this.numbers.set(spaceId, set);
    }
    set.add(n);
  }

  createSpace(space: SpaceRecord): Promise<boolean> {
    return this.enqueue(() => {
      if (this.codes.has(space.code) || this.spaces.has(space.id)) return false;
      this.spaces.set(space.id, space);
      this.codes.set(space.code, space.id);
      return true;
    });
  }

  async getSpaceByCode(code: string): Promise<SpaceRecord | null> {
    this.check();
    const id = this.codes.get(code);
    return id === undefined ? null : (this.spaces.get(id) ?? null);
  }

  async getSpace(id: string): Promise<SpaceRecord | null> {
    this.check();
    return this.spaces.get(id) ?? null;
  }

  async listSpaces(): Promise<SpaceRecord[]> {
    this.check();
    return [...this.spaces.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  closeSpace(id: string, at: number): Promise<void> {
    return this.enqueue(() => {
      const s = this.spaces.get(id);
      if (s && s.status === 'open') this.spaces.set(id, { ...s, status: 'closed', closedAt: at });
    });
  }

  updateStewardTokenHash(id: string, hash: string): Promise<void> {
    return this.enqueue(() => {
      const s = this.spaces.get(id);
      if (s) this.spaces.set(id, { ...s, stewardTokenHash: hash });
    });
  }

  createParticipant(p: ParticipantRecord): Promise<void> {
    return this.enqueue(() => {
      if (this.participants.has(p.id) || this.byToken.has(p.tokenHash)) throw new Error('participant exists');
      // The SQLite adapter's foreign key: a participant belongs to a stored space.
      if (!this.spaces.has(p.spaceId)) throw new Error(`unknown space ${p.spaceId}`);
      this.participants.set(p.id, p);
      this.byToken.set(p.tokenHash, p.id);
    });
  }

  async getParticipantByTokenHash(tokenHash: string): Promise<ParticipantRecord | null> {
    this.check();
    const id = this.byToken.get(tokenHash);
    return id === undefined ? null : (this.participants.get(id) ?? null);
  }

  async listActiveParticipants(spaceId: string, since: number): Promise<ParticipantRecord[]> {
    this.check();
    return [...this.participants.values()].filter((p) => p.spaceId === spaceId && p.latest !== null && p.latest.at >= since);
  }

  async countParticipants(spaceId: string): Promise<number> {
    this.check();
    let n = 0;
    for (const p of this.participants.values()) if (p.spaceId === spaceId) n++;
    return n;
  }

  appendInputs(inputs: readonly InputRecord[]): Promise<void> {
    return this.enqueue(() => {
      // Validate the whole call against the state plus the call's own earlier inputs first.
      const updated = new Map<string, ParticipantRecord>();
      const numbers = new Set<string>();
      const accepted: InputRecord[] = [];
      for (const i of inputs) {
        const p = updated.get(i.participantId) ?? this.participants.get(i.participantId);
        if (!p || p.spaceId !== i.spaceId) throw new Error(`unknown participant ${i.participantId}`);
        if (i.seq <= p.lastSeq) continue;
        if (i.n !== undefined) {
          checkEventNumber(i.n);
          const key = `${i.spaceId}\u0000${i.n}`;
          if (this.hasNumber(i.spaceId, i.n) || numbers.has(key)) throw new Error(`duplicate event number ${i.n} in space ${i.spaceId}`);
          numbers.add(key);
        }
        updated.set(p.id, { ...p, lastSeq: i.seq, latest: i.affect });
        accepted.push(i);
      }
      for (const p of updated.values()) this.participants.set(p.id, p);
      for (const i of accepted) {
        listOf(this.inputs, i.spaceId).push(i);
        if (i.n !== undefined) {
          insertByN(listOf(this.inputsByN, i.spaceId), i as NumberedInput);
          this.addNumber(i.spaceId, i.n);
        }
      }
    });
  }

  async listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]> {
    this.check();
    // Ordered by time, then append order (Array.prototype.sort is stable), as SQLite orders by (at, rowid).
    return (this.inputs.get(spaceId) ?? [])
      .filter((i) => i.affect.at >= from && i.affect.at < to)
      .sort((a, b) => a.affect.at - b.affect.at)
      .slice(0, limit);
  }

  async listInputsByN(spaceId: string, fromN: number, limit: number): Promise<NumberedInput[]> {
    this.check();
    const list = this.inputsByN.get(spaceId) ?? [];
    const start = lowerBound(list, fromN);
    return list.slice(start, start + Math.max(0, limit));
  }

  setParticipantGroup(participantId: string, group: string | null): Promise<void> {
    return this.enqueue(() => {
      const p = this.participants.get(participantId);
      if (!p) throw new Error(`unknown participant ${participantId}`);
      const { group: _old, ...rest } = p;
      this.participants.set(p.id, group === null ? rest : { ...rest, group });
    });
  }

  setSpaceLink(spaceId: string, otherId: string, agree: boolean, at: number): Promise<void> {
    return this.enqueue(() => {
      if (!this.spaces.has(spaceId)) throw new Error(`unknown space ${spaceId}`);
      const m = innerMap(this.links, spaceId);
      if (agree) {
        if (!m.has(otherId)) m.set(otherId, at);
      } else m.delete(otherId);
    });
  }

  putGovernance(spaceId: string, snapshot: string): Promise<void> {
    return this.enqueue(() => {
      if (!this.spaces.has(spaceId)) throw new Error(`unknown space ${spaceId}`);
      this.governance.set(spaceId, snapshot);
    });
  }

  async getGovernance(spaceId: string): Promise<string | null> {
    this.check();
    return this.governance.get(spaceId) ?? null;
  }

  async listSpaceLinks(spaceId: string): Promise<string[]> {
    this.check();
    return [...(this.links.get(spaceId)?.keys() ?? [])];
  }

  clearLatest(participantId: string): Promise<void> {
    return this.enqueue(() => {
      const p = this.participants.get(participantId);
      if (p) this.participants.set(p.id, { ...p, latest: null });
    });
  }

  appendEvents(events: readonly SpaceEventRecord[]): Promise<void> {
    return this.enqueue(() => {
      const numbers = new Set<string>();
      for (const e of events) {
        checkEventNumber(e.n);
        const key = `${e.spaceId}\u0000${e.n}`;
        if (this.hasNumber(e.spaceId, e.n) || numbers.has(key)) throw new Error(`duplicate event number ${e.n} in space ${e.spaceId}`);
        numbers.add(key);
      }
      for (const e of events) {
        insertByN(listOf(this.events, e.spaceId), e);
        this.addNumber(e.spaceId, e.n);
      }
    });
  }

  async listEvents(spaceId: string, fromN: number, limit: number): Promise<SpaceEventRecord[]> {
    this.check();
    const list = this.events.get(spaceId) ?? [];
    const start = lowerBound(list, fromN);
    return list.slice(start, start + Math.max(0, limit));
  }

  async lastEventN(spaceId: string): Promise<number> {
    this.check();
    const lastEvent = this.events.get(spaceId)?.at(-1)?.n ?? 0;
    const lastInput = this.inputsByN.get(spaceId)?.at(-1)?.n ?? 0;
    return Math.max(lastEvent, lastInput);
  }

  setSpaceSecret(spaceId: string, noiseSeed: string): Promise<void> {
    return this.enqueue(() => {
      if (!this.spaces.has(spaceId)) throw new Error(`unknown space ${spaceId}`);
      if (!this.secrets.has(spaceId)) this.secrets.set(spaceId, noiseSeed);
    });
  }

  async getSpaceSecret(spaceId: string): Promise<string | null> {
    this.check();
    return this.secrets.get(spaceId) ?? null;
  }

  eraseParticipant(participantId: string): Promise<{ readonly inputs: number }> {
    return this.enqueue(() => {
      const p = this.participants.get(participantId);
      if (!p) throw new Error(`unknown participant ${participantId}`);
      this.participants.delete(participantId);
      this.byToken.delete(p.tokenHash);
      this.consents.delete(participantId);
      for (const [id, story] of this.stories) if (story.participantId === participantId) this.stories.delete(id);
      const all = this.inputs.get(p.spaceId) ?? [];
      const mine = all.filter((i) => i.participantId === participantId);
      this.inputs.set(
        p.spaceId,
        all.filter((i) => i.participantId !== participantId),
      );
      const numbered = this.inputsByN.get(p.spaceId);
      if (numbered)
        this.inputsByN.set(
          p.spaceId,
          numbered.filter((i) => i.participantId !== participantId),
        );
      const events = this.events.get(p.spaceId);
      if (events)
        this.events.set(
          p.spaceId,
          events.filter((e) => e.participantId !== participantId),
        );
      return { inputs: mine.length };
    });
  }

  /** Counts what a space holds about people; memory seals nothing (it never reaches a disk). */
  private countsOf(spaceId: string): StoredCounts {
    const people = [...this.participants.values()].filter((p) => p.spaceId === spaceId);
    const events = this.events.get(spaceId) ?? [];
    return {
      participants: people.length,
      inputs: (this.inputs.get(spaceId) ?? []).length,
      sealedInputs: 0,
      erased: events.filter((e) => e.kind === 'erased').length,
      consents: people.reduce((n, p) => n + (this.consents.get(p.id)?.length ?? 0), 0),
      stories: [...this.stories.values()].filter((st) => st.spaceId === spaceId).length,
      events: events.length,
    };
  }

  async storedCounts(spaceId: string): Promise<StoredCounts> {
    this.check();
    if (!this.spaces.has(spaceId)) throw new Error(`unknown space ${spaceId}`);
    return this.countsOf(spaceId);
  }

  purgeSpace(spaceId: string, at: number): Promise<StoredCounts> {
    return this.enqueue(() => {
      const space = this.spaces.get(spaceId);
      if (!space) throw new Error(`unknown space ${spaceId}`);
      const counts = this.countsOf(spaceId);
      for (const [id, p] of this.participants) {
        if (p.spaceId !== spaceId) continue;
        this.participants.delete(id);
        this.byToken.delete(p.tokenHash);
        this.consents.delete(id);
      }
      for (const [id, story] of this.stories) if (story.spaceId === spaceId) this.stories.delete(id);
      this.inputs.delete(spaceId);
      this.inputsByN.delete(spaceId);
      this.events.delete(spaceId);
      this.secrets.delete(spaceId);
      this.spaces.set(spaceId, { ...space, purgedAt: space.purgedAt ?? at });
      return counts;
    });
  }

  async listParticipantInputs(participantId: string): Promise<InputRecord[]> {
    this.check();
    const p = this.participants.get(participantId);
    if (!p) return [];
    return (this.inputs.get(p.spaceId) ?? []).filter((i) => i.participantId === participantId).sort((a, b) => a.seq - b.seq);
  }

  recordConsent(c: ConsentRecord): Promise<void> {
    return this.enqueue(() => {
      if (!this.participants.has(c.participantId)) throw new Error(`unknown participant ${c.participantId}`);
      const list = this.consents.get(c.participantId) ?? [];
      list.push({ ...c, purposes: [...c.purposes] });
      this.consents.set(c.participantId, list);
    });
  }

  async listConsents(participantId: string): Promise<ConsentRecord[]> {
    this.check();
    return (this.consents.get(participantId) ?? []).map((c) => ({ ...c, purposes: [...c.purposes] }));
  }

  appendPrivacyRelease(r: PrivacyReleaseRecord): Promise<void> {
    return this.enqueue(() => {
      if (!this.spaces.has(r.spaceId)) throw new Error(`unknown space ${r.spaceId}`);
      if (!Number.isSafeInteger(r.n) || r.n < 1) throw new RangeError(`release number must be a positive integer, got ${r.n}`);
      const list = this.releases.get(r.spaceId) ?? [];
      if (list.some((x) => x.n === r.n)) throw new Error(`duplicate release number ${r.n} in space ${r.spaceId}`);
      list.push({ ...r });
      list.sort((a, b) => a.n - b.n);
      this.releases.set(r.spaceId, list);
    });
  }

  async listPrivacyReleases(spaceId: string): Promise<PrivacyReleaseRecord[]> {
    this.check();
    return (this.releases.get(spaceId) ?? []).map((r) => ({ ...r }));
  }

  appendPulsePoints(points: readonly PulsePoint[]): Promise<void> {
    return this.enqueue(() => {
      for (const pt of points) listOf(this.pulses, pt.spaceId).push(pt);
    });
  }

  async listPulsePoints(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]> {
    this.check();
    return (this.pulses.get(spaceId) ?? []).filter((p) => p.at >= from && p.at < to).slice(0, limit);
  }

  setFeedSetting(spaceId: string, kind: FeedSettingKind, values: readonly string[], at: number): Promise<void> {
    const copy = [...values];
    return this.enqueue(() => {
      if (!this.spaces.has(spaceId)) throw new Error(`unknown space ${spaceId}`);
      const m = innerMap(this.feedSettings, spaceId);
      if (copy.length === 0) m.delete(kind);
      else m.set(kind, { spaceId, kind, values: copy, at });
    });
  }

  async listFeedSettings(): Promise<FeedSettingRecord[]> {
    this.check();
    const all = [...this.feedSettings.values()].flatMap((m) => [...m.values()]);
    return all.sort((a, b) => (a.spaceId < b.spaceId ? -1 : a.spaceId > b.spaceId ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  }

  addWebhook(w: WebhookRecord): Promise<void> {
    const copy: WebhookRecord = { ...w, events: [...w.events] };
    return this.enqueue(() => {
      if (!this.spaces.has(w.spaceId)) throw new Error(`unknown space ${w.spaceId}`);
      if (this.webhooks.has(w.id)) throw new Error(`webhook ${w.id} exists`);
      this.webhooks.set(w.id, copy);
    });
  }

  removeWebhook(id: string): Promise<void> {
    return this.enqueue(() => {
      this.webhooks.delete(id);
    });
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    this.check();
    // Oldest first, as SQLite orders by (created_at, rowid): a stable sort of insertion order.
    return [...this.webhooks.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  appendWebhookDeliveries(records: readonly WebhookDeliveryRecord[], keepPerSpace: number): Promise<void> {
    const copy = records.map((r) => ({ ...r }));
    return this.enqueue(() => {
      const touched = new Set<string>();
      for (const r of copy) {
        listOf(this.deliveries, r.spaceId).push(r);
        touched.add(r.spaceId);
      }
      for (const id of touched) {
        const list = listOf(this.deliveries, id);
        if (list.length > keepPerSpace) list.splice(0, list.length - Math.max(0, keepPerSpace));
      }
    });
  }

  async listWebhookDeliveries(spaceId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    this.check();
    const list = this.deliveries.get(spaceId) ?? [];
    return list.slice(Math.max(0, list.length - Math.max(0, limit)));
  }

  /** Applies pending writes, then refuses everything. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }

  createStory(story: StoryRecord): Promise<void> {
    const copy: StoryRecord = { ...story, flags: [...story.flags] };
    return this.enqueue(() => {
      if (!this.spaces.has(story.spaceId)) throw new Error(`unknown space ${story.spaceId}`);
      if (this.participants.get(story.participantId)?.spaceId !== story.spaceId) throw new Error(`unknown participant ${story.participantId}`);
      if (this.stories.has(story.id)) throw new Error(`duplicate story ${story.id}`);
      this.stories.set(story.id, copy);
    });
  }

  setStoryStatus(id: string, status: StoryRecord['status'], reason: string | null, at: number): Promise<void> {
    return this.enqueue(() => {
      const s = this.stories.get(id);
      if (!s) throw new Error(`unknown story ${id}`);
      this.stories.set(id, { ...s, status, reason, decidedAt: at });
    });
  }

  eraseStory(id: string): Promise<void> {
    return this.enqueue(() => {
      this.stories.delete(id);
    });
  }

  async listStories(spaceId: string): Promise<StoryRecord[]> {
    this.check();
    return [...this.stories.values()].filter((s) => s.spaceId === spaceId).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((s) => ({ ...s, flags: [...s.flags] }));
  }

  setStorySettings(spaceId: string, settings: StorySettingsRecord, _at: number): Promise<void> {
    const copy = { enabled: settings.enabled, moderation: settings.moderation };
    return this.enqueue(() => {
      if (!this.spaces.has(spaceId)) throw new Error(`unknown space ${spaceId}`);
      this.storySettings.set(spaceId, copy);
    });
  }

  async getStorySettings(spaceId: string): Promise<StorySettingsRecord | null> {
    this.check();
    const s = this.storySettings.get(spaceId);
    return s ? { ...s } : null;
  }
}
