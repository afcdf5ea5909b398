import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { MemoryLogStore } from '../../src/storage/memory/memoryLogStore.ts';
import { PostgresLogStore } from '../../src/storage/postgres/postgresLogStore.ts';
import { openDatabase } from '../../src/storage/sqlite/openDatabase.ts';
import { SqliteLogStore } from '../../src/storage/sqlite/sqliteLogStore.ts';
import { logStoreContract } from './logStore.contract.ts';

logStoreContract({ name: 'memory', create: async () => new MemoryLogStore(), reopen: null });

let path = '';
const open = async () => new SqliteLogStore(openDatabase(path), { ownsDatabase: true });
logStoreContract({
  name: 'sqlite',
  create: async () => {
    path = join(mkdtempSync(join(tmpdir(), 'attune-logstore-')), 'test.db');
    return open();
  },
  reopen: open,
});

// PostgreSQL (the machine's service at 127.0.0.1:5432, as in CI; env ATTUNE_TEST_PG overrides):
// each store gets a fresh schema, so runs never see each other's tables.
const PG = process.env.ATTUNE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
let schema = '';
async function dropSchema(): Promise<void> {
  if (schema === '') return;
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  schema = '';
}
afterAll(dropSchema);
const openPg = async () => {
  const pool = new pg.Pool({ connectionString: PG, max: 4, options: `-c search_path=${schema}` });
  return PostgresLogStore.open(pool, { ownsPool: true });
};
logStoreContract({
  name: 'postgres',
  create: async () => {
    await dropSchema();
    schema = `attune_logstore_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: PG });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    return openPg();
  },
  reopen: openPg,
});
