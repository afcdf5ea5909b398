/**
 * Retention of raw data about people (SPEC V3, S17), on the real server with the manual
 * scheduler, over SQLite (a file: inputs sealed) and PostgreSQL: a space's retention is fixed at
 * creation (request, template or `--retention`), the job deletes raw data once it ran out after
 * the close — each space a `retention.run` entry with counts only, durable before anything is
 * deleted — and keeps what was released.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GovernanceAct, GovernanceSink } from '../src/core/governance.ts';
import { DAY_MS, parseRetention } from '../src/core/retention.ts';
import { ENTRY_VERSION, encodeEntry } from '../src/log/entry.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import type { ConnSink } from '../src/space/spaceHost.ts';
import { PostgresStorage } from '../src/storage/postgres/postgresStorage.ts';
import type { Storage } from '../src/storage/port.ts';
import { openDatabase } from '../src/storage/sqlite/openDatabase.ts';
import { SqliteStorage } from '../src/storage/sqlite/sqliteStorage.ts';
import { TEST_PG, testSchemas } from './support/postgres.ts';

const schemas = testSchemas();
afterAll(() => schemas.dropAll());

/** A log that can be made to fail, and that checks what storage held when each entry was appended. */
class WatchedGovernance implements GovernanceSink {
  readonly acts: GovernanceAct[] = [];
  failing = false;
  /** Inputs stored for the act's space at the moment its entry was appended. */
  readonly inputsAtEntry: number[] = [];
  storage: Storage | null = null;
  async record(act: GovernanceAct): Promise<void> {
    if (this.failing) throw new Error('log down');
    // What the real transparency log would refuse (its privacy lint) is refused here too.
    encodeEntry({ v: ENTRY_VERSION, type: act.type, space: act.space, time: act.at, payload: act.payload as never });
    if (act.type === 'retention.run' && this.storage) this.inputsAtEntry.push((await this.storage.storedCounts(act.space)).inputs);
    this.acts.push(act);
  }
}

interface Rig {
  server: RunningServer;
  scheduler: ManualScheduler;
  governance: WatchedGovernance;
  storage: Storage;
}

async function fill(rig: Rig, code: string, people: number): Promise<void> {
  const host = rig.server.host;
  for (let i = 0; i < people; i++) {
    const sink: ConnSink = { send: () => {}, close: () => {}, welcomed: () => {} };
    const ref = host.attach(sink);
    const j = await host.join(ref, code, 'participant', true);
    if (!j.ok) throw new Error(j.message);
    await host.drain();
    for (let k = 1; k <= 2; k++) {
      host.input(ref, { t: 'input', seq: k, valence: i % 2 ? 0.6 : -0.4, arousal: 0.3, confidence: 1, source: 'tap' }, true);
      rig.scheduler.advance(2_000);
      await host.drain();
    }
  }
}

const post = (server: RunningServer, path: string, body: unknown, auth?: string) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) });

const CONFIG = { port: 0, dbPath: ':memory:', webRoot: null, minCohort: 3, text: false, retentionMs: 3 * DAY_MS } as const;

const adapters: { name: string; storage: () => Promise<Storage> }[] = [
  { name: 'SQLite', storage: async () => new SqliteStorage(openDatabase(join(mkdtempSync(join(tmpdir(), 'attune-retention-')), 'a.db'))) },
  { name: 'PostgreSQL', storage: async () => PostgresStorage.open({ connectionString: TEST_PG, options: `-c search_path=${await schemas.fresh('attune_retention')}` }) },
];

async function open(a: (typeof adapters)[number]): Promise<Rig> {
  const scheduler = new ManualScheduler();
  const governance = new WatchedGovernance();
  const storage = await a.storage();
  governance.storage = storage;
  const server = await createServer(CONFIG, { scheduler, governance, storage });
  return { server, scheduler, governance, storage };
}

describe('--retention', () => {
  it('[V3] parses days or a duration, refuses nonsense and more than 10 years', () => {
    expect(parseRetention('30')).toEqual({ ok: true, ms: 30 * DAY_MS });
    expect(parseRetention('90d')).toEqual({ ok: true, ms: 90 * DAY_MS });
    expect(parseRetention('12h')).toEqual({ ok: true, ms: 12 * 3_600_000 });
    expect(parseRetention('45m')).toEqual({ ok: true, ms: 45 * 60_000 });
    expect(parseRetention('0')).toEqual({ ok: true, ms: 0 });
    expect(parseRetention('soon').ok).toBe(false);
    expect(parseRetention('-1').ok).toBe(false);
    expect(parseRetention('3651').ok).toBe(false);
  });
});

