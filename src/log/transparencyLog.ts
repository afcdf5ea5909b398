/**
 * The transparency log service: an append-only RFC 6962 / RFC 9162 Merkle tree over a LogStore,
 * signed C2SP checkpoints, proofs, and C2SP tlog-tiles resources (hash tiles and entry bundles).
 *
 * State kept in memory is only the tree's right edge: at each tile level the hashes of the
 * current partial tile (< 256 each). Full tiles are written to the store with the entries that
 * complete them, in the same atomic batch, so reopening rebuilds the edge from at most 255
 * entries and 255 tiles per level, and a proof or tile in a tree of 10⁶ entries reads three tiles
 * instead of rehashing 10⁶ leaves.
 *
 * Appends are group-committed: every append made while a batch is being written joins the next
 * batch; each append's promise resolves with its index once its batch is durable.
 *
 * Several writers may share one store (the nodes of a cluster over one PostgreSQL, SPEC K9). The
 * store decides: a batch commits only at the store's current size (LS3; PostgreSQL reads it under
 * an advisory lock in the batch's transaction). A writer whose tree is behind gets
 * `LogSizeConflict`, catches up — rebuilds its right edge from the store, after checking that the
 * stored tree at its old size has the root it had (so the log was extended, never rewritten) —
 * and recomputes its batch on top. Reads that depend on the size (checkpoint, proofs, tiles past
 * the known size) catch up first, so every node serves the whole log.
 */
import { AttuneError } from '../core/errors.ts';
import type { Hasher } from '../core/merkle/hasher.ts';
import { consistencyProof, inclusionProof, type NodeReader, nodesRead, rootOfLeafHashes, treeRoot } from '../core/merkle/proofs.ts';
import {
  encodeEntryBundle,
  hashesAtLevel,
  joinHashes,
  MAX_ENTRY_SIZE,
  TILE_WIDTH,
  subtreeNodeReader,
  tileRoot,
  tileSubtreeLevels,
  tilesForNodes,
  tileWidth,
} from '../core/merkle/tiles.ts';
import { formatCheckpoint, parseCheckpoint } from '../core/note/checkpoint.ts';
import { parseNote } from '../core/note/signedNote.ts';
import { encodeBase64 } from '../core/note/base64.ts';
import { LogSizeConflict, type LogStore, type LogTileRecord } from '../storage/port.ts';
import { ENTRY_VERSION, encodeEntry, type LogEntryInput } from './entry.ts';
import { type NoteSigner, signNote } from './note.ts';
import { sha256Hasher } from './sha256Hasher.ts';

function lruGet<V>(map: Map<string, V>, key: string): V | undefined {
  const v = map.get(key);
  if (v !== undefined) {
    map.delete(key);
    map.set(key, v);
  }
  return v;
}

function lruSet<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  map.delete(key);
  if (limit <= 0) return;
  map.set(key, value);
  while (map.size > limit) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

/** Meta key under which the latest signed checkpoint is stored. */
const CHECKPOINT_META = 'checkpoint';

/** How often one batch is recomputed after other writers appended first, before it fails. */
const MAX_CONFLICTS = 16;

/**
 * The right edge of the tree of `size` entries in `store`: per tile level, the hashes of the
 * partial tile (at most 255 entries and 255 tiles per level are read).
 */
