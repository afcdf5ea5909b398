/**
 * The `GovernanceSink` port (src/core/governance.ts) on the transparency log: each act becomes a
 * canonical entry (entry.ts) — `type`, `space`, `time` = the act's `at`, `payload` — and `record`
 * resolves once it is durable. An act the log must not hold (emotions, identities, non-JSON
 * values) is rejected with AttuneError BAD_REQUEST and nothing is logged.
 */
import { AttuneError } from '../core/errors.ts';
import type { GovernanceAct, GovernanceSink, LoggedAct } from '../core/governance.ts';
import { decodeEntry, type JsonObject } from './entry.ts';

/** What the sink needs from the log (satisfied by TransparencyLog); reading back is optional. */
export interface EntryAppender {
  append(input: { readonly type: string; readonly space: string | null; readonly time?: number; readonly payload: JsonObject }): Promise<number>;
  /** Catches up with other writers of the same store and resolves the size (K9). */
  sync?(): Promise<number>;
  /** Raw entries [start, end). */
  readEntries?(start: number, end: number): Promise<Uint8Array[]>;
}

/** Entries read per page when a space's acts are read back. */
const PAGE = 256;

/** A GovernanceSink that appends every act to `log` (and reads a space's acts back, when the log can). */
export function governanceSink(log: EntryAppender): GovernanceSink {
  const { sync, readEntries } = log;
  const since =
    sync && readEntries
      ? async (spaceId: string, after: number): Promise<LoggedAct[]> => {
          const size = await sync.call(log);
          const out: LoggedAct[] = [];
          for (let start = Math.max(0, after + 1); start < size; start += PAGE) {
            const page = await readEntries.call(log, start, Math.min(size, start + PAGE));
            page.forEach((bytes, i) => {
              const e = decodeEntry(bytes);
              if (e.ok && e.value.space === spaceId) out.push({ index: start + i, act: { type: e.value.type, space: spaceId, at: e.value.time, payload: e.value.payload } });
            });
          }
          return out;
        }
      : null;
  return {
    ...(since ? { since } : {}),
    async record(act: GovernanceAct): Promise<number> {
      if (!Number.isFinite(act.at)) throw new AttuneError('BAD_REQUEST', 'governance act time must be finite');
      // `payload` is typed as unknown values; the canonical encoder checks it is plain JSON.
      return log.append({ type: act.type, space: act.space, time: Math.floor(act.at), payload: act.payload as JsonObject });
    },
  };
}
