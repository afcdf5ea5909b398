/**
 * The parts of a full server that live in other folders — the text analyser, the
 * collective-state tracker and the transparency log — wired here, so that `startServer` stays
 * usable on its own in tests and `attune serve` gets everything.
 */
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { analyzeText } from '../analyze/text/analyzeText.ts';
import { CollectiveTracker, type CollectiveTrackerOptions, collectiveInputOf } from '../core/collective/collectiveTracker.ts';
import { createLogRoutes } from '../http/logRoutes.ts';
import { governanceSink } from '../log/governanceSink.ts';
import { DEFAULT_LOG_ORIGIN, loadOrCreateLogKeys } from '../log/keyFile.ts';
import { generateSignerKey, type NoteSigner } from '../log/note.ts';
import { TransparencyLog } from '../log/transparencyLog.ts';
import type { PulseExtension } from '../space/spaceRuntime.ts';
import { MemoryLogStore } from '../storage/memory/memoryLogStore.ts';
import { SqliteLogStore } from '../storage/sqlite/sqliteLogStore.ts';
import type { ServerOptions } from './startServer.ts';

/** What the extras add to a server, and how to release them. */
export interface ServerExtras {
  readonly serverOptions: Partial<ServerOptions>;
  /** The transparency log every governance act goes to. */
  readonly log: TransparencyLog;
  /** Whether a new log signing key was generated on this start. */
  readonly keyCreated: boolean;
  readonly keyPath: string | null;
  close(): Promise<void>;
}

/**
 * The collective-state tracker as a pulse extension: fed every participant-rate tick, its state
 * goes into the pulse as `collective` — but only while the pulse itself is not suppressed by the
 * minimum cohort (SPEC P4), so it never describes fewer people than the pulse may.
 */
export function collectiveExtension(options: CollectiveTrackerOptions = {}): PulseExtension {
  const tracker = new CollectiveTracker(options);
  return {
    update(state, snapshot, now) {
      // A suppressed snapshot carries no shares or mean, so the tracker sees "too few people".
      const collective = tracker.update(collectiveInputOf(state.grid, { ...snapshot, at: now }));
      return { collective: snapshot.suppressed ? null : collective };
    },
  };
}

/** Settings of the extras. */
export interface ExtrasOptions {
  /** The server's SQLite database (the log keeps its tables there), or null for memory. */
  readonly db: DatabaseSync | null;
  /** Where the log's signing key lives (`<dataDir>/log-key`), or null for a key in memory. */
  readonly dataDir: string | null;
  /** The log's origin (and key name) when a key is first created. */
  readonly logOrigin?: string;
}

/** Builds the extras. */
export async function buildServerExtras(o: ExtrasOptions): Promise<ServerExtras> {
  const origin = o.logOrigin ?? DEFAULT_LOG_ORIGIN;
  let signers: NoteSigner[];
  let keyCreated = false;
  const keyPath = o.dataDir ? join(o.dataDir, 'log-key') : null;
  if (keyPath) {
    const k = loadOrCreateLogKeys({ path: keyPath, origin });
    signers = k.signers;
    keyCreated = k.created;
  } else {
    signers = [generateSignerKey(origin).signer];
    keyCreated = true;
  }
  const store = o.db ? new SqliteLogStore(o.db) : new MemoryLogStore();
  const log = await TransparencyLog.open({ store, signer: signers });
  return {
    log,
    keyCreated,
    keyPath,
    serverOptions: {
      analyseText: analyzeText,
      extension: () => collectiveExtension(),
      governance: governanceSink(log),
      mounts: [{ path: '/log', app: createLogRoutes(log) }],
    },
    async close() {
      await log.close();
    },
  };
}
