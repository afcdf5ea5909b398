/** Telling a PostgreSQL URL from a SQLite path, and printing one safely (SPEC S11, O5). */

/** Whether `--db` names a PostgreSQL database (`postgres://…` or `postgresql://…`) rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** A database for printing and logs: a URL without its password. */
export function shownDb(db: string): string {
  return isPostgresUrl(db) ? db.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') : db;
}
