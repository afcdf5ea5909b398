/**
 * Stories on PostgreSQL (SPEC ST13, S11): a database written by the previous schema (version 1,
 * before stories) migrates to version 2 keeping its data, and then stores stories. Against the
 * machine's real server, in a schema of its own, dropped afterwards.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_SCHEMA_VERSION } from './postgresSchema.ts';
import { PostgresStorage } from './postgresStorage.ts';

const PG = process.env.ATTUNE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `attune_pgstories_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;

async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

afterAll(async () => {
  await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
});

const open = () => PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}` });

describe('PostgreSQL stories', () => {
  it('[ST13][S11] a version-1 database migrates to version 2, keeps its data and stores stories', async () => {
    expect(PG_SCHEMA_VERSION).toBe(2);
    await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
    let s = await open();
    await s.createSpace({ id: 'a', code: 'CODEA', name: 'a', status: 'open', capacity: 10, ttlMs: 1000, stewardTokenHash: 'h', createdAt: 1, closedAt: null });
    await s.createParticipant({ id: 'p1', spaceId: 'a', tokenHash: 't1', joinedAt: 1, lastSeq: 0, latest: null });
    await s.close();
    // Back to what version 1 had: no story tables.
    await admin((c) => c.query(`DROP TABLE ${schema}.stories, ${schema}.story_settings; UPDATE ${schema}.attune_schema SET version = 1`));
    s = await open();
    expect((await s.getSpace('a'))?.code).toBe('CODEA');
    await s.createStory({ id: 's1', spaceId: 'a', participantId: 'p1', text: 'after the migration', name: null, valence: 0, arousal: 0, confidence: 0.5, flags: [], status: 'waiting', reason: null, createdAt: 5, decidedAt: null });
    expect((await s.listStories('a')).map((x) => x.text)).toEqual(['after the migration']);
    expect(await admin((c) => c.query(`SELECT version FROM ${schema}.attune_schema`)).then((r) => r.rows)).toEqual([{ version: 2 }]);
    await s.close();
  });
});
