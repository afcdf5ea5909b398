import { describe, expect, it } from 'vitest';
import { decodeEntryBundle, encodeEntryBundle, formatEntriesPath, formatTilePath, parseTileIndexPath, parseTilePath, tilesForSize, tileWidth } from './tiles.ts';

describe('[L9] tlog-tiles paths and widths', () => {
  it('encodes indexes in 3-digit groups with x prefixes', () => {
    expect(formatTilePath({ level: 0, index: 1234067, width: 256 })).toBe('0/x001/x234/067');
    expect(formatTilePath({ level: 1, index: 0, width: 17 })).toBe('1/000.p/17');
    expect(formatEntriesPath(1000, 256)).toBe('entries/x001/000');
  });
  it('parses only canonical paths', () => {
    expect(parseTilePath('0/x001/x234/067')).toEqual({ level: 0, index: 1234067, width: 256 });
    expect(parseTilePath('2/000.p/1')).toEqual({ level: 2, index: 0, width: 1 });
    expect(parseTileIndexPath('x001/000.p/255')).toEqual({ index: 1000, width: 255 });
    for (const bad of ['00/000', '0/0', '0/x000/001', '0/001.p/0', '0/001.p/256', '0/001.p/05', '64/000', '0/001/x002', '0/1234', '-1/000']) {
      expect(parseTilePath(bad), bad).toBeNull();
    }
  });
  it('gives the spec example: size 70,000', () => {
    const tiles = tilesForSize(70_000);
    expect(tiles.filter((t) => t.level === 0 && t.width === 256)).toHaveLength(273);
    expect(tiles.filter((t) => t.width < 256).map((t) => [t.level, t.index, t.width])).toEqual([[0, 273, 112], [1, 1, 17], [2, 0, 1]]);
    expect(tilesForSize(256).map((t) => [t.level, t.index, t.width])).toEqual([[0, 0, 256], [1, 0, 1]]);
    expect(tileWidth(0, 1, 300)).toBe(44);
    expect(tileWidth(0, 2, 300)).toBe(0);
  });
  it('encodes entry bundles with big-endian uint16 lengths', () => {
    const b = encodeEntryBundle([Uint8Array.of(7), new Uint8Array(0), new Uint8Array(258).fill(1)]);
    expect([...b.subarray(0, 5)]).toEqual([0, 1, 7, 0, 0]);
    expect([...b.subarray(5, 7)]).toEqual([1, 2]);
    expect(decodeEntryBundle(b)?.map((e) => e.length)).toEqual([1, 0, 258]);
    expect(decodeEntryBundle(Uint8Array.of(0, 5, 1))).toBeNull();
    expect(() => encodeEntryBundle([new Uint8Array(65_536)])).toThrow(RangeError);
  });
});
