/**
 * PostgreSQL for tests: the machine's real server (`ATTUNE_TEST_PG`, default the local `test`
 * database), each test file working in schemas of its own that it drops afterwards, so that
 * parallel test files and other runs on the shared server never see each other's tables.
 */
import pg from 'pg';
import { defaultKeyStoreUrl } from '../../src/storage/postgres/postgresKeyStore.ts';

/** The server the tests use. */
export const TEST_PG = process.env.ATTUNE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The key store beside it (S18): the sibling database `<db>_keys`, where each schema's keys sit in a schema of the same name. */
export const TEST_PG_KEYS = defaultKeyStoreUrl(TEST_PG);

/** Drops `schema` from the key store database too (absent, or no such database: nothing to do). */
export async function dropKeySchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: TEST_PG_KEYS });
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch {
    // No key store database yet: no schema of this run in it.
  } finally {
    await c.end().catch(() => {});
  }
}

/** Runs `f` on a short-lived admin connection (closed afterwards, whatever happens). */
export async function pgAdmin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_PG });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** The schemas one test file made; call `dropAll` in its `afterAll`. */
export interface TestSchemas {
  /** A new unique schema name with `prefix`, dropped by `dropAll` (not created). */
  reserve(prefix: string): string;
  /** Creates a new unique schema with `prefix` and returns its name. */
  fresh(prefix: string): Promise<string>;
  /** Drops every schema reserved or created so far, here and in the key store database. */
  dropAll(): Promise<void>;
}

/** Schemas for one test file: names unique per process and call. */
export function testSchemas(): TestSchemas {
  const names: string[] = [];
  const reserve = (prefix: string): string => {
    const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    names.push(name);
    return name;
  };
  return {
    reserve,
    async fresh(prefix) {
      const name = reserve(prefix);
      await pgAdmin((c) => c.query(`CREATE SCHEMA ${name}`));
      return name;
    },
    async dropAll() {
      for (const s of names.splice(0)) {
        await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
        await dropKeySchema(s);
      }
    },
  };
}
