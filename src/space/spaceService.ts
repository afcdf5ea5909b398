/**
 * The space service: creating and closing spaces, joining, resuming, inputs and leaving —
 * the application logic between the edges (HTTP, WebSocket) and the ports (Storage, Bus,
 * GovernanceSink). Expected failures are returned as coded `Result`s (SPEC §E), never thrown.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Affect } from '../core/affect.ts';
import { checkAffect } from '../core/affect.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import type { GovernanceSink } from '../core/governance.ts';
import { checkSpaceName } from '../core/spaceName.ts';
import { type ContagionIndex, type ContagionRecord, contagionIndex } from '../core/collective/contagion.ts';
import { normaliseCode, type PointInputMessage, type SpaceInfo, type TextInputMessage } from '../core/protocol.ts';
import type { Bus } from '../bus/port.ts';
import type { PulsePoint, SpaceRecord, Storage } from '../storage/port.ts';
import { type PulseExtension, SpaceRuntime, subjects } from './spaceRuntime.ts';

/** Join-code alphabet: no 0/O, 1/I/L, so codes survive being read aloud or off a projector. */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** Join-code length: 31⁸ ≈ 8.5·10¹¹ codes (≈ 40 bits), guessed only against a rate limit. */
export const CODE_LENGTH = 8;

/** The join-code rule lives in the protocol, shared with every client; re-exported here. */
export { normaliseCode };

/** SHA-256 hex of a secret token (tokens are stored only as hashes). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function newId(): string {
  return randomBytes(12).toString('base64url');
}

function newCode(): string {
  let s = '';
  for (let i = 0; i < CODE_LENGTH; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return s;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Text → affect, e.g. src/analyze/text. */
export type TextAnalyser = (text: string) => { valence: number; arousal: number; confidence: number };

/** Settings of the space service. */
export interface SpaceServiceOptions {
  readonly storage: Storage;
  readonly bus: Bus;
  readonly governance: GovernanceSink;
  readonly clock?: () => number;
  readonly analyseText?: TextAnalyser;
  /** Default capacity of a new space. */
  readonly capacity?: number;
  /** Largest capacity a steward may ask for. */
  readonly maxCapacity?: number;
  /** Default TTL of a point, ms. */
  readonly ttlMs?: number;
  readonly participantHz?: number;
  readonly displayHz?: number;
  readonly bins?: number;
  readonly smoothingMs?: number;
  readonly minCohort?: number;
  readonly seriesEveryMs?: number;
  /** Builds the per-space pulse extension (collective state), if any. */
  readonly extension?: (space: SpaceRecord) => PulseExtension;
}

/** A connected client's session with a space. */
export interface Session {
  readonly spaceId: string;
  readonly role: 'participant' | 'display';
  readonly participantId: string | null;
  /** The resume token (participants, only right after join). */
  readonly token: string | null;
  lastSeq: number;
}

/** What a steward gets back when creating a space. */
export interface CreatedSpace {
  readonly space: SpaceRecord;
  readonly stewardToken: string;
}

/** The space service. */
export class SpaceService {
  private readonly o: Required<Omit<SpaceServiceOptions, 'analyseText' | 'extension'>> & Pick<SpaceServiceOptions, 'analyseText' | 'extension'>;
  private readonly runtimes = new Map<string, SpaceRuntime>();
  private seriesBuffer: PulsePoint[] = [];
  private seriesTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(opts: SpaceServiceOptions) {
    this.o = {
      clock: Date.now,
      capacity: 1000,
      maxCapacity: 100_000,
      ttlMs: 120_000,
      participantHz: 2,
      displayHz: 20,
      bins: 16,
      smoothingMs: 3000,
      minCohort: 3,
      seriesEveryMs: 1000,
      ...opts,
    };
  }

  get bus(): Bus {
    return this.o.bus;
  }

  get participantHz(): number {
    return this.o.participantHz;
  }

