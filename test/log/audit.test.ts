/**
 * `attune audit` against a real HTTP server on an ephemeral loopback port: an honest log passes;
 * a tampered stored entry, a fork, a rollback and a swapped key are each caught with a specific
 * message, and the state file is left untouched on failure.
 */
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { DatabaseSync } from 'node:sqlite';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { command as audit } from '../../src/cli/commands/audit.ts';
import { createLogRoutes } from '../../src/http/logRoutes.ts';
import { type JsonObject, participantCommitment } from '../../src/log/entry.ts';
import { signerFromSeed } from '../../src/log/note.ts';
import { TransparencyLog } from '../../src/log/transparencyLog.ts';
import { MemoryLogStore } from '../../src/storage/memory/memoryLogStore.ts';
import { openDatabase } from '../../src/storage/sqlite/openDatabase.ts';
import { SqliteLogStore } from '../../src/storage/sqlite/sqliteLogStore.ts';
import { captureIO } from '../support/captureIO.ts';

const ORIGIN = 'audit.test/log';
const key = signerFromSeed(ORIGIN, new Uint8Array(32).fill(11));
const otherKey = signerFromSeed(ORIGIN, new Uint8Array(32).fill(12));
const steward = participantCommitment(new Uint8Array(32).fill(5), 'steward');

/** The server always serves whichever log `current` points at. */
let current = new Hono();
let server: ServerType;
let baseUrl = '';

beforeAll(async () => {
  const outer = new Hono();
  outer.all('*', (c) => current.fetch(c.req.raw));
  await new Promise<void>((ok) => {
    server = serve({ fetch: outer.fetch, port: 0, hostname: '127.0.0.1' }, () => ok());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

async function makeLog(opts: { n: number; seed?: string; signer?: typeof key; db?: DatabaseSync }) {
  const store = opts.db ? new SqliteLogStore(opts.db) : new MemoryLogStore();
  const log = await TransparencyLog.open({ store, signer: opts.signer ?? key, now: () => 1_700_000_000_000 });
  await appendN(log, 0, opts.n, opts.seed ?? 'honest');
  return log;
}

async function appendN(log: TransparencyLog, from: number, to: number, seed: string) {
  const jobs: Promise<number>[] = [];
  for (let i = from; i < to; i++) {
    const type = i % 3 === 0 ? 'space.created' : i % 3 === 1 ? 'steward.changed' : 'space.closed';
    const payload: JsonObject =
      type === 'space.created' ? { name: `space ${i}`, capacity: 50, ttlMs: 120_000, steward } : type === 'steward.changed' ? { reason: 'rotated', from: steward, to: steward } : { reason: seed };
    jobs.push(log.append({ type, space: `space-${i}`, payload }));
  }
  await Promise.all(jobs);
}

function serveLog(log: TransparencyLog) {
  current = new Hono();
  current.route('/log', createLogRoutes(log));
}

let statePath = '';
async function runAudit(...extra: string[]) {
  const c = captureIO();
  const code = await audit.run([baseUrl, '--key', key.verifierKey, '--state', statePath, ...extra], c.io);
  return { code, out: c.out(), err: c.err() };
}

beforeEach(() => {
  statePath = join(mkdtempSync(join(tmpdir(), 'attune-audit-')), 'state.json');
});

describe('[A1] attune audit', () => {
  it('passes an honest log, with counts, and then verifies consistency as it grows', async () => {
    const log = await makeLog({ n: 300 });
    serveLog(log);
    const first = await runAudit();
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^attune audit: OK/);
    expect(first.out).toContain('size 300 (first audit), 300 entries checked in 2 bundles, 3 tiles');
    expect(first.out).toContain('space.created 100');
    await appendN(log, 300, 520, 'more');
    const second = await runAudit();
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/consistency with size 300 verified before/);
    expect(JSON.parse(readFileSync(statePath, 'utf8')).logs[ORIGIN].size).toBe(520);
    expect((await runAudit()).out).toContain('same checkpoint as verified before (size 520)');
  });

  it('catches a tampered stored entry', async () => {
    const db = openDatabase(':memory:');
    const log = await makeLog({ n: 270, db });
    serveLog(log);
    expect((await runAudit()).code).toBe(0);
    const forged = (i: number) => new TextEncoder().encode(`{"payload":{},"space":"space-${i}","time":1,"type":"space.closed","v":1}`);
    db.prepare('UPDATE log_entries SET data = ? WHERE idx = ?').run(forged(260), 260);
    const r = await runAudit();
    expect(r.code).toBe(1);
    expect(r.err).toContain('entry 260: the bytes served in bundle entries/001.p/14 do not hash to its leaf hash in tile 0/001.p/14');
    db.close();
    // The same against a first-time auditor, in a bundle that is already full.
    const db2 = openDatabase(':memory:');
    serveLog(await makeLog({ n: 270, db: db2 }));
    db2.prepare('UPDATE log_entries SET data = ? WHERE idx = ?').run(forged(5), 5);
    statePath = join(mkdtempSync(join(tmpdir(), 'attune-audit-')), 'state.json');
    const fresh = await runAudit();
    expect(fresh.code).toBe(1);
    expect(fresh.err).toContain('entry 5: the bytes served in bundle entries/000 do not hash to its leaf hash in tile 0/000');
    db2.close();
  });

  it('catches a fork: two checkpoints of the same size with different roots', async () => {
    serveLog(await makeLog({ n: 40 }));
    expect((await runAudit()).code).toBe(0);
    const before = readFileSync(statePath, 'utf8');
    serveLog(await makeLog({ n: 40, seed: 'forked' }));
    const r = await runAudit();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/FAILED .*fork: two signed checkpoints of size 40 with different roots/);
    expect(r.err).toContain('evidence (both signed checkpoints)');
    expect(readFileSync(statePath, 'utf8')).toBe(before);
  });

  it('catches a fork that grew: the new tree does not extend the one verified before', async () => {
    serveLog(await makeLog({ n: 40 }));
    expect((await runAudit()).code).toBe(0);
    serveLog(await makeLog({ n: 60, seed: 'forked' }));
    const r = await runAudit();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/consistency: the log at size 60 does not extend the size-40 tree verified before/);
  });

  it('catches a rollback', async () => {
    serveLog(await makeLog({ n: 50 }));
    expect((await runAudit()).code).toBe(0);
    serveLog(await makeLog({ n: 45 }));
    const r = await runAudit();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/rollback: the log now claims size 45, smaller than size 50 verified before/);
  });

  it('catches a swapped key', async () => {
    serveLog(await makeLog({ n: 10, signer: otherKey }));
    const r = await runAudit();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/checkpoint signature: not signed by the pinned key audit\.test\/log\+[0-9a-f]{8} — no known key verified a signature \(note is signed by: audit\.test\/log\+[0-9a-f]{8}\)/);
  });

  it('reports an unreachable server and a bad key clearly', async () => {
    const saved = baseUrl;
    baseUrl = 'http://127.0.0.1:9';
    const r = await runAudit();
    baseUrl = saved;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/could not fetch http:\/\/127\.0\.0\.1:9\/log\/checkpoint/);
    serveLog(await makeLog({ n: 1 }));
    const bad = await runAudit('--key', 'audit.test/log+00000000+AQ==');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/the pinned verifier key is invalid/);
  });
});
