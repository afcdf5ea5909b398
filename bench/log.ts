/**
 * `npm run bench:log` — transparency-log figures (prints numbers; never fails on time).
 *
 *   1. durable appends/s into a SQLite file (WAL, synchronous = FULL): one append awaited at a
 *      time (a commit each) versus many in flight (group commit), ratio between the two;
 *   2. building a log of 10⁶ entries; inclusion and consistency proof generation from stored
 *      tiles and their verification, against the baseline of recomputing the root from all
 *      10⁶ leaf hashes (what a log without stored tiles would do per proof);
 *   3. tile serving over real HTTP on loopback (@hono/node-server; the load generator runs in
 *      the same process, so the figure is a lower bound): requests/s and MB/s for random full
 *      level-0 tiles and entry bundles.
 *
 * Environment: BENCH_LOG_ENTRIES (default 1000000), BENCH_LOG_SECONDS per HTTP run (default 3).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { rootOfLeafHashes, verifyConsistency, verifyInclusion } from '../src/core/merkle/proofs.ts';
import { formatEntriesPath, formatTilePath, TILE_WIDTH, tileHashes } from '../src/core/merkle/tiles.ts';
import { createLogRoutes } from '../src/http/logRoutes.ts';
import { encodeEntry, participantCommitment } from '../src/log/entry.ts';
import { signerFromSeed } from '../src/log/note.ts';
import { sha256Hasher } from '../src/log/sha256Hasher.ts';
import { TransparencyLog } from '../src/log/transparencyLog.ts';
import { openDatabase } from '../src/storage/sqlite/openDatabase.ts';
import { SqliteLogStore } from '../src/storage/sqlite/sqliteLogStore.ts';

const ENTRIES = Number(process.env.BENCH_LOG_ENTRIES ?? 1_000_000);
const HTTP_SECONDS = Number(process.env.BENCH_LOG_SECONDS ?? 3);
const signer = signerFromSeed('bench.attune/log', new Uint8Array(32).fill(9));
const steward = participantCommitment(new Uint8Array(32).fill(1), 'steward');
const dir = mkdtempSync(join(tmpdir(), 'attune-bench-log-'));

function entry(i: number): Uint8Array {
  return encodeEntry({ v: 1, type: i % 2 === 0 ? 'space.created' : 'space.closed', space: `space-${i.toString(36)}`, time: 1_700_000_000_000 + i, payload: i % 2 === 0 ? { name: 'Team retro', capacity: 100, ttlMs: 120_000, steward } : { reason: 'ttl' } });
}

function stats(samples: number[]): string {
  const s = samples.slice().sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(1)} µs, p50 ${q(0.5).toFixed(1)} µs, p99 ${q(0.99).toFixed(1)} µs (n=${s.length})`;
}

function timeUs(f: () => void): number {
  const t = performance.now();
  f();
  return (performance.now() - t) * 1000;
}

async function timeUsAsync(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) * 1000;
}

const rng = (() => {
  let x = 0x2545f491;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
})();

async function durableAppends(): Promise<void> {
  console.log('\n## 1. Durable appends (SQLite file, WAL, synchronous=FULL)');
  const db = openDatabase(join(dir, 'appends.db'));
  const log = await TransparencyLog.open({ store: new SqliteLogStore(db), signer });
  const seqN = 2000;
  let t = performance.now();
  for (let i = 0; i < seqN; i++) await log.appendRaw(entry(i));
  const seqRate = seqN / ((performance.now() - t) / 1000);
  console.log(`one at a time (a commit per append):   ${seqRate.toFixed(0)} appends/s  (${seqN} appends)`);
  const groupN = 100_000;
  const inFlight = 1000;
  t = performance.now();
  for (let i = 0; i < groupN; i += inFlight) {
    const jobs: Promise<number>[] = [];
    for (let j = 0; j < inFlight; j++) jobs.push(log.appendRaw(entry(seqN + i + j)));
    await Promise.all(jobs);
  }
  const groupRate = groupN / ((performance.now() - t) / 1000);
  console.log(`${inFlight} in flight (group commit):          ${groupRate.toFixed(0)} appends/s  (${groupN} appends)`);
  console.log(`group commit / one at a time:          ×${(groupRate / seqRate).toFixed(1)}`);
  await log.close();
  db.close();
}

async function proofs(): Promise<void> {
  console.log(`\n## 2. A log of ${ENTRIES.toLocaleString('en')} entries: proofs`);
  const dbPath = join(dir, 'million.db');
  const db = openDatabase(dbPath);
  const log = await TransparencyLog.open({ store: new SqliteLogStore(db), signer, maxBatch: 16_384 });
  let t = performance.now();
  const chunk = 16_384;
  for (let i = 0; i < ENTRIES; i += chunk) {
    const jobs: Promise<number>[] = [];
    for (let j = i; j < Math.min(ENTRIES, i + chunk); j++) jobs.push(log.appendRaw(entry(j)));
    await Promise.all(jobs);
  }
  const buildS = (performance.now() - t) / 1000;
  console.log(`built in ${buildS.toFixed(1)} s (${(ENTRIES / buildS).toFixed(0)} durable appends/s in batches of ${chunk}); file ${(statSync(dbPath).size / 1e6).toFixed(0)} MB`);
  t = performance.now();
  const cp = await log.checkpoint();
  console.log(`first checkpoint (root from tiles + Ed25519 signature): ${((performance.now() - t) * 1000).toFixed(0)} µs`);

  // Reopen: rebuilds the right edge from < 256 entries and tiles per level.
  t = performance.now();
  const reopened = await TransparencyLog.open({ store: new SqliteLogStore(db), signer });
  console.log(`reopen (rebuild right edge, check stored checkpoint): ${(performance.now() - t).toFixed(1)} ms`);
  void reopened;

  const size = cp.size;
  const n = 2000;
  const incl: { index: number; proof: Uint8Array[] }[] = [];
  const genIncl: number[] = [];
  for (let k = 0; k < n; k++) {
    const index = rng(size);
    let proof: Uint8Array[] = [];
    genIncl.push(await timeUsAsync(async () => (proof = await log.inclusionProof(index, size))));
    incl.push({ index, proof });
  }
  console.log(`inclusion proof, generate (warm tile cache):  ${stats(genIncl)}`);
  const cold = await TransparencyLog.open({ store: new SqliteLogStore(db), signer, tileCacheSize: 0 });
  const genCold: number[] = [];
  for (let k = 0; k < 500; k++) {
    const index = rng(size);
    genCold.push(await timeUsAsync(() => cold.inclusionProof(index, size)));
  }
  console.log(`inclusion proof, generate (no tile cache):    ${stats(genCold)}`);
  const verIncl: number[] = [];
  for (const { index, proof } of incl) {
    const [data] = await log.readEntries(index, index + 1);
    const leafHash = sha256Hasher.leaf(data as Uint8Array);
    let ok = false;
    verIncl.push(timeUs(() => (ok = verifyInclusion({ index, size, leafHash, proof, root: cp.root }, sha256Hasher).ok)));
    if (!ok) throw new Error('inclusion proof failed to verify');
  }
  console.log(`inclusion proof, verify (${incl[0]?.proof.length} hashes):         ${stats(verIncl)}`);

  const genCons: number[] = [];
  const verCons: number[] = [];
  for (let k = 0; k < 500; k++) {
    const from = 1 + rng(size - 1);
    let proof: Uint8Array[] = [];
    genCons.push(await timeUsAsync(async () => (proof = await log.consistencyProof(from, size))));
    const root1 = await log.root(from);
    let ok = false;
    verCons.push(timeUs(() => (ok = verifyConsistency({ size1: from, size2: size, root1, root2: cp.root, proof }, sha256Hasher).ok)));
    if (!ok) throw new Error('consistency proof failed to verify');
  }
  console.log(`consistency proof, generate:                  ${stats(genCons)}`);
  console.log(`consistency proof, verify:                    ${stats(verCons)}`);

  // Baseline: the root recomputed from every leaf hash (no stored interior hashes).
  const all: Uint8Array[] = [];
  for (let i = 0; (i + 1) * TILE_WIDTH <= size; i++) all.push(...tileHashes((await log.readTile(0, i, TILE_WIDTH)) as Uint8Array));
  const rest = size % TILE_WIDTH;
  if (rest > 0) all.push(...tileHashes((await log.readTile(0, Math.floor(size / TILE_WIDTH), rest)) as Uint8Array));
  let baseRoot: Uint8Array = new Uint8Array(0);
  const baseUs = timeUs(() => (baseRoot = rootOfLeafHashes(all, sha256Hasher)));
  if (Buffer.compare(baseRoot, cp.root) !== 0) throw new Error('baseline root differs');
  const meanGen = genIncl.reduce((a, b) => a + b, 0) / genIncl.length;
  console.log(`baseline: root from all ${size.toLocaleString('en')} leaf hashes: ${(baseUs / 1000).toFixed(0)} ms  → proof from tiles is ×${(baseUs / meanGen).toFixed(0)} faster`);
  await tiles(log, size);
  db.close();
}

async function tiles(log: TransparencyLog, size: number): Promise<void> {
  console.log('\n## 3. Tile serving over HTTP (loopback, @hono/node-server; client in the same process)');
  const app = new Hono();
  app.route('/log', createLogRoutes(log));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((ok) => server.once('listening', () => ok()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log/tile/`;
  const fullTiles = Math.floor(size / TILE_WIDTH);
  const run = async (label: string, path: () => string) => {
    let requests = 0;
    let bytes = 0;
    const end = performance.now() + HTTP_SECONDS * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const r = await fetch(base + path());
        const b = await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        requests++;
        bytes += b.byteLength;
      }
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: 32 }, worker));
    const s = (performance.now() - t) / 1000;
    console.log(`${label.padEnd(46)} ${(requests / s).toFixed(0)} req/s, ${(bytes / s / 1e6).toFixed(1)} MB/s (32 concurrent, ${s.toFixed(1)} s)`);
  };
  await run('random full level-0 tiles (8,192 B)', () => formatTilePath({ level: 0, index: rng(fullTiles), width: TILE_WIDTH }));
  await run('random full entry bundles (256 entries)', () => formatEntriesPath(rng(fullTiles), TILE_WIDTH));
  await run('checkpoint', () => '../checkpoint');
  await new Promise<void>((ok) => server.close(() => ok()));
  // The same routes without sockets (Hono's app.request): the cost of our code alone.
  for (const [label, path] of [
    ['in-process app.request, full level-0 tiles', () => formatTilePath({ level: 0, index: rng(fullTiles), width: TILE_WIDTH })],
    ['in-process app.request, full entry bundles', () => formatEntriesPath(rng(fullTiles), TILE_WIDTH)],
  ] as const) {
    let requests = 0;
    let bytes = 0;
    const t = performance.now();
    const end = t + HTTP_SECONDS * 1000;
    while (performance.now() < end) {
      const r = await app.request(`/log/tile/${path()}`);
      bytes += (await r.arrayBuffer()).byteLength;
      requests++;
    }
    const s = (performance.now() - t) / 1000;
    console.log(`${label.padEnd(46)} ${(requests / s).toFixed(0)} req/s, ${(bytes / s / 1e6).toFixed(1)} MB/s (sequential, ${s.toFixed(1)} s)`);
  }
}

console.log(`attune transparency-log benchmark — Node ${process.version}, ${new Date().toISOString()}`);
try {
  await durableAppends();
  await proofs();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
