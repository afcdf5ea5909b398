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