async function readEdge(store: LogStore, size: number, hasher: Hasher): Promise<Uint8Array[][]> {
  const edge: Uint8Array[][] = [];
  for (let level = 0; hashesAtLevel(level, size) > 0; level++) {
    const count = hashesAtLevel(level, size);
    const first = count - (count % TILE_WIDTH);
    const row: Uint8Array[] = [];
    if (level === 0) {
      for (const e of await store.readEntries(first, count)) row.push(hasher.leaf(e));
    } else {
      for (let j = first; j < count; j++) {
        const below = await store.readTile(level - 1, j);
        if (below === null) throw new Error(`transparency log store is missing tile ${level - 1}/${j}`);
        row.push(tileRoot(below, hasher));
      }
    }
    edge[level] = row;
  }
  return edge;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Options of `TransparencyLog.open`. */
export interface TransparencyLogOptions {
  readonly store: LogStore;
  /** The key(s) that sign checkpoints; several during a key rotation (see keyFile.ts). */
  readonly signer: NoteSigner | readonly NoteSigner[];
  /** The checkpoint origin line; defaults to the first signer's name. */
  readonly origin?: string;
  /** Clock for entries appended without a time (ms since epoch). */
  readonly now?: () => number;
  /** Largest number of entries per commit (default 4096). */
  readonly maxBatch?: number;
  /** Full tiles kept in memory for proofs and serving (default 2048, i.e. 16 MiB). */
  readonly tileCacheSize?: number;
  /** Defaults to SHA-256. */
  readonly hasher?: Hasher;
}

/** A signed checkpoint. */
export interface SignedCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** The full signed note, as served at `/checkpoint`. */
  readonly note: string;
}

interface Pending {
  readonly data: Uint8Array;
  resolve(index: number): void;
  reject(e: unknown): void;
}

/** The transparency log. Create with `TransparencyLog.open`. */
export class TransparencyLog {
  readonly #store: LogStore;
  readonly #signers: readonly NoteSigner[];
  readonly #origin: string;
  readonly #now: () => number;
  readonly #hasher: Hasher;
  readonly #maxBatch: number;
  readonly #cacheSize: number;
  readonly #tileCache = new Map<string, Uint8Array>();
  /** Precomputed subtrees of full tiles (immutable), for proofs; LRU like the tile cache. */
  readonly #treeCache = new Map<string, Uint8Array[]>();
  /** Precomputed subtrees of the edge tiles, keyed by level/index/width; cleared on growth. */
  #edgeTrees = new Map<string, Uint8Array[]>();
  /** Encoded full entry bundles (immutable). */
  readonly #bundleCache = new Map<string, Uint8Array>();
  #size: number;
  /** Per tile level, the hashes of the current partial tile. */
  #edge: Uint8Array[][];
  #pending: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #checkpoint: SignedCheckpoint | null = null;
  #signing: Promise<SignedCheckpoint> | null = null;
  #closed = false;
  /** Commits and catch-ups run one at a time (both change the size and the edge). */
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(o: TransparencyLogOptions, origin: string, size: number, edge: Uint8Array[][]) {
    this.#store = o.store;
    this.#signers = Array.isArray(o.signer) ? (o.signer as readonly NoteSigner[]) : [o.signer as NoteSigner];
    this.#origin = origin;
    this.#now = o.now ?? Date.now;
    this.#hasher = o.hasher ?? sha256Hasher;
    this.#maxBatch = o.maxBatch ?? 4096;
    this.#cacheSize = o.tileCacheSize ?? 2048;
    this.#size = size;
    this.#edge = edge;
  }

  /**
   * Opens the log over `store`: rebuilds the right edge of the tree and checks it against the
   * last checkpoint the log signed. Throws if the store holds fewer entries than that checkpoint
   * or a different tree at its size (the store was truncated or tampered with).
   */
  static async open(options: TransparencyLogOptions): Promise<TransparencyLog> {
    const signers = Array.isArray(options.signer) ? (options.signer as readonly NoteSigner[]) : [options.signer as NoteSigner];
    if (signers.length === 0) throw new Error('the transparency log needs at least one signing key');
    const origin = options.origin ?? (signers[0] as NoteSigner).name;
    const hasher = options.hasher ?? sha256Hasher;
    const { store } = options;
    const size = await store.size();
    const edge = await readEdge(store, size, hasher);
    const log = new TransparencyLog(options, origin, size, edge);
    await log.#checkStoredCheckpoint();
    return log;
  }

