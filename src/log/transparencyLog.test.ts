import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion, rootOfLeafHashes } from '../core/merkle/proofs.ts';
import { decodeEntryBundle, tileHashes, tilesForSize } from '../core/merkle/tiles.ts';
import { encodeHex } from '../core/note/base64.ts';
import { parseCheckpoint } from '../core/note/checkpoint.ts';
import { openNote } from '../core/note/signedNote.ts';
import type { LogStore } from '../storage/port.ts';
import { MemoryLogStore } from '../storage/memory/memoryLogStore.ts';
import { openDatabase } from '../storage/sqlite/openDatabase.ts';
import { SqliteLogStore } from '../storage/sqlite/sqliteLogStore.ts';
import { participantCommitment } from './entry.ts';
import { loadLogKeys, loadOrCreateLogKeys, retireLogKey, rotateLogKey } from './keyFile.ts';
import { parseNoteVerifier, signerFromSeed } from './note.ts';
import { sha256Hasher } from './sha256Hasher.ts';
import { TransparencyLog } from './transparencyLog.ts';

const signer = signerFromSeed('test.example/log', new Uint8Array(32).fill(7));
const leaf = (i: number) => new TextEncoder().encode(`entry ${i}`);

async function logOf<S extends LogStore>(n: number, store: S) {
  const log = await TransparencyLog.open({ store, signer });
  await Promise.all(Array.from({ length: n }, (_, i) => log.appendRaw(leaf(i))));
  return { log, store };
}

const hashesOf = (n: number) => Array.from({ length: n }, (_, i) => sha256Hasher.leaf(leaf(i)));

describe('[L2] TransparencyLog tree', () => {
  it('appends in order, group-committing concurrent appends, and resolves with indexes', async () => {
    const log = await TransparencyLog.open({ store: new MemoryLogStore(), signer });
    const idx = await Promise.all([log.appendRaw(leaf(0)), log.appendRaw(leaf(1)), log.appendRaw(leaf(2))]);
    expect(idx).toEqual([0, 1, 2]);
    expect(await log.appendRaw(leaf(3))).toBe(3);
    expect(log.size).toBe(4);
  });

  it('computes the same root as hashing all leaves, across tile boundaries', async () => {
    const { log } = await logOf(600, new MemoryLogStore());
    const all = hashesOf(600);
    for (const n of [0, 1, 2, 255, 256, 257, 511, 512, 513, 600]) {
      expect(encodeHex(await log.root(n))).toBe(encodeHex(rootOfLeafHashes(all.slice(0, n), sha256Hasher)));
    }
  });

  it('serves tiles and bundles whose bytes match the tree (full, partial, level 1)', async () => {
    const { log } = await logOf(256 * 3 + 5, new MemoryLogStore());
    const all = hashesOf(256 * 3 + 5);
    const t0 = await log.readTile(0, 1, 256);
    expect(tileHashes(t0 as Uint8Array).map(encodeHex)).toEqual(all.slice(256, 512).map(encodeHex));
    const p0 = await log.readTile(0, 3, 5);
    expect(tileHashes(p0 as Uint8Array).map(encodeHex)).toEqual(all.slice(768).map(encodeHex));
    expect(await log.readTile(0, 3, 6)).toBeNull();
    expect(await log.readTile(0, 4, 1)).toBeNull();
    const t1 = await log.readTile(1, 0, 3);
    expect(tileHashes(t1 as Uint8Array).map(encodeHex)).toEqual([0, 1, 2].map((k) => encodeHex(rootOfLeafHashes(all.slice(k * 256, (k + 1) * 256), sha256Hasher))));
    // A partial width of a tile that is now full is its prefix.
    expect(await log.readTile(0, 0, 10)).toEqual((await log.readTile(0, 0, 256))?.subarray(0, 320));
    const bundle = decodeEntryBundle((await log.readEntryBundle(3, 5)) as Uint8Array);
    expect(bundle?.map((e) => new TextDecoder().decode(e))).toEqual([768, 769, 770, 771, 772].map((i) => `entry ${i}`));
    expect(tilesForSize(log.size).map((t) => `${t.level}/${t.index}/${t.width}`)).toEqual(['0/0/256', '0/1/256', '0/2/256', '0/3/5', '1/0/3']);
  });

  it('signs checkpoints that verify and re-signs them when the log grows', async () => {
    const { log } = await logOf(10, new MemoryLogStore());
    const cp = await log.checkpoint();
    expect(await log.checkpoint()).toBe(cp);
    const opened = await openNote(cp.note, [parseNoteVerifier(signer.verifierKey)]);
    expect(opened.ok).toBe(true);
    const parsed = parseCheckpoint(opened.ok ? opened.text : '');
    expect(parsed).toMatchObject({ origin: 'test.example/log', size: 10 });
    await log.appendRaw(leaf(10));
    expect((await log.checkpoint()).size).toBe(11);
  });

  it('rebuilds the same tree on reopen and refuses a store modified under a signed checkpoint', async () => {
    const store = new MemoryLogStore();
    const { log } = await logOf(700, store);
    const cp = await log.checkpoint();
    const again = await TransparencyLog.open({ store, signer });
    expect(encodeHex(await again.root())).toBe(encodeHex(cp.root));
    store.tamperEntry(699, leaf(1));
    await expect(TransparencyLog.open({ store, signer })).rejects.toThrow(/no longer matches/);
  });

  it('persists through SQLite with the tables prefixed log_', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'attune-log-')), 'log.db');
    const db = openDatabase(path);
    const { log } = await logOf(300, new SqliteLogStore(db));
    const root = encodeHex((await log.checkpoint()).root);
    db.close();
    const db2 = openDatabase(path);
    const tables = (db2.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables.filter((t) => t.startsWith('log_')).sort()).toEqual(['log_entries', 'log_meta', 'log_tiles']);
    const reopened = await TransparencyLog.open({ store: new SqliteLogStore(db2), signer });
    expect(encodeHex(await reopened.root())).toBe(root);
    db2.close();
  });

  it('logs typed entries canonically and rejects what must not be logged', async () => {
    const log = await TransparencyLog.open({ store: new MemoryLogStore(), signer, now: () => 42 });
    const steward = participantCommitment(new Uint8Array(32), 'x');
    expect(await log.append({ type: 'space.created', space: 's1', payload: { name: 'n', capacity: 2, ttlMs: 1, steward } })).toBe(0);
    const [bytes] = await log.readEntries(0, 1);
    expect(new TextDecoder().decode(bytes)).toBe(`{"payload":{"capacity":2,"name":"n","steward":"${steward}","ttlMs":1},"space":"s1","time":42,"type":"space.created","v":1}`);
    await expect(log.append({ type: 'space.created', space: 's1', payload: { name: 'n', capacity: 2, ttlMs: 1, valence: 0.4 } })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(log.appendRaw(new Uint8Array(70_000))).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });
});