  /** Loads every open space and its participants' unexpired points (restart recovery, SPEC S6). */
  async start(): Promise<void> {
    const now = this.o.clock();
    for (const space of await this.o.storage.listSpaces()) {
      if (space.status !== 'open') continue;
      const rt = this.runtimeFor(space);
      for (const p of await this.o.storage.listActiveParticipants(space.id, now - space.ttlMs)) {
        if (p.latest) rt.restore(p.id, p.latest);
      }
    }
    this.seriesTimer = setInterval(() => void this.flushSeries(), 1000);
    this.seriesTimer.unref();
  }

  private runtimeFor(space: SpaceRecord): SpaceRuntime {
    let rt = this.runtimes.get(space.id);
    if (!rt) {
      rt = new SpaceRuntime(space, {
        bus: this.o.bus,
        clock: this.o.clock,
        participantHz: this.o.participantHz,
        displayHz: this.o.displayHz,
        bins: this.o.bins,
        smoothingMs: this.o.smoothingMs,
        minCohort: this.o.minCohort,
        seriesEveryMs: this.o.seriesEveryMs,
        onSeriesPoint: (p) => this.seriesBuffer.push(p),
        ...(this.o.extension ? { extension: this.o.extension(space) } : {}),
      });
      this.runtimes.set(space.id, rt);
      rt.start();
    }
    return rt;
  }

  /** The live runtime of an open space, by id. */
  runtime(spaceId: string): SpaceRuntime | undefined {
    return this.runtimes.get(spaceId);
  }

  private async flushSeries(): Promise<void> {
    if (this.seriesBuffer.length === 0) return;
    const batch = this.seriesBuffer;
    this.seriesBuffer = [];
    try {
      await this.o.storage.appendPulsePoints(batch);
    } catch (e) {
      if (!this.stopped) console.error('attune: could not store pulse series', e);
    }
  }

