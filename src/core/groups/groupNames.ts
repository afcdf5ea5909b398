/**
 * The names of a space's groups (R6): what a steward may declare. A group name is public — it is
 * shown on the consent screen, the display and the public log — so it obeys the space name's
 * character rules (core/spaceName.ts: NFC, trimmed, no control, bidirectional or invisible
 * format characters), is at most {@link MAX_GROUP_NAME_CHARS} user-perceived characters, and the
 * names of one space are distinct. At most {@link MAX_GROUPS} groups.
 */
import { fail, ok, type Result } from '../errors.ts';
import { MAX_GROUPS } from '../release/groups.ts';
import { checkSpaceName, graphemeCount } from '../spaceName.ts';

export { MAX_GROUPS };

/** Longest group name, in user-perceived characters. */
export const MAX_GROUP_NAME_CHARS = 40;

/** Checks and normalises a steward's group names (in order; empty = a space without groups). */
export function checkGroupNames(raw: readonly string[]): Result<readonly string[]> {
  if (raw.length > MAX_GROUPS) return fail('BAD_REQUEST', `at most ${MAX_GROUPS} groups`);
  const out: string[] = [];
  for (const r of raw) {
    const c = checkSpaceName(r);
    if (!c.ok) return fail('BAD_REQUEST', `'${r.slice(0, 40)}': ${c.message}`);
    if (graphemeCount(c.name) > MAX_GROUP_NAME_CHARS) return fail('BAD_REQUEST', `'${c.name.slice(0, 40)}…' is longer than ${MAX_GROUP_NAME_CHARS} characters`);
    if (out.includes(c.name)) return fail('BAD_REQUEST', `'${c.name}' is named twice`);
    out.push(c.name);
  }
  return ok(out);
}