for (const a of adapters) {
  describe(`retention on ${a.name}`, () => {
    it('[V3][S17][H1][Q14] a space keeps its retention from the request, its template or the server; bad values are coded errors', async () => {
      const { server, governance, storage } = await open(a);
      try {
        const plain = (await (await post(server, '/api/spaces', { name: 'plain' })).json()) as { retentionDays: number; retainUntil: number | null; purgedAt: number | null };
        expect(plain).toMatchObject({ retentionDays: 3, retainUntil: null, purgedAt: null });
        const own = (await (await post(server, '/api/spaces', { name: 'own', retentionDays: 7 })).json()) as { code: string; retentionDays: number };
        expect(own.retentionDays).toBe(7);
        const bad = await post(server, '/api/spaces', { name: 'bad', retentionDays: -2 });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('retentionDays') });
        const tpl = { name: 'short-memory', retentionDays: 1 };
        const fromTemplate = (await (await post(server, '/api/spaces', { name: 'templated', template: tpl })).json()) as { retentionDays: number };
        expect(fromTemplate.retentionDays).toBe(1);
        const badTemplate = await post(server, '/api/spaces', { name: 'templated', template: { ...tpl, retentionDays: 'forever' } });
        expect(((await badTemplate.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'TEMPLATE_INVALID', message: expect.stringContaining('retentionDays') });
        const created = governance.acts.filter((x) => x.type === 'space.created').map((x) => x.payload.retentionDays);
        expect(created).toEqual([3, 7, 1]);
      } finally {
        await server.close();
        await storage.close();
      }
    });

    it('[V3][S17] past retention the job logs retention.run (counts only) before it deletes raw inputs, keeps released aggregates, and a failing log deletes nothing', async () => {
      const rig = await open(a);
      const { server, scheduler, governance, storage } = rig;
      try {
        const made = await server.host.createSpace({ name: 'kept for a while', retentionDays: 2 });
        if (!made.ok) throw new Error(made.message);
        const { space, stewardToken } = made.value;
        await fill(rig, space.code, 6);
        scheduler.advance(60_000);
        await server.host.drain();
        const rel = await post(server, `/api/spaces/${space.code}/privacy/releases`, { what: 'series', bucketSeconds: 60, rho: 0.1 }, stewardToken);
        expect(rel.status).toBe(201);
        expect((await server.host.closeSpace(space.code, stewardToken)).ok).toBe(true);
        const closedAt = scheduler.now();
        const stored = await storage.storedCounts(space.id);
        expect(stored).toMatchObject({ participants: 6, inputs: 12 });

        // Not yet due: nothing happens, nothing is logged.
        scheduler.advance(2 * DAY_MS - 60_000);
        await server.retention.run();
        expect(governance.acts.filter((x) => x.type === 'retention.run')).toEqual([]);
        expect((await storage.storedCounts(space.id)).inputs).toBe(12);

        // Due, but the log is down: nothing is deleted; the next run does it.
        scheduler.advance(60_000);
        governance.failing = true;
        expect((await server.retention.run()).failed).toBe(1);
        expect((await storage.storedCounts(space.id)).inputs).toBe(12);
        governance.failing = false;

        // The hourly beat runs the job (the manual scheduler's time is the only clock); a run asked
        // for meanwhile follows it and finds nothing left to do.
        scheduler.advance(3_600_000);
        expect((await server.retention.run()).purged).toEqual([]);
        const entries = governance.acts.filter((x) => x.type === 'retention.run');
        expect(entries).toHaveLength(1);
        const entry = entries[0] as GovernanceAct;
        expect(entry.space).toBe(space.id);
        expect(entry.payload).toMatchObject({ closedAt, retentionDays: 2, people: 6, inputs: 12 });
        // Counts only: no feeling, no participant id on the log.
        expect(JSON.stringify(entry)).not.toMatch(/valence|arousal|participantId|tok/);
        // Logged before the deletion: the inputs were still there when the entry was appended.
        expect(governance.inputsAtEntry).toEqual([12]);

        expect(await storage.storedCounts(space.id)).toEqual({ participants: 0, inputs: 0, sealedInputs: 0, erased: 0, consents: 0, stories: 0, events: 0 });
        expect(await storage.listInputs(space.id, 0, Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
        expect(await storage.getSpaceSecret(space.id)).toBeNull();
        // What was released stays: the pulse series, the DP release and the public figures.
        expect((await storage.listPulsePoints(space.id, 0, Number.MAX_SAFE_INTEGER, 10)).length).toBeGreaterThan(0);
        expect((await fetch(`${server.url}/api/spaces/${space.code}/series`)).status).toBe(200);
        const info = (await (await fetch(`${server.url}/api/spaces/${space.code}`)).json()) as { retainUntil: number; purgedAt: number };
        expect(info.retainUntil).toBe(closedAt + 2 * DAY_MS);
        expect(info.purgedAt).toBe(entry.at);
        // No new release from deleted inputs.
        const late = await post(server, `/api/spaces/${space.code}/privacy/releases`, { what: 'series', bucketSeconds: 120, rho: 0.1 }, stewardToken);
        expect(late.status).toBe(410);
        expect(((await late.json()) as { error: { code: string } }).error.code).toBe('DATA_EXPIRED');

        // A later run finds nothing to do and logs nothing.
        scheduler.advance(3_600_000);
        expect((await server.retention.run()).purged).toEqual([]);
        expect(governance.acts.filter((x) => x.type === 'retention.run')).toHaveLength(1);
      } finally {
        await server.close();
        await storage.close();
      }
    });
  });
}
