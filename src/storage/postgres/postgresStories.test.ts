/**
 * Stories on PostgreSQL (SPEC ST13, S11): a database written by the previous schema (version 1,
 * before stories) migrates to version 2 keeping its data, and then stores stories. Against the
 * machine's real server, in a schema of its own, dropped afterwards.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, PG_SCHEMA_VERSION } from './postgresSchema.ts';
import { PostgresStorage } from './postgresStorage.ts';
import { pgAdmin, TEST_PG, testSchemas } from '../../../test/support/postgres.ts';

const PG = TEST_PG;
const schemas = testSchemas();
const schema = schemas.reserve('attune_pgstories');
const admin = pgAdmin;

afterAll(() => schemas.dropAll());

const open = () => PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}` });

describe('PostgreSQL stories', () => {
  it('[ST13][S11] a version-1 database (before stories) migrates to the latest version, keeps its data and stores stories', async () => {
    expect(PG_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    // A database exactly as version 1 left it: its one step, its version row, some data.
    await admin(async (c) => {
      await c.query(`CREATE SCHEMA ${schema}`);
      await c.query(`SET search_path = ${schema}`);
      await c.query(MIGRATIONS[0] as string);
      await c.query('CREATE TABLE attune_schema (version INTEGER NOT NULL); INSERT INTO attune_schema (version) VALUES (1)');
      await c.query("INSERT INTO spaces (id, code, name, status, capacity, ttl_ms, steward_token_hash, created_at) VALUES ('a', 'CODEA', 'a', 'open', 10, 1000, 'h', 1)");
      await c.query("INSERT INTO participants (id, space_id, token_hash, joined_at) VALUES ('p1', 'a', 't1', 1)");
    });
    const s = await open();
    expect((await s.getSpace('a'))?.code).toBe('CODEA');
    expect(await s.getStorySettings('a')).toBeNull();
    await s.createStory({ id: 's1', spaceId: 'a', participantId: 'p1', text: 'after the migration', name: null, valence: 0, arousal: 0, confidence: 0.5, flags: [], status: 'waiting', reason: null, createdAt: 5, decidedAt: null });
    expect((await s.listStories('a')).map((x) => x.text)).toEqual(['after the migration']);
    expect(await admin((c) => c.query(`SELECT version FROM ${schema}.attune_schema`)).then((r) => r.rows)).toEqual([{ version: PG_SCHEMA_VERSION }]);
    await s.close();
  });
});
