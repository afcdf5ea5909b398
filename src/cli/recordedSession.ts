/**
 * The recorded session of one space, read from the database a server ran on — SQLite file or
 * PostgreSQL URL — for the commands that fold it through the machine again (`attune replay`,
 * `attune policy test`, `attune play`). One reader, so the three say the same things about a
 * missing database or space.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { normaliseCode } from '../core/protocol.ts';
import { loadSession, type RecordedSession } from '../space/rehearse.ts';
import { isPostgresUrl, shownDb } from '../storage/postgres/databaseUrl.ts';
import { PostgresStorage } from '../storage/postgres/postgresStorage.ts';
import { openDatabase } from '../storage/sqlite/openDatabase.ts';
import { SqliteStorage } from '../storage/sqlite/sqliteStorage.ts';
import type { CliIO } from './command.ts';

/** What `--db` says in every such command's help. */
export const RECORDED_DB_HELP = 'the database the server ran on: a SQLite file or a postgres:// URL\n                 (env ATTUNE_DB, default ./data/attune.db)';

/**
 * Reads the space `code`'s recorded session from `db` (else ATTUNE_DB, else ./data/attune.db).
 * On a missing database, an unreachable server or an unknown code it writes why to stderr,
 * prefixed with `command`, and answers null (the command exits 2).
 */
export async function readRecordedSession(command: string, db: string | undefined, code: string, io: CliIO): Promise<RecordedSession | null> {
  const raw = db ?? io.env.ATTUNE_DB ?? './data/attune.db';
  const postgres = isPostgresUrl(raw);
  const where = postgres ? shownDb(raw) : resolve(io.cwd, raw);
  let storage: SqliteStorage | PostgresStorage;
  let closeDb = () => {};
  if (postgres) {
    try {
      // The key store (S18): ATTUNE_KEYS as the server's --keys, else the default sibling database.
      const keys = io.env.ATTUNE_KEYS;
      storage = await PostgresStorage.open({ connectionString: raw, ...(keys !== undefined && isPostgresUrl(keys) ? { keys: { connectionString: keys } } : {}) });
    } catch (e) {
      io.stderr.write(`${command}: could not open the PostgreSQL database ${where}: ${e instanceof Error ? e.message : String(e)}\n`);
      return null;
    }
  } else {
    if (!existsSync(where)) {
      io.stderr.write(`${command}: no database at ${where}\n`);
      return null;
    }
    const file = openDatabase(where);
    storage = new SqliteStorage(file);
    closeDb = () => file.close();
  }
  try {
    const session = await loadSession(storage, normaliseCode(code));
    if (!session) io.stderr.write(`${command}: no space with the code ${code} in ${where}\n`);
    return session;
  } finally {
    await storage.close();
    closeDb();
  }
}
