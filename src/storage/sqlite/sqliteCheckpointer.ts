/**
 * The main thread's side of the SQLite checkpointer thread (sqliteCheckpointerWorker.ts): WAL
 * checkpoints off the commit path. SQLite's default runs a checkpoint inside the COMMIT that
 * takes the WAL past 1,000 pages (`wal_autocheckpoint`): on the writer thread, between one group
 * and the next, so every few hundred milliseconds at tens of thousands of inputs/s a group waited
 * for ≈ 4 MB of pages to be copied into the database file and that file's fsync. With the
 * checkpointer the writer's connection has `wal_autocheckpoint = 0`, and after each group
 * commits SqliteStorage calls {@link SqliteCheckpointer.poke}: a pass runs on the checkpointer's
 * own thread and connection (a PASSIVE checkpoint, beside the writer, copying what the groups
 * since the last pass wrote), at most one per `intervalMs` (1 s), and a poke during a pass asks
 * for one more after it.
 *
 * Bounding the WAL: a WAL starts over only when a writer's transaction begins with every frame
 * copied. When a pass reports the WAL at `walLimitBytes` or more, the checkpointer asks the
 * writer (`restart`) for a RESTART checkpoint between two groups — it has only the frames of the
 * last moments left to copy — and starts no pass until it returned. Done by the checkpointer's
 * own connection, a RESTART would wait for the writer's lock by polling, and the writer, which
 * takes it again the moment a group is ready, starves it (measured: the WAL passed 100 MB at
 * 30,000 inputs/s). So the WAL stays near `walLimitBytes` plus what commits during one interval.
 *
 * Lifetime: the worker starts on the first poke and is unref'd while no pass runs. If it dies,
 * `onFailure` is called once (SqliteStorage then has the writer checkpoint on commit again, as
 * before) and later pokes do nothing: a lost checkpointer costs WAL size, never data.
 */
import { Worker } from 'node:worker_threads';
import { deserializeError, type SerializedError } from './sqliteWriter.ts';
import type { WalSchema } from './sqliteWriterThread.ts';

/** The default WAL bound: past it the writer runs a RESTART checkpoint between two groups. */
export const DEFAULT_WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/** The default least time between two passes' starts, ms. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;

/** A message to the checkpointer thread. */
export type CheckpointRequest = { readonly kind: 'pass' } | { readonly kind: 'close' };

/** The checkpointer thread's answer to a pass: the schemas whose WAL holds `walLimitBytes` or more; the error of a failed pass. */
export interface CheckpointReply {
  readonly kind: 'done';
  readonly over: readonly WalSchema[];
  readonly error: SerializedError | null;
}

/** Options of a {@link SqliteCheckpointer}. */
export interface SqliteCheckpointerOptions {
  /** Past this many WAL bytes `restart` is asked for (default {@link DEFAULT_WAL_LIMIT_BYTES}). */
  readonly walLimitBytes?: number;
  /**
   * Passes start at least this far apart, ms (default {@link DEFAULT_CHECKPOINT_INTERVAL_MS}); a
   * poke sooner waits for the rest. A page that many groups rewrote (a participant's latest point,
   * an index leaf) is then copied once, not once per group: a pass after every group copied and
   * synced several times the bytes, and on ext4 the database file's fsync also held up the
   * writer's WAL fsync (one journal), so commits stalled for seconds at 35,000 inputs/s.
   */
  readonly intervalMs?: number;
  /** Runs a RESTART checkpoint of these schemas on the writer, between two groups; resolves whether it completed. */
  readonly restart?: (schemas: readonly WalSchema[]) => Promise<boolean>;
  /** Called once if the thread dies. */
  readonly onFailure?: (e: Error) => void;
}

/** Runs WAL checkpoints of the database at `path` (and its key store) on a thread of its own. */
export class SqliteCheckpointer {
  readonly #path: string;
  readonly #keysPath: string;
  readonly #walLimitBytes: number;
  readonly #onFailure: (e: Error) => void;
  readonly #restart: (schemas: readonly WalSchema[]) => Promise<boolean>;
  readonly #intervalMs: number;
  /** When the last pass started (performance.now()), and the timer that starts the next one. */
  #lastStart = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #worker: Worker | null = null;
  #running = false;
  #again = false;
  #failed = false;
  #closing: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Passes completed, RESTART checkpoints the writer completed, failed passes (for tests and metrics). */
  passes = 0;
  restarts = 0;
  errors = 0;
  /** The last failed pass's error (a failed pass loses nothing; the next one retries). */
  lastError: Error | null = null;

