/**
 * `attune privacy report CODE`: what is stored about a space's people (counts), its DP budget use
 * and its retention date (SPEC V4) — from the database directly (`--db`, for the operator) or from
 * a running server with the steward token (`--url`/`--token`, as the other commands).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { normaliseCode } from '../../core/protocol.ts';
import { DEFAULT_BUDGET_RHO } from '../../core/release/budget.ts';
import { DEFAULT_RETENTION_MS, parseRetention } from '../../core/retention.ts';
import { formatPrivacyReport, type PrivacyReport, privacyReport } from '../../space/privacyReport.ts';
import type { Storage } from '../../storage/port.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { apiCall, apiErrorText, baseUrl, ServerUnreachable } from '../httpApi.ts';

const HELP = `Usage: attune privacy report CODE [--db PATH|URL | --url URL --token TOKEN] [--json]

Prints what is stored about a space's people — participants, inputs (and how many are sealed
under a participant's own key), erasures, consents, stories, recorded events: counts, never
contents — its privacy budget (ρ and ε spent and remaining, every DP release) and its
retention: how long its raw data is kept after it closes, and when it is (or was) deleted.
Reading it changes nothing and spends nothing (PRIVACY.md, SPEC V4).

  With --db, reads the database the server runs on (SQLite file or postgres:// URL) — the
  operator's view; the server's --privacy-budget and --retention are not stored, so give
  them here if the server was started with others. Otherwise asks a running server, which
  needs the space's steward token.

Options:
  --db PATH|URL         the database (env ATTUNE_DB; e.g. ./data/attune.db)
  --keys PATH|URL       with --db: its key store, if the server ran with --keys (env
                        ATTUNE_KEYS; default: SQLite NAME.keys.db beside the database,
                        PostgreSQL the sibling database DB_keys)
  --privacy-budget R    with --db: the server's per-space budget ρ (default 0.5)
  --retention DAYS      with --db: the server's --retention, for spaces created before
                        spaces carried their own (default 30)
  --url URL             the server (env ATTUNE_URL, default http://127.0.0.1:8787)
  --token TOKEN         the steward token (env ATTUNE_STEWARD_TOKEN)
  --json                print the report as JSON
  -h, --help            show this help
`;

/** Opens the storage named by `db` (read side: nothing is written). */
async function openStorage(io: CliIO, db: string, keys: string | undefined): Promise<{ storage: Storage; close: () => Promise<void> } | string> {
  if (/^postgres(ql)?:\/\//.test(db)) {
    const { PostgresStorage } = await import('../../storage/postgres/postgresStorage.ts');
    const storage = await PostgresStorage.open({ connectionString: db, ...(keys !== undefined ? { keys: { connectionString: keys } } : {}) });
    return { storage, close: () => storage.close() };
  }
  const path = resolve(io.cwd, db);
  if (!existsSync(path)) return `no database at ${path}`;
  const { openDatabase } = await import('../../storage/sqlite/openDatabase.ts');
  const { SqliteStorage } = await import('../../storage/sqlite/sqliteStorage.ts');
  const d = openDatabase(path);
  let storage: InstanceType<typeof SqliteStorage>;
  try {
    storage = new SqliteStorage(d, keys !== undefined ? { keysPath: resolve(io.cwd, keys) } : {});
  } catch (e) {
    d.close();
    return (e as Error).message;
  }
  return {
    storage,
    close: async () => {
      await storage.close();
      d.close();
    },
  };
}

export const command: Command = {
  summary: "what is stored about a space's people, its privacy budget use and retention date",
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { db: { type: 'string' }, keys: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' }, 'privacy-budget': { type: 'string' }, retention: { type: 'string' }, json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    const [sub, code, ...rest] = positionals;
    if (sub !== 'report') throw new UsageError(sub ? `unknown privacy command '${sub}' (try: report)` : 'which privacy command? report');
    if (!code) throw new UsageError("privacy report needs the space's CODE");
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const print = (r: PrivacyReport) => io.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : formatPrivacyReport(r));
    const db = values.db ?? (values.url === undefined ? io.env.ATTUNE_DB : undefined);

    if (db !== undefined) {
      const budgetRaw = values['privacy-budget'];
      const budgetRho = budgetRaw === undefined ? DEFAULT_BUDGET_RHO : Number(budgetRaw);
      if (!(budgetRho > 0 && budgetRho <= 100)) throw new UsageError(`--privacy-budget must be a number in (0, 100], got '${budgetRaw}'`);
      let retentionMs = DEFAULT_RETENTION_MS;
      if (values.retention !== undefined) {
        const r = parseRetention(values.retention);
        if (!r.ok) throw new UsageError(`--retention: ${r.message}`);
        retentionMs = r.ms;
      }
      const opened = await openStorage(io, db, values.keys ?? io.env.ATTUNE_KEYS);
      if (typeof opened === 'string') {
        io.stderr.write(`attune privacy: ${opened}\n`);
        return 2;
      }
      try {
        const space = await opened.storage.getSpaceByCode(normaliseCode(code));
        if (!space) {
          io.stderr.write(`attune privacy: NOT_FOUND: no space has the code ${code}\n`);
          return 1;
        }
        print(await privacyReport(opened.storage, space, { budgetRho, retentionMs }));
        return 0;
      } finally {
        await opened.close();
      }
    }

    let base: string;
    try {
      base = baseUrl(io, values.url);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    try {
      const r = await apiCall(io, base, 'GET', `/api/spaces/${encodeURIComponent(code)}/privacy/report`, undefined, values.token ?? io.env.ATTUNE_STEWARD_TOKEN);
      if (r.status !== 200) {
        io.stderr.write(`attune privacy report: ${apiErrorText(r.json)}\n`);
        return 1;
      }
      print(r.json as unknown as PrivacyReport);
      return 0;
    } catch (e) {
      if (e instanceof ServerUnreachable) {
        io.stderr.write(`attune privacy: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
