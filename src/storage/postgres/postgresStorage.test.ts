/**
 * What the shared contract (test/contracts/storage.contract.ts) cannot say about the PostgreSQL
 * adapter: its versioned migrations, its two write paths and what a broken connection does
 * (SPEC S11). Against the machine's real server, each test in a schema of its own.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { InputRecord, SpaceRecord } from '../port.ts';
import { migratePostgres, PG_SCHEMA_VERSION } from './postgresSchema.ts';
import { PostgresStorage } from './postgresStorage.ts';
import { pgAdmin, TEST_PG, testSchemas } from '../../../test/support/postgres.ts';

const PG = TEST_PG;
const schemas = testSchemas();
const admin = pgAdmin;

const freshSchema = () => schemas.fresh('attune_pgtest');

afterAll(() => schemas.dropAll());

const open = (schema: string, extra: { applicationName?: string } = {}) => PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}`, ...extra });

const space = (id: string, code: string): SpaceRecord => ({ id, code, name: id, status: 'open', capacity: 10, ttlMs: 1000, stewardTokenHash: 'h', createdAt: 1, closedAt: null });
const input = (participantId: string, seq: number, n?: number): InputRecord => ({
  spaceId: 'a',
  participantId,
  seq,
  affect: { valence: 0.5, arousal: -0.5, confidence: 1, source: 'tap', at: 10 * seq },
  exposed: false,
  shown: null,
  ...(n === undefined ? {} : { n }),
});

describe('PostgreSQL storage', () => {
  it(`[S11] a fresh schema migrates to version ${PG_SCHEMA_VERSION}; opening again (or two processes at once) changes nothing`, async () => {
    const schema = await freshSchema();
    const pool = (): pg.Pool => new pg.Pool({ connectionString: PG, options: `-c search_path=${schema}`, max: 1 });
    const [p1, p2] = [pool(), pool()];
    // Two at once: the advisory lock lets one migrate, the other then finds the version.
    const found = await Promise.all([migratePostgres(p1), migratePostgres(p2)]);
    expect(found.sort()).toEqual([0, PG_SCHEMA_VERSION]);
    expect(await migratePostgres(p1)).toBe(PG_SCHEMA_VERSION);
    const version = await p1.query('SELECT version FROM attune_schema');
    expect(version.rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    await Promise.all([p1.end(), p2.end()]);
  });

  it('[S11] a schema from a newer attune is refused, unchanged', async () => {
    const schema = await freshSchema();
    const s = await open(schema);
    await s.close();
    await admin((c) => c.query(`UPDATE ${schema}.attune_schema SET version = version + 1`));
    await expect(open(schema)).rejects.toThrow(/newer than this attune/);
    const v = await admin((c) => c.query(`SELECT version FROM ${schema}.attune_schema`));
    expect(v.rows).toEqual([{ version: PG_SCHEMA_VERSION + 1 }]);
  });

  it('[S11] a group whose statements all succeed is one round of BEGIN … COMMIT; a raising call sends it down the savepoint path, alone', async () => {
    const s = await open(await freshSchema());
    await s.createSpace(space('a', 'CODEA'));
    await Promise.all([s.createParticipant({ id: 'p1', spaceId: 'a', tokenHash: 't1', joinedAt: 1, lastSeq: 0, latest: null }), s.createParticipant({ id: 'p1', spaceId: 'a', tokenHash: 't2', joinedAt: 1, lastSeq: 0, latest: null }).catch(() => {})]);
    // A clash on createParticipant is decided by the statement itself: no slow path.
    expect(s.slowGroups).toBe(0);
    const calls = [s.appendInputs([input('p1', 1, 1)]), s.appendInputs([input('ghost', 1, 2)]), s.appendInputs([input('p1', 2, 3)])];
    const settled = (await Promise.allSettled(calls)).map((r) => r.status);
    expect(settled).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(s.slowGroups).toBe(1);
    expect((await s.listInputsByN('a', 0, 10)).map((i) => i.n)).toEqual([1, 3]);
    await s.close();
  });

  it('[S11] merged runs keep the seq rules across calls: a replay inside one run is ignored, the latest is the last accepted', async () => {
    const s = await open(await freshSchema());
    await s.createSpace(space('a', 'CODEA'));
    await s.createParticipant({ id: 'p1', spaceId: 'a', tokenHash: 't1', joinedAt: 1, lastSeq: 0, latest: null });
    await Promise.all([s.appendInputs([input('p1', 2)]), s.appendInputs([input('p1', 1), input('p1', 3)]), s.appendInputs([input('p1', 3), input('p1', 2)])]);
    expect((await s.listInputs('a', 0, 1000, 10)).map((i) => i.seq)).toEqual([2, 3]);
    const p = await s.getParticipantByTokenHash('t1');
    expect([p?.lastSeq, p?.latest?.at]).toEqual([3, 30]);
    expect(s.slowGroups).toBe(0);
    await s.close();
  });

  it('[S11] when the writer connection is killed, the write in flight and every later one reject clearly; reads reconnect; healthy() says no', async () => {
    // A name of its own: only this test's connections are terminated.
    const name = `attune_kill_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const s = await open(await freshSchema(), { applicationName: name });
    await s.createSpace(space('a', 'CODEA'));
    expect(await s.healthy()).toBe(true);
    const killed = await admin((c) => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ($1, $2)', [`${name}-writer`, `${name}-reader`]));
    expect(killed.rowCount).toBe(2);
    await expect(s.createSpace(space('b', 'CODEB'))).rejects.toThrow(/PostgreSQL writer stopped/);
    await expect(s.closeSpace('a', 5)).rejects.toThrow(/no further write is accepted/);
    // The reader may have been killed too: the next read (or the one after) opens a new one.
    const read = () => s.getSpace('a');
    const first = await read().catch(() => null);
    expect((first ?? (await read()))?.status).toBe('open');
    expect(await s.healthy()).toBe(false);
    await s.close();
  });
});
