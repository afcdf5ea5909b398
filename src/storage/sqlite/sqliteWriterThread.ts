/**
 * The main thread's side of the SQLite writer thread (sqliteWriterWorker.ts): sends groups of
 * write calls with `postMessage` and settles each `submit` with its group's outcome, in send
 * order (the worker replies in the order it received, one group at a time).
 *
 * Lifetime: the worker starts on the first submit (a read-only user such as `attune replay`
 * never starts one) and is unref'd while nothing is in flight, so it never keeps a process
 * alive on its own. If it dies (an uncaught error, running out of memory, an exit nobody asked
 * for), every submit in flight rejects with one clear error and so does every later one: a
 * group that was in flight may or may not have committed, so carrying on could break the rule
 * that what is durable is a prefix of what was asked (SPEC S3, M6).
 */
import { Worker } from 'node:worker_threads';
import { deserializeError, type GroupOutcome, type SerializedError, type SqliteWriterOptions, type WriteCall } from './sqliteWriter.ts';

/**
 * The writer connection's SQLite page cache, KiB (`PRAGMA cache_size = -N`). 8 MiB (SQLite's
 * own default is 2 MiB). The cache sits in the writer thread's malloc arena, and freed pages stay
 * resident there, so its cap is memory the server keeps: at 64 MiB (issue 13's first rounds) it
 * filled as the database grew — 4.9–6.1 KB per participant of RSS at 10,000 people tapping every
 * 3 s for 30 s (bench:memory, 2026-12-02) — and 8 MiB takes that to 0.4–1.4 KB. The pages an input
 * touches at random (its participant's leaf of the (participant_id, seq) key, the participant's
 * row) are re-read from the OS's page cache on a miss (a pread, not the disk); the writer's CPU
 * per input in bench:durable at 20,000 and 30,000/s was the same with either cap within that
 * bench's noise (DEPLOY.md, "Memory per participant").
 */
export const WRITER_CACHE_KIB = 8192;

/** The writer thread's young generation, MB (V8's `--max-semi-space-size` × 3; see #start). */
export const WRITER_YOUNG_GENERATION_MB = 6;

/** A message to the writer thread (`autocheckpoint`: set its connection's `wal_autocheckpoint`, in pages; 0: never). */
export type WriterRequest =
  | { readonly kind: 'group'; readonly calls: readonly WriteCall[] }
  | { readonly kind: 'autocheckpoint'; readonly pages: number }
  /** A RESTART checkpoint of these schemas' WALs, between two groups (see SqliteCheckpointer). */
  | { readonly kind: 'restart'; readonly schemas: readonly WalSchema[] }
  | { readonly kind: 'close' };

/** A schema of the writer's connection that has a WAL: the database, or its key store (S18). */
export type WalSchema = 'main' | 'keys';

/** Options of a {@link SqliteWriterThread}: its writer's, and its connection's. */
export interface SqliteWriterThreadOptions extends SqliteWriterOptions {
  /**
   * The connection's `wal_autocheckpoint` in pages (default SQLite's, 1,000): the COMMIT that
   * takes the WAL past it also checkpoints. 0 when a SqliteCheckpointer does it off the commit path.
   */
  readonly walAutocheckpoint?: number;
  /** The connection's `journal_size_limit` in bytes: the first COMMIT after the WAL restarts truncates a larger file to it. */
  readonly walSizeLimitBytes?: number;
}

/**
 * A message from the writer thread, answering the oldest request it has not answered yet: a
 * group's outcome, or whether a RESTART checkpoint completed (`busy`: it gave up waiting for a
 * reader; nothing is lost, the WAL just did not restart).
 */
export type WriterReply = { readonly kind: 'outcome'; readonly outcome: GroupOutcome<SerializedError> } | { readonly kind: 'restarted'; readonly busy: boolean; readonly error: SerializedError | null };

/** Something that commits groups of write calls in submit order. */
export interface GroupCommitter {
  /** Commits `calls` as one group after every group submitted before; resolves with its outcome. */
  submit(calls: readonly WriteCall[]): Promise<GroupOutcome>;
  /** Stops accepting groups; resolves once its resources are released. Idempotent. */
  close(): Promise<void>;
}

interface Waiter {
  readonly resolve: (m: WriterReply) => void;
  readonly reject: (e: Error) => void;
}

/** A group's outcome as it crossed postMessage, with its errors rebuilt. */
function outcomeOf(o: GroupOutcome<SerializedError>): GroupOutcome {
  return {
    committed: o.committed,
    values: o.values,
    failures: o.failures.map(([k, e]) => [k, deserializeError(e)] as const),
    groupError: o.groupError === null ? null : deserializeError(o.groupError),
  };
}

