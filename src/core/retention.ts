/**
 * Retention of raw data about people (SPEC V3, S17): how long a space's inputs, sessions,
 * consents, stories and recorded events are kept after the space closes. Pure: parsing the
 * `--retention` setting, checking a space's own (`retentionDays` in the API and templates) and
 * the date a space's raw data is due for deletion.
 */

/** One day, ms. */
export const DAY_MS = 86_400_000;

/** The default: 30 days after the space closes. */
export const DEFAULT_RETENTION_MS = 30 * DAY_MS;

/** The longest retention a space may ask for: 10 years. */
export const MAX_RETENTION_DAYS = 3650;

/**
 * Parses `--retention`: whole days (`30`), or a duration with a unit — `90d`, `12h`, `45m`,
 * `30s`, `1500ms` — from 0 (raw data goes as soon as the job runs after the close) to
 * {@link MAX_RETENTION_DAYS} days. Returns ms, or a message saying what is wrong.
 */
export function parseRetention(text: string): { ok: true; ms: number } | { ok: false; message: string } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return { ok: false, message: `retention must be days (30) or a duration (90d, 12h, 45m, 30s), got '${text}'` };
  const unit = m[2] ?? 'd';
  const per = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : DAY_MS;
  const ms = Math.round(Number(m[1]) * per);
  if (!Number.isSafeInteger(ms) || ms > MAX_RETENTION_DAYS * DAY_MS) return { ok: false, message: `retention must be at most ${MAX_RETENTION_DAYS} days, got '${text}'` };
  return { ok: true, ms };
}

/** Checks a space's own `retentionDays` (API H1, templates Q14): a number of days in [0, 3650]. */
export function checkRetentionDays(v: unknown): { ok: true; ms: number } | { ok: false; message: string } {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_RETENTION_DAYS) return { ok: false, message: `retentionDays: a number of days in [0, ${MAX_RETENTION_DAYS}]` };
  return { ok: true, ms: Math.round(v * DAY_MS) };
}

/**
 * When a space's raw data is due for deletion: `retentionMs` (its own, else the server's) after
 * it closed; null while it is open. A space is purged by the first retention run at or after it.
 */
export function retentionDue(space: { readonly closedAt: number | null; readonly retentionMs?: number }, serverRetentionMs: number): number | null {
  return space.closedAt === null ? null : space.closedAt + (space.retentionMs ?? serverRetentionMs);
}
