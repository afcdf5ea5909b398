/**
 * In-memory LogStore (tests, demos). Same contract as the SQLite store; nothing survives a
 * restart. Stores and returns copies so callers cannot mutate the log through shared buffers.
 */
import { type LogAppendBatch, LogSizeConflict, type LogStore } from '../port.ts';

const TILE_BYTES = 8192;

/** The in-memory transparency-log store. */
export class MemoryLogStore implements LogStore {
  readonly #entries: Uint8Array[] = [];
  readonly #tiles = new Map<string, Uint8Array>();
  readonly #meta = new Map<string, Uint8Array>();

  async append(batch: LogAppendBatch): Promise<void> {
    if (batch.start !== this.#entries.length) {
      throw new LogSizeConflict(batch.start, this.#entries.length);
    }
    for (const t of batch.tiles) {
      if (t.hashes.length !== TILE_BYTES) throw new RangeError(`tile ${t.level}/${t.index} is ${t.hashes.length} bytes, not ${TILE_BYTES}`);
    }
    for (const e of batch.entries) this.#entries.push(e.slice());
    for (const t of batch.tiles) this.#tiles.set(`${t.level}/${t.index}`, t.hashes.slice());
  }

  async size(): Promise<number> {
    return this.#entries.length;
  }

  async readEntries(from: number, to: number): Promise<Uint8Array[]> {
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && 0 <= from && from <= to && to <= this.#entries.length)) {
      throw new RangeError(`entries [${from}, ${to}) are outside the log of ${this.#entries.length}`);
    }
    return this.#entries.slice(from, to).map((e) => e.slice());
  }

  async readTile(level: number, index: number): Promise<Uint8Array | null> {
    return this.#tiles.get(`${level}/${index}`)?.slice() ?? null;
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    this.#meta.set(key, value.slice());
  }

  async getMeta(key: string): Promise<Uint8Array | null> {
    return this.#meta.get(key)?.slice() ?? null;
  }

  /** Test hook: overwrites a stored entry in place, as an attacker with database access could. */
  tamperEntry(index: number, data: Uint8Array): void {
    if (index >= this.#entries.length) throw new RangeError('no such entry');
    this.#entries[index] = data.slice();
  }

  async close(): Promise<void> {}
}