  async #checkStoredCheckpoint(): Promise<void> {
    const stored = await this.#store.getMeta(CHECKPOINT_META);
    if (stored === null) return;
    const note = parseNote(new TextDecoder().decode(stored));
    if ('error' in note) throw new Error(`stored checkpoint is malformed: ${note.error}`);
    const cp = parseCheckpoint(note.text);
    if ('error' in cp) throw new Error(`stored checkpoint is malformed: ${cp.error}`);
    if (cp.origin !== this.#origin) throw new Error(`stored checkpoint is for origin ${cp.origin}, not ${this.#origin}`);
    if (cp.size > this.#size) throw new Error(`the store has ${this.#size} entries but the log already signed a checkpoint of size ${cp.size}`);
    const root = await this.root(cp.size);
    if (encodeBase64(root) !== encodeBase64(cp.root)) {
      throw new Error(`the tree at size ${cp.size} no longer matches the signed checkpoint: the store was modified`);
    }
  }

  /** The origin line of this log's checkpoints. */
  get origin(): string {
    return this.#origin;
  }

  /** The number of durably appended entries this log knows of (see {@link sync}). */
  get size(): number {
    return this.#size;
  }

  /**
   * Catches up with entries other writers of the same store appended (K9) and resolves the size.
   * Rejects, changing nothing, if the store no longer extends the tree this log knew.
   */
  sync(): Promise<number> {
    return this.#exclusive(async () => {
      await this.#catchUp();
      return this.#size;
    });
  }

  #exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(f, f);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Adopts the store's larger tree, once its root at our size is the root we had (append-only). */
  async #catchUp(): Promise<void> {
    const size = await this.#store.size();
    if (size === this.#size) return;
    if (size < this.#size) throw new Error(`the transparency log store holds ${size} entries, fewer than the ${this.#size} this log appended: it was truncated`);
    const before = { size: this.#size, edge: this.#edge, edgeTrees: this.#edgeTrees };
    const oldRoot = before.size > 0 ? await this.root(before.size) : null;
    this.#edge = await readEdge(this.#store, size, this.#hasher);
    this.#size = size;
    this.#edgeTrees = new Map();
    if (oldRoot !== null && !sameBytes(await this.root(before.size), oldRoot)) {
      this.#size = before.size;
      this.#edge = before.edge;
      this.#edgeTrees = before.edgeTrees;
      throw new Error(`the transparency log store no longer holds the tree of ${before.size} entries this log had: it was rewritten`);
    }
  }

  /** The verifier keys of the signing keys (`name+hex8+base64`), primary first. */
  get verifierKeys(): readonly string[] {
    return this.#signers.map((s) => s.verifierKey);
  }

  /**
   * Logs a governance act (canonically encoded, see entry.ts). Resolves with the entry's index
   * once it is durable. Throws AttuneError BAD_REQUEST for an invalid or oversized entry.
   */
  append(input: LogEntryInput): Promise<number> {
    let data: Uint8Array;
    try {
      data = encodeEntry({ v: ENTRY_VERSION, type: input.type, space: input.space, time: input.time ?? this.#now(), payload: input.payload });
    } catch (e) {
      return Promise.reject(new AttuneError('BAD_REQUEST', (e as Error).message));
    }
    return this.appendRaw(data);
  }

  /** Appends raw leaf bytes (at most 65,535). Prefer `append`, which encodes canonically. */
  appendRaw(data: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new AttuneError('UNAVAILABLE', 'the transparency log is closed'));
    if (data.length > MAX_ENTRY_SIZE) return Promise.reject(new AttuneError('TOO_LARGE', `log entries are limited to ${MAX_ENTRY_SIZE} bytes`));
    return new Promise((resolve, reject) => {
      this.#pending.push({ data: data.slice(), resolve, reject });
      if (this.#flushing === null) this.#flushing = this.#drain();
    });
  }

  /** Resolves when every append made so far is durable (or failed). */
  async flush(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  async #drain(): Promise<void> {
    // Let the current turn's appends join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#maxBatch);
        await this.#exclusive(() => this.#commit(batch));
      }
    } finally {
      this.#flushing = null;
    }
  }

  async #commit(batch: readonly Pending[]): Promise<void> {
    for (let conflicts = 0; ; conflicts++) {
      try {
        if (await this.#tryCommit(batch)) return;
      } catch (e) {
        for (const p of batch) p.reject(e);
        return;
      }
      // Another writer appended first: catch up, then compute the batch again on top (K9).
      if (conflicts === MAX_CONFLICTS) {
        const e = new AttuneError('UNAVAILABLE', `the transparency log is too busy: other writers appended first ${MAX_CONFLICTS} times`);
        for (const p of batch) p.reject(e);
        return;
      }
      try {
        await this.#catchUp();
      } catch (e) {
        for (const p of batch) p.reject(e);
        return;
      }
    }
  }

  /** One attempt: false when the store's size moved on (LogSizeConflict), after which nothing changed. */
  async #tryCommit(batch: readonly Pending[]): Promise<boolean> {
    const start = this.#size;
    const edge = this.#edge.map((row) => row.slice());
    const tiles: LogTileRecord[] = [];
    let size = start;
    for (const p of batch) {
      size++;
      let hash = this.#hasher.leaf(p.data);
      for (let level = 0; ; level++) {
        const row = edge[level] ?? [];
        edge[level] = row;
        row.push(hash);
        if (row.length < TILE_WIDTH) break;
        const index = hashesAtLevel(level, size) / TILE_WIDTH - 1;
        tiles.push({ level, index, hashes: joinHashes(row) });
        hash = rootOfLeafHashes(row, this.#hasher);
        edge[level] = [];
      }
    }
    try {
      await this.#store.append({ start, entries: batch.map((p) => p.data), tiles });
    } catch (e) {
      if (e instanceof LogSizeConflict) return false;
      throw e;
    }
    for (const t of tiles) lruSet(this.#tileCache, `${t.level}/${t.index}`, t.hashes, this.#cacheSize);
    this.#size = size;
    this.#edge = edge;
    this.#edgeTrees = new Map();
    batch.forEach((p, i) => {
      p.resolve(start + i);
    });
    return true;
  }

  /** The bytes of tile (level, index) as currently known: full from the store, or the edge. */
  async #tileBytes(level: number, index: number): Promise<Uint8Array | null> {
    const width = tileWidth(level, index, this.#size);
    if (width === 0) return null;
    if (width < TILE_WIDTH) return joinHashes(this.#edge[level] ?? []);
    const key = `${level}/${index}`;
    const cached = lruGet(this.#tileCache, key);
    if (cached !== undefined) return cached;
    const stored = await this.#store.readTile(level, index);
    if (stored === null) throw new Error(`transparency log store is missing full tile ${key}`);
    lruSet(this.#tileCache, key, stored, this.#cacheSize);
    return stored;
  }

  /** The precomputed subtrees of tile (level, index) at the current size. */
  async #tileTree(level: number, index: number): Promise<Uint8Array[] | null> {
    const width = tileWidth(level, index, this.#size);
    if (width === 0) return null;
    const full = width === TILE_WIDTH;
    const key = full ? `${level}/${index}` : `${level}/${index}/${width}`;
    const cache = full ? this.#treeCache : this.#edgeTrees;
    const cached = full ? lruGet(cache, key) : cache.get(key);
    if (cached !== undefined) return cached;
    const bytes = await this.#tileBytes(level, index);
    if (bytes === null) return null;
    const tree = tileSubtreeLevels(bytes, this.#hasher);
    if (full) lruSet(cache, key, tree, this.#cacheSize);
    else if (tileWidth(level, index, this.#size) === width) cache.set(key, tree);
    return tree;
  }

  /** A NodeReader holding exactly the tiles that `compute` needs. */
  async #readerFor(compute: (read: NodeReader, hasher: Hasher) => unknown): Promise<NodeReader> {
    const trees = new Map<string, Uint8Array[]>();
    for (const t of tilesForNodes(nodesRead(compute))) {
      const tree = await this.#tileTree(t.level, t.index);
      if (tree !== null) trees.set(`${t.level}/${t.index}`, tree);
    }
    return subtreeNodeReader((level, index) => trees.get(`${level}/${index}`));
  }

  #checkSize(size: number, what: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#size) {
      throw new RangeError(`${what} ${size} is outside the log of ${this.#size} entries`);
    }
  }

  /** The root hash of the tree of `size` entries (default: all). */
  async root(size: number = this.#size): Promise<Uint8Array> {
    this.#checkSize(size, 'size');
    const read = await this.#readerFor((r, h) => treeRoot(size, r, h));
    return treeRoot(size, read, this.#hasher);
  }

  /** The inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3.1). */
  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    this.#checkSize(size, 'size');
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`index ${index} is not below size ${size}`);
    const read = await this.#readerFor((r, h) => inclusionProof(index, size, r, h));
    return inclusionProof(index, size, read, this.#hasher);
  }

  /** The consistency proof from size `from` to size `to` (RFC 9162 §2.1.4.1); needs 0 < from ≤ to. */
  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    this.#checkSize(to, 'size');
    if (!Number.isSafeInteger(from) || from < 1 || from > to) throw new RangeError(`no consistency proof from ${from} to ${to}`);
    const read = await this.#readerFor((r, h) => consistencyProof(from, to, r, h));
    return consistencyProof(from, to, read, this.#hasher);
  }

  /**
   * The latest checkpoint, signed by every key. Cached; re-signed (and stored) when the log
   * has grown since the last one.
   */
  async checkpoint(): Promise<SignedCheckpoint> {
    await this.sync();
    if (this.#checkpoint !== null && this.#checkpoint.size === this.#size) return this.#checkpoint;
    // Concurrent callers share one signature; under a steady stream of appends it may be a few
    // entries behind by the time it resolves, which any checkpoint is.
    if (this.#signing === null) {
      this.#signing = this.#sign().finally(() => {
        this.#signing = null;
      });
    }
    return this.#signing;
  }

  async #sign(): Promise<SignedCheckpoint> {
    const size = this.#size;
    const root = await this.root(size);
    const note = signNote(formatCheckpoint({ origin: this.#origin, size, root, extensions: [] }), this.#signers);
    await this.#store.putMeta(CHECKPOINT_META, new TextEncoder().encode(note));
    const cp: SignedCheckpoint = { origin: this.#origin, size, root, note };
    if (this.#checkpoint === null || this.#checkpoint.size <= size) this.#checkpoint = cp;
    return cp;
  }

  /**
   * The bytes of hash tile `level`/`index` at `width` (1…256; 256 = full), or null if the tree
   * does not (yet) have that many hashes there. A partial tile is a prefix of the tile, so any
   * width up to the current one is served, including from a tile that has since become full.
   */
  async readTile(level: number, index: number, width: number): Promise<Uint8Array | null> {
    if (width < 1 || width > TILE_WIDTH) return null;
    if (tileWidth(level, index, this.#size) < width) await this.sync();
    if (tileWidth(level, index, this.#size) < width) return null;
    const bytes = await this.#tileBytes(level, index);
    if (bytes === null) return null;
    return width === TILE_WIDTH ? bytes : bytes.subarray(0, width * 32);
  }

  /** The entry bundle `index` at `width` (same rules as `readTile` at level 0). */
  async readEntryBundle(index: number, width: number): Promise<Uint8Array | null> {
    if (width < 1 || width > TILE_WIDTH) return null;
    if (tileWidth(0, index, this.#size) < width) await this.sync();
    if (tileWidth(0, index, this.#size) < width) return null;
    const key = String(index);
    const cached = width === TILE_WIDTH ? lruGet(this.#bundleCache, key) : undefined;
    if (cached !== undefined) return cached;
    const bundle = encodeEntryBundle(await this.#store.readEntries(index * TILE_WIDTH, index * TILE_WIDTH + width));
    if (width === TILE_WIDTH) lruSet(this.#bundleCache, key, bundle, Math.max(1, Math.floor(this.#cacheSize / 8)));
    return bundle;
  }

  /** Raw entries [start, end); end is clipped to the size. */
  async readEntries(start: number, end: number): Promise<Uint8Array[]> {
    if (end > this.#size) await this.sync();
    const to = Math.min(end, this.#size);
    if (!Number.isSafeInteger(start) || start < 0 || start > to) return [];
    return this.#store.readEntries(start, to);
  }

  /** The RFC 6962 leaf hash of entry data. */
  leafHash(data: Uint8Array): Uint8Array {
    return this.#hasher.leaf(data);
  }

  /** Waits for pending appends and stops accepting new ones. Does not close the store (its owner does). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }
}
