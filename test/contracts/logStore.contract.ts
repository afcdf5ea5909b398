/**
 * The LogStore contract (rules LS1–LS8, docs/transparency-log.md §Storage), run against every
 * adapter by logStore.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogSizeConflict, type LogStore } from '../../src/storage/port.ts';

/** A factory for a fresh, empty store, and how to reopen it (null when it does not persist). */
export interface LogStoreHarness {
  readonly name: string;
  create(): Promise<LogStore>;
  reopen: (() => Promise<LogStore>) | null;
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const tile = (fill: number) => new Uint8Array(8192).fill(fill);

/** Registers the contract tests for one adapter. */
export function logStoreContract(h: LogStoreHarness): void {
  describe(`LogStore contract: ${h.name}`, () => {
    let s: LogStore;
    beforeEach(async () => {
      s = await h.create();
    });
    afterEach(async () => {
      await s.close();
    });

    it('[LS1] a new store is empty', async () => {
      expect(await s.size()).toBe(0);
      expect(await s.readEntries(0, 0)).toEqual([]);
      expect(await s.readTile(0, 0)).toBeNull();
      expect(await s.getMeta('checkpoint')).toBeNull();
    });

    it('[LS2] appended entries read back byte for byte, in order, including empty ones', async () => {
      await s.append({ start: 0, entries: [bytes(1), bytes(), bytes(2, 3)], tiles: [] });
      await s.append({ start: 3, entries: [bytes(4)], tiles: [] });
      expect(await s.size()).toBe(4);
      expect(await s.readEntries(0, 4)).toEqual([bytes(1), bytes(), bytes(2, 3), bytes(4)]);
      expect(await s.readEntries(1, 3)).toEqual([bytes(), bytes(2, 3)]);
    });

    it('[LS3] an append that does not start at the current size is rejected (LogSizeConflict, with the size) and stores nothing', async () => {
      await s.append({ start: 0, entries: [bytes(1)], tiles: [] });
      await expect(s.append({ start: 0, entries: [bytes(9)], tiles: [] })).rejects.toThrow(LogSizeConflict);
      await expect(s.append({ start: 2, entries: [bytes(9)], tiles: [] })).rejects.toMatchObject({ name: 'LogSizeConflict', size: 1 });
      expect(await s.size()).toBe(1);
      expect(await s.readEntries(0, 1)).toEqual([bytes(1)]);
    });

    it('[LS4] full tiles are stored with their batch and read back; absent tiles are null', async () => {
      await s.append({ start: 0, entries: [bytes(1)], tiles: [{ level: 0, index: 0, hashes: tile(7) }, { level: 1, index: 3, hashes: tile(8) }] });
      expect(await s.readTile(0, 0)).toEqual(tile(7));
      expect(await s.readTile(1, 3)).toEqual(tile(8));
      expect(await s.readTile(0, 1)).toBeNull();
      expect(await s.readTile(1, 0)).toBeNull();
    });

    it('[LS5] a batch is atomic: a bad tile rejects the whole batch', async () => {
      await expect(s.append({ start: 0, entries: [bytes(1)], tiles: [{ level: 0, index: 0, hashes: new Uint8Array(31) }] })).rejects.toThrow();
      expect(await s.size()).toBe(0);
      expect(await s.readTile(0, 0)).toBeNull();
    });

    it('[LS6] reads outside [0, size] are rejected', async () => {
      await s.append({ start: 0, entries: [bytes(1)], tiles: [] });
      await expect(s.readEntries(0, 2)).rejects.toThrow(RangeError);
      await expect(s.readEntries(1, 0)).rejects.toThrow(RangeError);
      await expect(s.readEntries(-1, 1)).rejects.toThrow(RangeError);
    });

    it('[LS7] meta values are stored, overwritten and read back', async () => {
      await s.putMeta('checkpoint', bytes(1, 2));
      await s.putMeta('checkpoint', bytes(3));
      expect(await s.getMeta('checkpoint')).toEqual(bytes(3));
      expect(await s.getMeta('other')).toBeNull();
    });

    it('[LS8] stored bytes cannot be changed through buffers passed in or returned', async () => {
      const e = bytes(1, 2);
      await s.append({ start: 0, entries: [e], tiles: [{ level: 0, index: 0, hashes: tile(1) }] });
      e[0] = 9;
      const [back] = await s.readEntries(0, 1);
      (back as Uint8Array)[1] = 9;
      expect(await s.readEntries(0, 1)).toEqual([bytes(1, 2)]);
      const t = (await s.readTile(0, 0)) as Uint8Array;
      t[0] = 0;
      expect(await s.readTile(0, 0)).toEqual(tile(1));
    });

    it.runIf(h.reopen !== null)('[LS9] entries, tiles and meta survive a reopen', async () => {
      await s.append({ start: 0, entries: [bytes(1), bytes(2)], tiles: [{ level: 0, index: 0, hashes: tile(5) }] });
      await s.putMeta('checkpoint', bytes(6));
      await s.close();
      s = await (h.reopen as () => Promise<LogStore>)();
      expect(await s.size()).toBe(2);
      expect(await s.readEntries(0, 2)).toEqual([bytes(1), bytes(2)]);
      expect(await s.readTile(0, 0)).toEqual(tile(5));
      expect(await s.getMeta('checkpoint')).toEqual(bytes(6));
    });
  });
}
