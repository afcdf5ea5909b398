/**
 * `attune serve --db postgres://…` (SPEC S11): the composition root on PostgreSQL — spaces, the
 * public log and a restart — against the machine's real server, in a schema of its own.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/server/createServer.ts';
import { pgAdmin, TEST_PG, testSchemas } from './support/postgres.ts';

const PG = TEST_PG;
const schemas = testSchemas();
const schema = schemas.reserve('attune_serve');
const admin = (sql: string) => pgAdmin((c) => c.query(sql));

afterAll(() => schemas.dropAll());

describe('attune serve on PostgreSQL', () => {
  it('[S11][S6] a space, its participant and the public log live in the URL’s schema and survive a restart', async () => {
    await admin(`CREATE SCHEMA ${schema}`);
    const url = `${PG}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'attune-pgserve-'));
    const config = { dbPath: url, dataDir, port: 0, webRoot: null, text: false, collective: false } as const;
    let server = await createServer(config);
    const created = await server.host.createSpace({ name: 'on postgres' });
    if (!created.ok) throw new Error(created.message);
    const code = created.value.space.code;
    const closed = await server.host.closeSpace(code, created.value.stewardToken);
    expect(closed.ok).toBe(true);
    const logSize = server.log?.size ?? 0;
    expect(logSize).toBeGreaterThan(0);
    await server.close();

    server = await createServer(config);
    expect((await server.host.spaceByCode(code))?.status).toBe('closed');
    expect(server.log?.size).toBe(logSize);
    await server.close();
    const tables = await pgAdmin((c) => c.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema]));
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['spaces', 'participants', 'inputs', 'events', 'log_entries', 'attune_schema']));
  });

  it('[S11] an unreachable PostgreSQL is a clear, coded error', async () => {
    await expect(createServer({ dbPath: 'postgres://nobody@127.0.0.1:1/none', dataDir: mkdtempSync(join(tmpdir(), 'attune-pgserve-')), port: 0, webRoot: null })).rejects.toMatchObject({
      code: 'ATTUNE_DB_UNAVAILABLE',
      message: expect.stringMatching(/could not open the PostgreSQL database postgres:\/\/nobody@127\.0\.0\.1:1\/none/),
    });
  });
});
