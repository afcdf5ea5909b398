/**
 * Two (or more) declared groups of a space, simulated over real WebSockets — the Alterna and
 * Glimmers of a divided city, and a gathering that brings them closer. Each person is the
 * project's protocol client (src/client) over `ws`, joined with consent and their group (R6).
 * Each group starts around a pole of its own; every {@link GroupCrowd.step} moves each person a
 * share `pull` of the way toward a common meeting point, with seeded noise, and sends the new tap.
 * Stepped explicitly (no timers of its own), so a test or a CLI decides the pace. The ground
 * truth — where each group's people are — is kept for scoring what the server released.
 */
import WebSocket from 'ws';
import { AttuneClient } from '../client/attuneClient.ts';
import { createRng, type Rng } from '../core/collective/prng.ts';
import type { PulseMessage } from '../core/protocol.ts';

/** A point on the affect plane. */
export interface GroupPoint {
  readonly valence: number;
  readonly arousal: number;
}

/** One simulated group. */
export interface SimGroup {
  /** The declared group its people choose, or null (a space without groups, or prefer not to say). */
  readonly name: string | null;
  readonly people: number;
  /** Where the group starts. */
  readonly pole: GroupPoint;
}

/** Options of a group crowd. */
export interface GroupCrowdOptions {
  /** Server base URL, http(s)://host:port. */
  readonly url: string;
  readonly code: string;
  readonly groups: readonly SimGroup[];
  /** Where the groups converge (default the plane's pleasant-calm middle ground). */
  readonly meeting?: GroupPoint;
  /** Share of the way to the meeting point per step, (0, 1] (default 0.25). */
  readonly pull?: number;
  /** Standard deviation of each person's scatter around their group's centre (default 0.08). */
  readonly scatter?: number;
  readonly seed?: number | string;
}

const clamp = (x: number) => Math.max(-1, Math.min(1, x));

/** A running group crowd. */
export class GroupCrowd {
  readonly phones: AttuneClient[] = [];
  /** The latest pulse the first phone received. */
  last: PulseMessage | null = null;
  private readonly o: GroupCrowdOptions;
  private readonly rng: Rng;
  private readonly centres: GroupPoint[];
  private readonly member: number[] = [];
  private acked = 0;
  private sent = 0;

  constructor(o: GroupCrowdOptions) {
    this.o = o;
    this.rng = createRng(o.seed ?? 'groups');
    this.centres = o.groups.map((g) => g.pole);
  }

  /** Joins everyone (each with their group) and sends their first taps; resolves once all are welcomed. */
  async start(): Promise<void> {
    const wsUrl = new URL('/ws', this.o.url);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    const welcomed: Promise<void>[] = [];
    this.o.groups.forEach((g, gi) => {
      for (let i = 0; i < g.people; i++) {
        const phone = new AttuneClient({ url: wsUrl.href, code: this.o.code, role: 'participant', consent: true, group: g.name, connect: (url) => new WebSocket(url, { perMessageDeflate: false }) });
        welcomed.push(new Promise((res) => phone.on('welcome', () => res())));
        phone.on('ack', () => {
          this.acked++;
        });
        if (this.phones.length === 0) phone.on('pulse', (m) => (this.last = m));
        this.phones.push(phone);
        this.member.push(gi);
        phone.start();
      }
    });
    await Promise.all(welcomed);
    this.tapAll();
  }

  /** Moves every group `pull` of the way toward the meeting point and sends everyone's tap. */
  step(): void {
    const m = this.o.meeting ?? { valence: 0.3, arousal: -0.1 };
    const pull = this.o.pull ?? 0.25;
    for (let i = 0; i < this.centres.length; i++) {
      const c = this.centres[i] as GroupPoint;
      this.centres[i] = { valence: c.valence + (m.valence - c.valence) * pull, arousal: c.arousal + (m.arousal - c.arousal) * pull };
    }
    this.tapAll();
  }

  /** The groups' centres now (the ground truth). */
  get groupCentres(): readonly GroupPoint[] {
    return this.centres;
  }

  /** Whether every tap sent so far was acknowledged. */
  get settled(): boolean {
    return this.acked >= this.sent;
  }

  private tapAll(): void {
    const s = this.o.scatter ?? 0.08;
    this.phones.forEach((phone, i) => {
      const c = this.centres[this.member[i] as number] as GroupPoint;
      const r = phone.send({ valence: clamp(c.valence + this.rng.normal() * s), arousal: clamp(c.arousal + this.rng.normal() * s) });
      if (r.ok) this.sent++;
    });
  }

  /** Everyone leaves (`bye`). */
  stop(): void {
    for (const p of this.phones) p.leave();
  }
}

/** Options of {@link runGroupStory}. */
export interface GroupStoryOptions {
  readonly url: string;
  readonly code: string;
  /** The declared groups to fill (people split evenly, the first groups take the remainder). */
  readonly groups: readonly string[];
  readonly participants: number;
  readonly durationMs: number;
  /** Steps toward the meeting point over the run (default 12). */
  readonly steps?: number;
  readonly seed?: number | string;
  readonly signal?: AbortSignal;
  /** Called after each step has been answered by a pulse: step number and the pulse's bridging. */
  readonly onStep?: (step: number, pulse: PulseMessage | null) => void;
}

/**
 * A divided room coming together, in wall-clock time (the CLI's `attune simulate --groups`):
 * each group starts at a pole of its own around the plane, then moves a share of the way to a
 * common meeting point every `durationMs / steps`. Resolves with the last pulse seen.
 */
export async function runGroupStory(o: GroupStoryOptions): Promise<PulseMessage | null> {
  const steps = o.steps ?? 12;
  const per = Math.floor(o.participants / o.groups.length);
  const crowd = new GroupCrowd({
    url: o.url,
    code: o.code,
    groups: o.groups.map((name, i) => ({
      name,
      people: per + (i < o.participants - per * o.groups.length ? 1 : 0),
      pole: { valence: 0.75 * Math.cos(Math.PI / 4 + (2 * Math.PI * i) / o.groups.length), arousal: 0.75 * Math.sin(Math.PI / 4 + (2 * Math.PI * i) / o.groups.length) },
    })),
    pull: 1 - 0.05 ** (1 / steps),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  });
  await crowd.start();
  try {
    for (let s = 1; s <= steps && !o.signal?.aborted; s++) {
      await new Promise((res) => setTimeout(res, o.durationMs / steps));
      crowd.step();
      o.onStep?.(s, crowd.last);
    }
    return crowd.last;
  } finally {
    crowd.stop();
  }
}

/** Creates a space with declared groups on a running server (the simulator's own space). */
export async function createGroupedSpace(url: string, name: string, groups: readonly string[], capacity: number, signal?: AbortSignal): Promise<{ code: string; stewardToken: string }> {
  const r = await fetch(new URL('/api/spaces', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, capacity, groups }), ...(signal ? { signal } : {}) });
  const j = (await r.json()) as { code?: string; stewardToken?: string; error?: { message: string } };
  if (!r.ok || !j.code || !j.stewardToken) throw new Error(j.error?.message ?? `HTTP ${r.status}`);
  return { code: j.code, stewardToken: j.stewardToken };
}
