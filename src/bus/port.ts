/**
 * The Bus port (SPEC.md §B): subject-addressed publish/subscribe of byte messages between the
 * parts of attune (space runtimes → WebSocket edges today; several server processes through
 * NATS tomorrow). Delivery is at-most-once and in publish order per subject per subscriber.
 *
 * Subjects are dot-separated tokens (`space.<id>.pulse`); a subscription may end in `.>` to
 * receive every subject below a prefix, as in NATS.
 */

/** Something that must be released. */
export interface Disposable {
  dispose(): void;
}

/** A message handler; it must not throw (errors are caught and reported by the adapter). */
export type BusHandler = (data: Uint8Array, subject: string) => void;

/** The bus. */
export interface Bus {
  /** Publishes bytes on a subject. Resolves once handed to the transport (not delivered). */
  publish(subject: string, data: Uint8Array): void;
  /** Subscribes to a subject (or a `prefix.>` wildcard). */
  subscribe(subject: string, handler: BusHandler): Disposable;
  /** Waits until everything published so far has reached local subscribers' transports. */
  flush(): Promise<void>;
  /** Ends every subscription and releases the transport. Idempotent. */
  close(): Promise<void>;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Checks a concrete subject (no wildcards). Throws on a malformed subject: that is a bug, not input. */
export function assertSubject(subject: string): void {
  if (subject.length === 0 || subject.length > 256 || !subject.split('.').every((t) => TOKEN.test(t))) {
    throw new Error(`invalid bus subject '${subject}'`);
  }
}

/** Whether `subject` matches the subscription pattern `pattern` (exact, or `prefix.>`). */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern.endsWith('.>')) return subject.startsWith(pattern.slice(0, -1)) && subject.length > pattern.length - 1;
  return pattern === subject;
}

/** One stored value of a {@link KvStore} key and the revision that wrote it. */
export interface KvEntry {
  readonly value: Uint8Array;
  /** Increases with every write to the store (NATS KV: the stream sequence). */
  readonly revision: number;
}

/**
 * A small key-value store with compare-and-set (SPEC K1: the cluster's tick leases, node slots).
 * Adapters: in-process (`MemoryKv`) and NATS JetStream KV (`NatsKv`); one contract suite
 * (test/contracts/kv.contract.ts). There is no expiry: nats-server 2.9 silently ignores
 * per-message TTLs, so whoever needs expiry builds it from revisions and its own clock.
 */
export interface KvStore {
  get(key: string): Promise<KvEntry | null>;
  /** Writes `key` only if it holds nothing; resolves its revision, or null when it exists. */
  create(key: string, value: Uint8Array): Promise<number | null>;
  /** Writes `key` only if its latest revision is `revision`; resolves the new revision, or null when it moved on. */
  update(key: string, value: Uint8Array, revision: number): Promise<number | null>;
  /** Removes every key (tests, a deployment's teardown). */
  destroy(): Promise<void>;
  /** Releases the connection. Idempotent. */
  close(): Promise<void>;
}

/** Keys are dot-separated tokens of `[A-Za-z0-9_=-]`, as NATS KV allows. */
export function assertKvKey(key: string): void {
  if (!/^[A-Za-z0-9_=-]+(\.[A-Za-z0-9_=-]+)*$/.test(key) || key.length > 256) throw new Error(`invalid kv key '${key}'`);
}
