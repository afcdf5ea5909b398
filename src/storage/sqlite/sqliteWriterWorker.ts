/**
 * The writer thread's entry (a `worker_threads` Worker started by SqliteWriterThread). It owns
 * its own connection to the database file (openDatabase: WAL, `synchronous = FULL`,
 * `busy_timeout`) and applies the groups it is sent, one at a time, in the order they arrive,
 * replying with each group's outcome once its COMMIT returned (or failed). Being the only
 * consumer of its message queue, it commits groups in exactly the order they were sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachKeyStore, openDatabase } from './openDatabase.ts';
import { serializeError, SqliteWriter } from './sqliteWriter.ts';
import { boundThreadGarbage } from './threadGarbage.ts';
import { type SqliteWriterThreadOptions, WRITER_CACHE_KIB, type WriterReply, type WriterRequest } from './sqliteWriterThread.ts';

const port = parentPort;
if (port === null) throw new Error('sqliteWriterWorker.ts runs only as a worker thread');
const { path, keysPath, options } = workerData as { readonly path: string; readonly keysPath: string; readonly options: SqliteWriterThreadOptions };
const db = openDatabase(path);
// A page cache of WRITER_CACHE_KIB (8 MiB): what it holds stays resident in this thread's malloc
// arena, so its cap is memory per node; misses re-read pages from the OS's page cache (see there).
db.exec(`PRAGMA cache_size = -${WRITER_CACHE_KIB}`);
attachKeyStore(db, keysPath);
/** The connection's `wal_autocheckpoint`, in pages (0: never). */
const autocheckpoint = (pages: number) => db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.trunc(pages))}`);
// 0 when a checkpointer thread checkpoints (sqliteCheckpointer.ts): no COMMIT then waits for one.
if (options.walAutocheckpoint !== undefined) autocheckpoint(options.walAutocheckpoint);
// So a WAL that grew past its bound (a burst the checkpointer could not follow) shrinks back once it restarts.
if (options.walSizeLimitBytes !== undefined) db.exec(`PRAGMA journal_size_limit = ${Math.max(0, Math.trunc(options.walSizeLimitBytes))}`);
const writer = new SqliteWriter(db, options);
// Collects the groups' garbage V8 would leave in the old generation for long (threadGarbage.ts).
const afterMessage = boundThreadGarbage();

port.on('message', (m: WriterRequest) => {
  if (m.kind === 'close') {
    db.close();
    port.close();
    return;
  }
  if (m.kind === 'autocheckpoint') {
    autocheckpoint(m.pages);
    return;
  }
  if (m.kind === 'restart') {
    let reply: WriterReply;
    try {
      let busy = false;
      for (const schema of m.schemas) busy = Number((db.prepare(`PRAGMA ${schema === 'keys' ? 'keys' : 'main'}.wal_checkpoint(RESTART)`).get() as { busy: number }).busy) !== 0 || busy;
      reply = { kind: 'restarted', busy, error: null };
    } catch (e) {
      reply = { kind: 'restarted', busy: false, error: serializeError(e) };
    }
    port.postMessage(reply);
    afterMessage();
    return;
  }
  const o = writer.commit(m.calls);
  const reply: WriterReply = {
    kind: 'outcome',
    outcome: {
      committed: o.committed,
      values: o.values,
      failures: o.failures.map(([k, e]) => [k, serializeError(e)] as const),
      groupError: o.groupError === null ? null : serializeError(o.groupError),
    },
  };
  port.postMessage(reply);
  afterMessage();
});
