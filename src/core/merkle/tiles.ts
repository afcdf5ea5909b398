/**
 * Tile maths of C2SP tlog-tiles (https://c2sp.org/tlog-tiles, "Merkle Tree" and "Log entries").
 *
 * A tile at level L, index N holds up to 256 consecutive hashes of tree level 8·L:
 * `MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L])` for i in 0…255. Level 0 holds leaf
 * hashes. A *partial* tile holds the first W (1…255) hashes of the rightmost tile of a level;
 * for a tree of size s the partial tile at level L has `floor(s / 256^L) mod 256` hashes. Paths
 * are `<L>/<N>[.p/<W>]` with N written as 3-digit groups, all but the last prefixed with `x`
 * (1234067 → `x001/x234/067`). Entry bundles (`entries/<N>[.p/<W>]`) are the leaf data of the
 * matching level-0 tile, each entry prefixed with its length as a big-endian uint16.
 */
import type { Hasher } from './hasher.ts';
import { HASH_SIZE } from './hasher.ts';
import type { NodeReader } from './proofs.ts';
import { rootOfLeafHashes } from './proofs.ts';

/** Tree levels per tile. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (2^TILE_HEIGHT). */
export const TILE_WIDTH = 256;
/** The largest entry an entry bundle can carry (uint16 length prefix). */
export const MAX_ENTRY_SIZE = 0xffff;
/** The highest tile level a path may name. */
export const MAX_TILE_LEVEL = 63;

