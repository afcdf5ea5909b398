/**
 * One public log, several writers (SPEC K9): the nodes of a cluster each run a TransparencyLog
 * over the same store. Appends made concurrently by every node land once each, in one
 * consistent Merkle tree, which any node serves whole and `attune audit` verifies — through a
 * "balancer" that sends each request to the next node. Runs over the in-memory store and over
 * the machine's real PostgreSQL (each node its own connection pool, as separate processes have).
 */
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as audit } from '../../src/cli/commands/audit.ts';
import { rootOfLeafHashes } from '../../src/core/merkle/proofs.ts';
import { createLogRoutes } from '../../src/http/logRoutes.ts';
import { decodeEntry } from '../../src/log/entry.ts';
import { signerFromSeed } from '../../src/log/note.ts';
import { sha256Hasher } from '../../src/log/sha256Hasher.ts';
import { TransparencyLog } from '../../src/log/transparencyLog.ts';
import { MemoryLogStore } from '../../src/storage/memory/memoryLogStore.ts';
import type { LogStore } from '../../src/storage/port.ts';
import { PostgresLogStore } from '../../src/storage/postgres/postgresLogStore.ts';
import { captureIO } from '../support/captureIO.ts';
import { TEST_PG, testSchemas } from '../support/postgres.ts';

const ORIGIN = 'sharedlog.test/log';
const key = signerFromSeed(ORIGIN, new Uint8Array(32).fill(21));
const schemas = testSchemas();
afterAll(() => schemas.dropAll());

let server: ServerType;
let baseUrl = '';
/** The "balancer": request i goes to node i mod N. */
let nodes: Hono[] = [];
let turn = 0;
beforeAll(async () => {
  const outer = new Hono();
  outer.all('*', (c) => (nodes[turn++ % nodes.length] as Hono).fetch(c.req.raw));
  await new Promise<void>((ok) => {
    server = serve({ fetch: outer.fetch, port: 0, hostname: '127.0.0.1' }, () => ok());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

async function runAudit() {
  const c = captureIO();
  const statePath = join(mkdtempSync(join(tmpdir(), 'attune-sharedlog-')), 'state.json');
  const code = await audit.run([baseUrl, '--key', key.verifierKey, '--state', statePath], c.io);
  return { code, out: c.out(), err: c.err() };
}

/** Every node appends `perNode` acts at once, in bursts, so batches interleave across nodes and tiles. */
async function appendEverywhere(logs: readonly TransparencyLog[], perNode: number): Promise<number[]> {
  const jobs: Promise<number>[] = [];
  for (let round = 0; round < perNode; round += 7) {
    for (const [i, log] of logs.entries()) {
      for (let k = round; k < Math.min(perNode, round + 7); k++) jobs.push(log.append({ type: 'space.closed', space: `node-${i}`, payload: { n: k } }));
    }
    // Let some of them commit before the next burst, so each node is behind the others in turn.
    await new Promise<void>((r) => setImmediate(r));
  }
  return Promise.all(jobs);
}

async function checkOneLog(logs: readonly TransparencyLog[], stores: readonly LogStore[], total: number, perNode: number): Promise<void> {
  const store = stores[0] as LogStore;
  expect(await store.size()).toBe(total);
  const entries = await store.readEntries(0, total);
  // Each act is in the log exactly once.
  const seen = new Set<string>();
  for (const e of entries) {
    const d = decodeEntry(e);
    if (!d.ok) throw new Error('undecodable entry');
    const id = `${d.value.space}:${(d.value.payload as { n: number }).n}`;
    expect(seen.has(id)).toBe(false);
    seen.add(id);
  }
  expect(seen.size).toBe(logs.length * perNode);
  // Every node serves the whole tree, with the root of the stored leaves.
  const root = rootOfLeafHashes(entries.map((e) => sha256Hasher.leaf(e)), sha256Hasher);
  for (const log of logs) {
    const cp = await log.checkpoint();
    expect(cp.size).toBe(total);
    expect(Buffer.from(cp.root).equals(Buffer.from(root))).toBe(true);
  }
  // A node opening the store afresh (a restart) rebuilds the same tree and checks the stored checkpoint.
  const reopened = await TransparencyLog.open({ store, signer: key });
  expect(Buffer.from(await reopened.root()).equals(Buffer.from(root))).toBe(true);
}

describe('[K9] one transparency log written by several nodes', () => {
  it('memory store: three writers append concurrently; every act lands once, in one tree that audits through any node', async () => {
    const store = new MemoryLogStore();
    const logs = await Promise.all([0, 1, 2].map(() => TransparencyLog.open({ store, signer: key, now: () => 1_700_000_000_000 })));
    const perNode = 200;
    const indexes = await appendEverywhere(logs, perNode);
    // 600 entries: two full tiles and a partial one, completed by whichever node got there.
    expect([...indexes].sort((a, b) => a - b)).toEqual(Array.from({ length: 3 * perNode }, (_, i) => i));
    await checkOneLog(logs, [store], 3 * perNode, perNode);
    nodes = logs.map((log) => new Hono().route('/log', createLogRoutes(log)));
    // A node that appended nothing since still serves everything.
    await (logs[0] as TransparencyLog).append({ type: 'space.closed', space: 'late', payload: {} });
    const r = await runAudit();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`size ${3 * perNode + 1} (first audit)`);
  });

  it('a writer refuses to append over a store that no longer holds the tree it had', async () => {
    const store = new MemoryLogStore();
    const a = await TransparencyLog.open({ store, signer: key });
    const b = await TransparencyLog.open({ store, signer: key });
    await a.appendRaw(new TextEncoder().encode('one'));
    await b.appendRaw(new TextEncoder().encode('two'));
    // Entry 0 is rewritten behind a's back; b appended meanwhile, so a must catch up and sees it.
    store.tamperEntry(0, new TextEncoder().encode('forged'));
    await expect(a.appendRaw(new TextEncoder().encode('three'))).rejects.toThrow(/rewritten/);
    expect(await store.size()).toBe(2);
    expect(a.size).toBe(1);
  });

  it('PostgreSQL: three nodes, each with its own pool, append 3 × 150 acts concurrently; one consistent log that attune audit verifies', async () => {
    const schema = await schemas.fresh('attune_sharedlog');
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: TEST_PG, max: 2, options: `-c search_path=${schema}` }));
    try {
      const stores = await Promise.all(pools.map((pool) => PostgresLogStore.open(pool)));
      const logs = await Promise.all(stores.map((store) => TransparencyLog.open({ store, signer: key, now: () => 1_700_000_000_000 })));
      const perNode = 150;
      const indexes = await appendEverywhere(logs, perNode);
      expect(new Set(indexes).size).toBe(3 * perNode);
      expect(Math.max(...indexes)).toBe(3 * perNode - 1);
      await checkOneLog(logs, stores, 3 * perNode, perNode);
      nodes = logs.map((log) => new Hono().route('/log', createLogRoutes(log)));
      const r = await runAudit();
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`size ${3 * perNode} (first audit), ${3 * perNode} entries checked`);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
