/**
 * The checkpointer thread's entry (a `worker_threads` Worker started by SqliteCheckpointer). It
 * owns a connection of its own to the database file and its key store (openDatabase:
 * `synchronous = FULL`, `busy_timeout`), and runs one pass per request: for the database and for
 * the key store, a PASSIVE checkpoint, which copies committed WAL frames into the file beside the
 * writer and never takes or waits for its lock. Its answer names the schemas whose WAL still holds
 * `walLimitBytes` or more (frames already copied included: a WAL starts over only at a writer's
 * transaction that finds it all copied, which under a steady load rarely happens by itself).
 *
 * Durability: a checkpoint never touches what a COMMIT made durable (the writer's fsync of the
 * WAL). With `synchronous = FULL` (or NORMAL; never OFF) a checkpoint syncs the database file
 * before it marks frames copied, so the WAL is only ever overwritten once what it held is in the
 * file on disk (sqlite.org/wal.html, "Checkpointing").
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachKeyStore, openDatabase } from './openDatabase.ts';
import { serializeError } from './sqliteWriter.ts';
import type { CheckpointReply, CheckpointRequest } from './sqliteCheckpointer.ts';
import type { WalSchema } from './sqliteWriterThread.ts';

const port = parentPort;
if (port === null) throw new Error('sqliteCheckpointerWorker.ts runs only as a worker thread');
const { path, keysPath, walLimitBytes } = workerData as { readonly path: string; readonly keysPath: string; readonly walLimitBytes: number };
const db = openDatabase(path);
// This connection never writes a row: it must not checkpoint on its own either.
db.exec('PRAGMA wal_autocheckpoint = 0');
attachKeyStore(db, keysPath);

/**
 * One schema's PASSIVE checkpoint: whether its WAL still holds `walLimitBytes` or more. Past the
 * limit it runs a second one at once, which copies only what committed during the first: the
 * writer's RESTART that follows then has only the last moment's frames left to copy on the commit
 * path (measured: 90–260 ms of RESTART after one pass of a second's frames, at 35,000 inputs/s).
 */
function pass(schema: WalSchema): boolean {
  const pageSize = Number((db.prepare(`PRAGMA ${schema}.page_size`).get() as { page_size: number }).page_size);
  const passive = db.prepare(`PRAGMA ${schema}.wal_checkpoint(PASSIVE)`);
  // A WAL frame is its page plus a 24-byte header.
  const over = () => Number((passive.get() as { log: number }).log) * (pageSize + 24) >= walLimitBytes;
  return over() && over();
}

port.on('message', (m: CheckpointRequest) => {
  if (m.kind === 'close') {
    // A last pass before the connection goes: a pass due (its timer cancelled by close) would
    // otherwise leave the file behind its WAL — after an erasure (S16), the file would still
    // hold the old pages with the sealed values the erasure overwrote (secure_delete) in the WAL,
    // until some later checkpoint. Best effort: what is not copied stays durable in the WAL.
    try {
      for (const schema of ['main', 'keys'] as const) pass(schema);
    } catch {
      /* the frames stay in the WAL */
    }
    db.close();
    port.close();
    return;
  }
  let reply: CheckpointReply;
  try {
    const over = (['main', 'keys'] as const).filter(pass);
    reply = { kind: 'done', over, error: null };
  } catch (e) {
    // A failed pass loses nothing: the frames stay in the WAL for the next.
    reply = { kind: 'done', over: [], error: serializeError(e) };
  }
  port.postMessage(reply);
});