/** Commits groups on a worker thread with its own connection to the database file at `path`. */
export class SqliteWriterThread implements GroupCommitter {
  readonly #path: string;
  readonly #keysPath: string;
  #options: SqliteWriterThreadOptions;
  #worker: Worker | null = null;
  /** Submits awaiting their reply, oldest first. */
  #waiting: Waiter[] = [];
  #failure: Error | null = null;
  #exited = false;
  #closing: Promise<void> | null = null;
  #onExit: (() => void) | null = null;

  /**
   * @param path the database file (already migrated by the main connection).
   * @param keysPath its key store (S18), attached by the thread's connection as `keys`.
   * @param options the thread's writer's settings.
   */
  constructor(path: string, keysPath: string, options: SqliteWriterThreadOptions = {}) {
    this.#path = path;
    this.#keysPath = keysPath;
    this.#options = options;
  }

  /** Whether the worker is running (started and not exited). */
  get running(): boolean {
    return this.#worker !== null && !this.#exited;
  }

  submit(calls: readonly WriteCall[]): Promise<GroupOutcome> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(new Error('storage is closed'));
    const worker = this.#worker ?? this.#start();
    return new Promise<GroupOutcome>((resolve, reject) => {
      const request: WriterRequest = { kind: 'group', calls };
      worker.postMessage(request); // throws (DataCloneError) before anything is queued
      if (this.#waiting.length === 0) worker.ref();
      this.#waiting.push({ resolve: (m) => (m.kind === 'outcome' ? resolve(outcomeOf(m.outcome)) : reject(new Error('SQLite writer thread: a reply out of order'))), reject });
    });
  }

  /**
   * Runs a RESTART checkpoint of `schemas` on the writer's connection after every group
   * submitted before (and before any submitted after): it copies what the WAL holds past the
   * last checkpoint into the file, waits for readers, and the next group starts the WAL over.
   * Resolves true when it completed, false when it gave up (busy) or failed; never rejects
   * unless the thread stopped.
   */
  restartWal(schemas: readonly WalSchema[]): Promise<boolean> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing || this.#worker === null || this.#exited) return Promise.resolve(false);
    const worker = this.#worker;
    return new Promise<boolean>((resolve, reject) => {
      const request: WriterRequest = { kind: 'restart', schemas };
      worker.postMessage(request);
      if (this.#waiting.length === 0) worker.ref();
      this.#waiting.push({ resolve: (m) => resolve(m.kind === 'restarted' && !m.busy && m.error === null), reject });
    });
  }

  /** Sets the writer connection's `wal_autocheckpoint` (pages; 0: never), for the groups submitted from now on. */
  checkpointOnCommit(pages: number): void {
    this.#options = { ...this.#options, walAutocheckpoint: pages };
    if (this.#worker === null || this.#exited || this.#closing) return;
    const request: WriterRequest = { kind: 'autocheckpoint', pages };
    this.#worker.postMessage(request);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const worker = this.#worker;
      if (worker === null || this.#exited) return resolve();
      this.#onExit = resolve;
      worker.ref();
      const request: WriterRequest = { kind: 'close' };
      worker.postMessage(request);
    });
    return this.#closing;
  }

  #start(): Worker {
    // A small young generation: the thread's garbage is each group's calls, short-lived and a few
    // hundred KB at most, so V8's default (grown to tens of MB under a steady input rate, resident
    // for the process's life) is memory the server pays for nothing. Only the young generation is
    // bounded — objects that outlive it move to the old one as usual, so no limit here can run
    // the thread out of memory.
    const worker = new Worker(new URL('./sqliteWriterWorker.ts', import.meta.url), { workerData: { path: this.#path, keysPath: this.#keysPath, options: this.#options }, name: 'attune-sqlite-writer', resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB } });
    worker.unref();
    worker.on('message', (m: WriterReply) => {
      const w = this.#waiting.shift();
      if (this.#waiting.length === 0 && !this.#closing) worker.unref();
      w?.resolve(m);
    });
    worker.on('error', (e) => this.#fail(`it threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, e));
    worker.on('messageerror', (e) => this.#fail(`a reply could not be read (${e.message})`, e));
    worker.on('exit', (code) => {
      this.#exited = true;
      if (!this.#closing || this.#waiting.length > 0) this.#fail(`it exited with code ${code}`, undefined);
      this.#onExit?.();
    });
    this.#worker = worker;
    return worker;
  }

  #fail(reason: string, cause: unknown): void {
    this.#failure ??= new Error(
      `SQLite writer thread stopped: ${reason}. Writes in flight may or may not have committed; no further write is accepted (reads still work)`,
      cause === undefined ? undefined : { cause },
    );
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.reject(this.#failure);
  }
}
