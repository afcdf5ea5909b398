/**
 * Opens attune's embedded SQLite database (Node's built-in `node:sqlite`, no native addon to
 * build). WAL journal with `synchronous = FULL`, so a committed transaction survives a power
 * loss: an input is acknowledged only after the commit that holds it returns (SPEC S3).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Opens (creating if needed) the database at `path`; `':memory:'` gives a private in-memory one. */
export function openDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  // Deleted content is overwritten, not left in free pages: erasure (S16) is real in the file.
  db.exec('PRAGMA secure_delete = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  // An erased story (SPEC ST11) is overwritten with zeros in its page, not just unlinked; attune
  // deletes rarely (stories, link withdrawals), so this costs nothing that matters.
  db.exec('PRAGMA secure_delete = ON');
  return db;
}