/** One tile (or entry bundle, for which `level` is ignored). `width` is 1…256; 256 is full. */
export interface TileRef {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

/** Number of hashes that tile level `level` holds in a tree of `size` leaves. */
export function hashesAtLevel(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** The width of tile (`level`, `index`) in a tree of `size` leaves: 256 full, 0 absent. */
export function tileWidth(level: number, index: number, size: number): number {
  const count = hashesAtLevel(level, size);
  const start = index * TILE_WIDTH;
  if (count >= start + TILE_WIDTH) return TILE_WIDTH;
  return count > start ? count - start : 0;
}

/** Every tile (full and partial, all levels) that represents the tree of `size` leaves. */
export function tilesForSize(size: number): TileRef[] {
  const tiles: TileRef[] = [];
  for (let level = 0; level <= MAX_TILE_LEVEL; level++) {
    const count = hashesAtLevel(level, size);
    if (count === 0) break;
    const full = Math.floor(count / TILE_WIDTH);
    for (let index = 0; index < full; index++) tiles.push({ level, index, width: TILE_WIDTH });
    if (count % TILE_WIDTH !== 0) tiles.push({ level, index: full, width: count % TILE_WIDTH });
  }
  return tiles;
}

/** Encodes a tile index as tlog-tiles path elements: 1234067 → `x001/x234/067`. */
export function formatTileIndex(index: number): string {
  let digits = String(index);
  while (digits.length % 3 !== 0) digits = `0${digits}`;
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function widthSuffix(width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** The path of a hash tile relative to `<prefix>/tile/`: `<L>/<N>[.p/<W>]`. */
export function formatTilePath(tile: TileRef): string {
  return `${tile.level}/${formatTileIndex(tile.index)}${widthSuffix(tile.width)}`;
}

/** The path of an entry bundle relative to `<prefix>/tile/`: `entries/<N>[.p/<W>]`. */
export function formatEntriesPath(index: number, width: number): string {
  return `entries/${formatTileIndex(index)}${widthSuffix(width)}`;
}

/**
 * Parses `<N>[.p/<W>]` (the part after `<L>/` or `entries/`). Only the canonical spelling is
 * accepted — the one `formatTileIndex` produces — so each tile has exactly one URL.
 */
export function parseTileIndexPath(path: string): { index: number; width: number } | null {
  const m = /^((?:x\d{3}\/)*)(\d{3})(?:\.p\/([1-9]\d{0,2}))?$/.exec(path);
  if (!m) return null;
  const digits = `${(m[1] ?? '').replaceAll('x', '').replaceAll('/', '')}${m[2] ?? ''}`;
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) return null;
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (m[3] !== undefined && width >= TILE_WIDTH) return null;
  if (formatTileIndex(index) + widthSuffix(width) !== path) return null;
  return { index, width };
}

/** Parses a hash tile path `<L>/<N>[.p/<W>]`; null if not canonical. */
export function parseTilePath(path: string): TileRef | null {
  const m = /^(0|[1-9]\d?)\/(.+)$/.exec(path);
  if (!m) return null;
  const level = Number(m[1]);
  if (level > MAX_TILE_LEVEL) return null;
  const rest = parseTileIndexPath(m[2] ?? '');
  return rest === null ? null : { level, ...rest };
}

/** The hashes of a tile's bytes (views, not copies). Throws if the length is not a multiple of 32. */
export function tileHashes(tile: Uint8Array): Uint8Array[] {
  if (tile.length % HASH_SIZE !== 0) throw new RangeError(`tile of ${tile.length} bytes is not a whole number of hashes`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < tile.length; i += HASH_SIZE) out.push(tile.subarray(i, i + HASH_SIZE));
  return out;
}

/** Concatenates hashes into tile bytes. */
export function joinHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => {
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

/** The hash the level above stores for a full tile: the root of its 256 hashes. */
export function tileRoot(tile: Uint8Array, hasher: Hasher): Uint8Array {
  return rootOfLeafHashes(tileHashes(tile), hasher);
}

/** Encodes entries as a tlog-tiles entry bundle (uint16 big-endian length prefixes). */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new RangeError(`entry of ${e.length} bytes exceeds ${MAX_ENTRY_SIZE}`);
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >>> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** Decodes an entry bundle; null if a length prefix runs past the end. */
export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) return null;
    const len = ((bundle[at] ?? 0) << 8) | (bundle[at + 1] ?? 0);
    if (at + 2 + len > bundle.length) return null;
    out.push(bundle.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

/**
 * A `NodeReader` over tiles: a complete subtree at tree level ℓ is rebuilt from the
 * 2^(ℓ mod 8) hashes it spans in one tile at level ⌊ℓ/8⌋. `getTile` returns a tile's bytes (at
 * least as wide as needed) or undefined; a missing tile throws.
 */
export function tileNodeReader(getTile: (level: number, index: number) => Uint8Array | undefined, hasher: Hasher): NodeReader {
  return (level, index) => {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const span = 2 ** (level - tileLevel * TILE_HEIGHT);
    const first = index * span;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const offset = first - tileIndex * TILE_WIDTH;
    const tile = getTile(tileLevel, tileIndex);
    if (tile === undefined || tile.length < (offset + span) * HASH_SIZE) {
      throw new RangeError(`tile ${tileLevel}/${tileIndex} is missing or too narrow for node ${level}/${index}`);
    }
    if (span === 1) return tile.subarray(offset * HASH_SIZE, (offset + 1) * HASH_SIZE);
    return rootOfLeafHashes(tileHashes(tile.subarray(offset * HASH_SIZE, (offset + span) * HASH_SIZE)), hasher);
  };
}

/** The tiles (level, index) that reading the given complete subtrees needs. */
export function tilesForNodes(nodes: readonly { level: number; index: number }[]): { level: number; index: number }[] {
  const seen = new Map<string, { level: number; index: number }>();
  for (const n of nodes) {
    const tileLevel = Math.floor(n.level / TILE_HEIGHT);
    const span = 2 ** (n.level - tileLevel * TILE_HEIGHT);
    const index = Math.floor((n.index * span) / TILE_WIDTH);
    seen.set(`${tileLevel}/${index}`, { level: tileLevel, index });
  }
  return [...seen.values()];
}

/**
 * Every complete subtree inside one tile, precomputed: `levels[k]` holds, contiguously, the
 * hashes of the complete subtrees of 2^k tile hashes (k = 0…8; `levels[0]` is the tile itself).
 * A partial tile of width W gets `floor(W / 2^k)` hashes at level k. With these, reading any
 * node inside the tile is a lookup instead of up to 255 hash operations.
 */
export function tileSubtreeLevels(tile: Uint8Array, hasher: Hasher): Uint8Array[] {
  const levels: Uint8Array[] = [tile];
  let prev = tile;
  for (let k = 1; k <= TILE_HEIGHT; k++) {
    const count = Math.floor(prev.length / HASH_SIZE / 2);
    const row = new Uint8Array(count * HASH_SIZE);
    for (let p = 0; p < count; p++) {
      const l = prev.subarray(2 * p * HASH_SIZE, (2 * p + 1) * HASH_SIZE);
      const r = prev.subarray((2 * p + 1) * HASH_SIZE, (2 * p + 2) * HASH_SIZE);
      row.set(hasher.node(l, r), p * HASH_SIZE);
    }
    levels.push(row);
    prev = row;
  }
  return levels;
}

/** A `NodeReader` over precomputed `tileSubtreeLevels`; a missing tile or node throws. */
export function subtreeNodeReader(getLevels: (level: number, index: number) => readonly Uint8Array[] | undefined): NodeReader {
  return (level, index) => {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const k = level - tileLevel * TILE_HEIGHT;
    const first = index * 2 ** k;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const p = (first - tileIndex * TILE_WIDTH) / 2 ** k;
    const row = getLevels(tileLevel, tileIndex)?.[k];
    if (row === undefined || row.length < (p + 1) * HASH_SIZE) {
      throw new RangeError(`tile ${tileLevel}/${tileIndex} is missing or too narrow for node ${level}/${index}`);
    }
    return row.subarray(p * HASH_SIZE, (p + 1) * HASH_SIZE);
  };
}