describe('[L3] proofs from stored tiles (properties)', () => {
  it('inclusion and consistency proofs verify for random sizes; any bit flip fails', async () => {
    const N = 1100;
    const { log } = await logOf(N, new MemoryLogStore());
    const all = hashesOf(N);
    const roots = new Map<number, Uint8Array>();
    const rootAt = async (n: number): Promise<Uint8Array> => {
      const known = roots.get(n);
      if (known !== undefined) return known;
      const r = await log.root(n);
      roots.set(n, r);
      return r;
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.nat(), fc.nat(), fc.nat(), async (size, i, m, flip) => {
        const index = i % size;
        const root = await rootAt(size);
        const proof = await log.inclusionProof(index, size);
        expect(verifyInclusion({ index, size, leafHash: all[index] as Uint8Array, proof, root }, sha256Hasher).ok).toBe(true);
        const size1 = 1 + (m % size);
        const cproof = await log.consistencyProof(size1, size);
        const root1 = await rootAt(size1);
        expect(verifyConsistency({ size1, size2: size, root1, root2: root, proof: cproof }, sha256Hasher).ok).toBe(true);
        if (proof.length > 0) {
          const bad = proof.map((p) => p.slice());
          const bit = flip % (bad.length * 256);
          const target = bad[Math.floor(bit / 256)] as Uint8Array;
          const byte = Math.floor((bit % 256) / 8);
          target[byte] = (target[byte] ?? 0) ^ (1 << (bit % 8));
          expect(verifyInclusion({ index, size, leafHash: all[index] as Uint8Array, proof: bad, root }, sha256Hasher).ok).toBe(false);
        }
        if (cproof.length > 0) {
          const bad = cproof.map((p) => p.slice());
          const bit = flip % (bad.length * 256);
          const target = bad[Math.floor(bit / 256)] as Uint8Array;
          const byte = Math.floor((bit % 256) / 8);
          target[byte] = (target[byte] ?? 0) ^ (1 << (bit % 8));
          expect(verifyConsistency({ size1, size2: size, root1, root2: root, proof: bad }, sha256Hasher).ok).toBe(false);
        }
      }),
      { numRuns: 300, seed: 6962 },
    );
  });
});

describe('[L8] signing key file', () => {
  it('is created on first start with mode 0600 and reloads the same key', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'attune-key-')), 'data', 'log-key');
    const first = loadOrCreateLogKeys({ path, origin: 'attune.test/log' });
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const second = loadOrCreateLogKeys({ path, origin: 'ignored' });
    expect(second.created).toBe(false);
    expect(second.signers[0]?.verifierKey).toBe(first.signers[0]?.verifierKey);
    expect(first.signers[0]?.verifierKey).toMatch(/^attune\.test\/log\+[0-9a-f]{8}\+/);
  });
  it('refuses a key file readable by others', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'attune-key-')), 'log-key');
    loadOrCreateLogKeys({ path });
    chmodSync(path, 0o644);
    expect(() => loadLogKeys(path)).toThrow(/chmod 600/);
  });
  it('rotates: the new key signs alongside the old, then the old is retired', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'attune-key-')), 'log-key');
    const old = loadOrCreateLogKeys({ path, origin: 'rot.test/log' }).signers[0];
    const added = rotateLogKey(path);
    const both = loadLogKeys(path);
    expect(both.map((s) => s.verifierKey)).toEqual([added.verifierKey, old?.verifierKey]);
    const log = await TransparencyLog.open({ store: new MemoryLogStore(), signer: both });
    await log.appendRaw(leaf(0));
    const note = (await log.checkpoint()).note;
    expect((await openNote(note, [parseNoteVerifier(old?.verifierKey as string)])).ok).toBe(true);
    expect((await openNote(note, [parseNoteVerifier(added.verifierKey)])).ok).toBe(true);
    retireLogKey(path, encodeHex(old?.keyId as Uint8Array));
    expect(loadLogKeys(path).map((s) => s.verifierKey)).toEqual([added.verifierKey]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
