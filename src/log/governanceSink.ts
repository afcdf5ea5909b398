/**
 * The `GovernanceSink` port (src/core/governance.ts) on the transparency log: each act becomes a
 * canonical entry (entry.ts) — `type`, `space`, `time` = the act's `at`, `payload` — and `record`
 * resolves once it is durable. An act the log must not hold (emotions, identities, non-JSON
 * values) is rejected with AttuneError BAD_REQUEST and nothing is logged.
 */
import { AttuneError } from '../core/errors.ts';
import type { GovernanceAct, GovernanceSink } from '../core/governance.ts';
import type { JsonObject } from './entry.ts';

/** What the sink needs from the log (satisfied by TransparencyLog). */
export interface EntryAppender {
  append(input: { readonly type: string; readonly space: string | null; readonly time?: number; readonly payload: JsonObject }): Promise<number>;
}

/** A GovernanceSink that appends every act to `log`. */
export function governanceSink(log: EntryAppender): GovernanceSink {
  return {
    async record(act: GovernanceAct): Promise<number> {
      if (!Number.isFinite(act.at)) throw new AttuneError('BAD_REQUEST', 'governance act time must be finite');
      // `payload` is typed as unknown values; the canonical encoder checks it is plain JSON.
      return log.append({ type: act.type, space: act.space, time: Math.floor(act.at), payload: act.payload as JsonObject });
    },
  };
}
