/**
 * The in-process {@link KvStore}: compare-and-set on a Map, with one revision counter for the
 * whole store (as a NATS KV bucket's stream sequence). Same contract as `NatsKv`.
 */
import { assertKvKey, type KvEntry, type KvStore } from '../port.ts';

/** A KvStore within one process (tests, a single-process cluster). */
export class MemoryKv implements KvStore {
  private readonly entries = new Map<string, KvEntry>();
  private revision = 0;
  private closed = false;

  private check(key: string): void {
    if (this.closed) throw new Error('kv is closed');
    assertKvKey(key);
  }

  async get(key: string): Promise<KvEntry | null> {
    this.check(key);
    return this.entries.get(key) ?? null;
  }

  async create(key: string, value: Uint8Array): Promise<number | null> {
    this.check(key);
    if (this.entries.has(key)) return null;
    const revision = ++this.revision;
    this.entries.set(key, { value: value.slice(), revision });
    return revision;
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number | null> {
    this.check(key);
    if (this.entries.get(key)?.revision !== revision) return null;
    const next = ++this.revision;
    this.entries.set(key, { value: value.slice(), revision: next });
    return next;
  }

  async destroy(): Promise<void> {
    this.entries.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