  /** Creates a space (SPEC H1). */
  async createSpace(req: { name: string; capacity?: number | undefined; ttlSeconds?: number | undefined }): Promise<Result<CreatedSpace>> {
    const checked = checkSpaceName(req.name);
    if (!checked.ok) return fail('BAD_REQUEST', `name: ${checked.message}`);
    const name = checked.name;
    const capacity = req.capacity ?? this.o.capacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > this.o.maxCapacity) return fail('BAD_REQUEST', `capacity must be an integer in [1, ${this.o.maxCapacity}]`);
    const ttlMs = req.ttlSeconds === undefined ? this.o.ttlMs : req.ttlSeconds * 1000;
    if (!Number.isFinite(ttlMs) || ttlMs < 5000 || ttlMs > 86_400_000) return fail('BAD_REQUEST', 'ttlSeconds must be in [5, 86400]');
    const stewardToken = newToken();
    for (let attempt = 0; attempt < 5; attempt++) {
      const space: SpaceRecord = {
        id: newId(),
        code: newCode(),
        name,
        status: 'open',
        capacity,
        ttlMs,
        stewardTokenHash: hashToken(stewardToken),
        createdAt: this.o.clock(),
        closedAt: null,
      };
      if (await this.o.storage.createSpace(space)) {
        await this.o.governance.record({ type: 'space.created', space: space.id, at: space.createdAt, payload: { name, capacity, ttlMs } });
        this.runtimeFor(space);
        return ok({ space, stewardToken });
      }
    }
    return fail('INTERNAL', 'could not allocate a join code');
  }

  /** A space by its (normalised) join code. */
  async spaceByCode(code: string): Promise<SpaceRecord | null> {
    return this.o.storage.getSpaceByCode(normaliseCode(code));
  }

  /** Every space, newest last. */
  listSpaces(): Promise<SpaceRecord[]> {
    return this.o.storage.listSpaces();
  }

  /** Checks a steward token against a space (constant time). */
  async authorise(code: string, stewardToken: string | null | undefined): Promise<Result<SpaceRecord>> {
    const space = await this.spaceByCode(code);
    if (!space) return fail('NOT_FOUND', 'no such space');
    if (!stewardToken || !sameHash(hashToken(stewardToken), space.stewardTokenHash)) return fail('UNAUTHORIZED', 'a valid steward token is required');
    return ok(space);
  }

  /** Closes a space: no new joins or inputs; connected clients get `bye` (SPEC H3). */
  async closeSpace(code: string, stewardToken: string | null | undefined): Promise<Result<SpaceRecord>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    const space = auth.value;
    if (space.status === 'closed') return fail('SPACE_CLOSED', 'the space is already closed');
    const at = this.o.clock();
    await this.o.storage.closeSpace(space.id, at);
    await this.o.governance.record({ type: 'space.closed', space: space.id, at, payload: {} });
    const rt = this.runtimes.get(space.id);
    rt?.stop();
    this.runtimes.delete(space.id);
    this.o.bus.publish(subjects.control(space.id), new TextEncoder().encode(JSON.stringify({ t: 'bye', reason: 'space-closed' })));
    return ok({ ...space, status: 'closed', closedAt: at });
  }

  /** Replaces the steward token; the old one stops working (SPEC H4). */
  async rotateStewardToken(code: string, stewardToken: string | null | undefined): Promise<Result<string>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    // A closed space has nothing left to steward; a rotation would only write to the log.
    if (auth.value.status === 'closed') return fail('SPACE_CLOSED', 'the space has closed; its steward token can no longer change');
    const token = newToken();
    await this.o.storage.updateStewardTokenHash(auth.value.id, hashToken(token));
    await this.o.governance.record({ type: 'steward.changed', space: auth.value.id, at: this.o.clock(), payload: { reason: 'rotated' } });
    return ok(token);
  }

  /** Public description of a space. */
  info(space: SpaceRecord): SpaceInfo {
    return { code: space.code, name: space.name, status: space.status, capacity: space.capacity, ttlMs: space.ttlMs };
  }

  /** Joins a space as a participant (needs consent) or a display (SPEC W3). */
  async join(code: string, role: 'participant' | 'display', consent: boolean): Promise<Result<Session>> {
    const space = await this.spaceByCode(code);
    if (!space) return fail('NOT_FOUND', 'no space has that join code');
    if (space.status === 'closed') return fail('SPACE_CLOSED', 'this space has closed');
    const rt = this.runtimeFor(space);
    if (role === 'display') {
      rt.displays++;
      return ok({ spaceId: space.id, role, participantId: null, token: null, lastSeq: 0 });
    }
    if (!consent) return fail('CONSENT_REQUIRED', 'join needs consent: true after the consent screen');
    if (rt.connected.size >= space.capacity) return fail('SPACE_FULL', `this space is full (${space.capacity} people)`);
    const token = newToken();
    const id = newId();
    // Reserve the slot before the await so concurrent joins cannot overshoot capacity.
    rt.connected.add(id);
    try {
      await this.o.storage.createParticipant({ id, spaceId: space.id, tokenHash: hashToken(token), joinedAt: this.o.clock(), lastSeq: 0, latest: null });
    } catch (e) {
      rt.connected.delete(id);
      throw e;
    }
    return ok({ spaceId: space.id, role, participantId: id, token, lastSeq: 0 });
  }

  /** Resumes a participant by token (SPEC W4). */
  async resume(token: string): Promise<Result<Session>> {
    const p = await this.o.storage.getParticipantByTokenHash(hashToken(token));
    if (!p) return fail('NOT_FOUND', 'that session is unknown or was erased; join again');
    const space = await this.o.storage.getSpace(p.spaceId);
    if (!space) return fail('NOT_FOUND', 'that space no longer exists');
    if (space.status === 'closed') return fail('SPACE_CLOSED', 'this space has closed');
    const rt = this.runtimeFor(space);
    if (!rt.connected.has(p.id) && rt.connected.size >= space.capacity) return fail('SPACE_FULL', `this space is full (${space.capacity} people)`);
    rt.connected.add(p.id);
    return ok({ spaceId: space.id, role: 'participant', participantId: p.id, token: null, lastSeq: p.lastSeq });
  }

  /** The participant's current point, if it still counts. */
  currentPoint(session: Session): Affect | null {
    if (!session.participantId) return null;
    return this.runtimes.get(session.spaceId)?.state.latestOf(session.participantId) ?? null;
  }

  /**
   * Accepts one input: analyses text if needed, appends it durably, then counts it. Resolves
   * after it is durable — the caller acks only then (SPEC W5, S3). A replayed seq is acked
   * again without being counted twice.
   */
  async input(session: Session, msg: PointInputMessage | TextInputMessage, exposed: boolean): Promise<Result<Affect>> {
    if (session.role !== 'participant' || !session.participantId) return fail('NOT_JOINED', 'only a joined participant can send input');
    const rt = this.runtimes.get(session.spaceId);
    if (!rt) return fail('SPACE_CLOSED', 'this space has closed');
    const now = this.o.clock();
    if (msg.seq <= session.lastSeq) {
      const cur = rt.state.latestOf(session.participantId);
      return cur ? ok(cur) : fail('BAD_REQUEST', `seq ${msg.seq} was already accepted`);
    }
    let affect: Affect;
    if ('text' in msg) {
      if (!this.o.analyseText) return fail('BAD_REQUEST', 'this server does not analyse text');
      const r = this.o.analyseText(msg.text);
      affect = { valence: r.valence, arousal: r.arousal, confidence: r.confidence, source: 'text', at: now };
    } else {
      affect = { valence: msg.valence, arousal: msg.arousal, confidence: msg.confidence, source: msg.source, at: now };
    }
    const bad = checkAffect(affect);
    if (bad) return fail('BAD_REQUEST', bad);
    // What the pulse showed (the smoothed crowd mean) when this input arrived: the contagion
    // index compares how exposed and unexposed people move toward it.
    const shown = rt.shownMean();
    await this.o.storage.appendInputs([{ spaceId: session.spaceId, participantId: session.participantId, seq: msg.seq, affect, exposed, shown }]);
    if (msg.seq > session.lastSeq) session.lastSeq = msg.seq;
    // The space may have closed while the write was in flight; the input is stored but not counted.
    if (this.runtimes.get(session.spaceId) === rt) rt.state.upsert(session.participantId, affect, now);
    return ok(affect);
  }

  /** The participant leaves: their point leaves the pulse now (SPEC W7). */
  async leave(session: Session): Promise<void> {
    if (!session.participantId) return;
    this.runtimes.get(session.spaceId)?.state.remove(session.participantId);
    await this.o.storage.clearLatest(session.participantId);
  }

  /** A socket went away (their point stays until its TTL). */
  disconnect(session: Session): void {
    const rt = this.runtimes.get(session.spaceId);
    if (!rt) return;
    if (session.role === 'display') rt.displays = Math.max(0, rt.displays - 1);
    else if (session.participantId) rt.connected.delete(session.participantId);
  }

  /**
   * The contagion index of a space over [from, to) (docs/collective-state.md §Contagion): how
   * much more people who had been shown the pulse moved toward it than people who had not.
   * Refused below the minimum cohort, so it never describes a handful of people.
   */
  async contagion(spaceId: string, from: number, to: number): Promise<Result<ContagionIndex & { inputs: number }>> {
    const inputs = await this.o.storage.listInputs(spaceId, from, to, 1_000_000);
    const people = new Set(inputs.map((i) => i.participantId)).size;
    if (people < Math.max(this.o.minCohort, 5)) return fail('BAD_REQUEST', `the contagion index needs inputs from at least ${Math.max(this.o.minCohort, 5)} people in the period (it has ${people})`);
    const records: ContagionRecord[] = inputs.map((i) => ({
      participantId: i.participantId,
      at: i.affect.at,
      valence: i.affect.valence,
      arousal: i.affect.arousal,
      exposed: i.exposed,
      shownValence: i.shown?.valence ?? null,
      shownArousal: i.shown?.arousal ?? null,
    }));
    return ok({ ...contagionIndex(records, { seed: spaceId }), inputs: inputs.length });
  }

  /** Stored pulse time series of a space. */
  series(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]> {
    return this.o.storage.listPulsePoints(spaceId, from, to, limit);
  }

  /** Stops every runtime and writes pending series points. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.seriesTimer) clearInterval(this.seriesTimer);
    for (const rt of this.runtimes.values()) rt.stop();
    await this.flushSeries();
  }
}
