/**
 * Optional parts of a full server that live in other folders (text analyser, collective-state
 * tracker, transparency log), wired here so that `startServer` stays usable on its own in tests.
 */
import type { ServerOptions } from './startServer.ts';

/** What the extras add to a server, and how to release them. */
export interface ServerExtras {
  readonly serverOptions: Partial<ServerOptions>;
  close(): Promise<void>;
}

/** Builds the extras for a server whose data lives in `dataDir` (null: nothing persisted). */
export async function buildServerExtras(_o: { dataDir: string | null; dbPath: string }): Promise<ServerExtras> {
  return { serverOptions: {}, async close() {} };
}