  constructor(path: string, keysPath: string, options: SqliteCheckpointerOptions = {}) {
    this.#path = path;
    this.#keysPath = keysPath;
    this.#walLimitBytes = options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES;
    if (!(this.#walLimitBytes > 0)) throw new RangeError(`walLimitBytes must be positive, got ${this.#walLimitBytes}`);
    this.#onFailure = options.onFailure ?? (() => {});
    this.#restart = options.restart ?? (async () => false);
    this.#intervalMs = options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (!(this.#intervalMs >= 0)) throw new RangeError(`intervalMs must be ≥ 0, got ${this.#intervalMs}`);
  }

  /** Asks for a pass: after the one running, if any, and `intervalMs` after the last one started. */
  poke(): void {
    if (this.#failed || this.#closing) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#due();
  }

  /** Resolves once no pass is running or asked for. */
  idle(): Promise<void> {
    if (!this.#running && this.#timer === null) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Starts a pass now, or sets the timer for when it is due. */
  #due(): void {
    if (this.#timer !== null) return;
    const wait = this.#lastStart + this.#intervalMs - performance.now();
    if (wait <= 0) {
      this.#run();
      return;
    }
    // Unref'd: a pass due is never a reason to keep the process alive.
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closing || this.#failed) this.#settleIdle();
      else this.#run();
    }, wait);
    this.#timer.unref();
  }

  /** Lets the running pass finish, then stops the thread. Idempotent. */
  close(): Promise<void> {
    if (this.#timer !== null && !this.#closing) {
      clearTimeout(this.#timer);
      this.#timer = null;
      if (!this.#running) this.#settleIdle();
    }
    this.#closing ??= this.idle().then(
      () =>
        new Promise<void>((resolve) => {
          const worker = this.#worker;
          if (worker === null || this.#failed) return resolve();
          worker.ref();
          worker.once('exit', () => resolve());
          const request: CheckpointRequest = { kind: 'close' };
          worker.postMessage(request);
        }),
    );
    return this.#closing;
  }

  #run(): void {
    const worker = this.#worker ?? this.#start();
    this.#running = true;
    this.#lastStart = performance.now();
    this.#again = false;
    worker.ref();
    const request: CheckpointRequest = { kind: 'pass' };
    worker.postMessage(request);
  }

  #start(): Worker {
    // Its garbage is a few rows per pass: V8's smallest young generation is plenty.
    const worker = new Worker(new URL('./sqliteCheckpointerWorker.ts', import.meta.url), { workerData: { path: this.#path, keysPath: this.#keysPath, walLimitBytes: this.#walLimitBytes }, name: 'attune-sqlite-checkpointer', resourceLimits: { maxYoungGenerationSizeMb: 1 } });
    worker.unref();
    worker.on('message', (m: CheckpointReply) => {
      if (m.error === null) this.passes++;
      else {
        this.errors++;
        this.lastError = deserializeError(m.error);
      }
      if (m.over.length === 0 || this.#closing) {
        this.#next(worker);
        return;
      }
      // No pass while the writer restarts the WAL: its RESTART would wait for ours.
      this.#restart(m.over).then(
        (done) => {
          if (done) this.restarts++;
          this.#next(worker);
        },
        (e: unknown) => {
          this.lastError = e instanceof Error ? e : new Error(String(e));
          this.#next(worker);
        },
      );
    });
    worker.on('error', (e) => this.#fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`SQLite checkpointer thread exited with code ${code}`));
    });
    this.#worker = worker;
    return worker;
  }

  /** After a pass (and the RESTART it asked for): the next pass if one was asked for, else idle. */
  #next(worker: Worker): void {
    this.#running = false;
    worker.unref();
    if (this.#again && !this.#closing && !this.#failed) {
      this.#again = false;
      this.#due();
      if (this.#running || this.#timer !== null) return;
    }
    this.#settleIdle();
  }

  #fail(e: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.lastError = e;
    this.#settleIdle();
    this.#onFailure(e);
  }

  #settleIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const f of waiters) f();
  }
}
