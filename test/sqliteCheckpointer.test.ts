/**
 * The SQLite checkpointer thread (src/storage/sqlite/sqliteCheckpointer.ts): WAL checkpoints off
 * the writer's commit path keep the WAL bounded, and lose nothing acknowledged — also when the
 * process is killed (kill -9) while checkpoints run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { InputRecord } from '../src/storage/port.ts';
import { openDatabase } from '../src/storage/sqlite/openDatabase.ts';
import { SqliteStorage } from '../src/storage/sqlite/sqliteStorage.ts';

const walOf = (file: string) => {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
};
const P = 200;
const input = (i: number, round: number): InputRecord => ({ spaceId: 's', participantId: `p${i}`, seq: round, affect: { valence: (i % 10) / 10, arousal: -0.5, confidence: 1, source: 'tap', at: round }, exposed: false, shown: null, n: round * P + i });

/** A file database with space `s` and P participants, its storage opened with `walLimitBytes`. */
async function fresh(walLimitBytes: number): Promise<{ file: string; db: DatabaseSync; s: SqliteStorage }> {
  const file = join(mkdtempSync(join(tmpdir(), 'attune-ckpt-')), 'test.db');
  const db = openDatabase(file);
  const s = new SqliteStorage(db, { walLimitBytes, checkpointIntervalMs: 0 });
  await s.createSpace({ id: 's', code: 'CKPT', name: 'ckpt', status: 'open', capacity: 1000, ttlMs: 1e9, stewardTokenHash: 'h', createdAt: 0, closedAt: null });
  await Promise.all(Array.from({ length: P }, (_, i) => s.createParticipant({ id: `p${i}`, spaceId: 's', tokenHash: `t${i}`, joinedAt: 0, lastSeq: 0, latest: null })));
  // The thread has started and made its first pass (until then the WAL grows as with no checkpoints).
  await s.checkpointer?.idle();
  return { file, db, s };
}

/** The WAL size `rounds` of P inputs leave through a connection that never checkpoints (what the writer's would do without the thread). */
function uncheckpointedWal(rounds: number): number {
  const control = join(mkdtempSync(join(tmpdir(), 'attune-ckpt-')), 'test.db');
  const c = openDatabase(control);
  new SqliteStorage(c, { commitOn: 'loop' });
  c.exec('PRAGMA wal_autocheckpoint = 0');
  c.exec("INSERT INTO spaces (id, code, name, status, capacity, ttl_ms, steward_token_hash, created_at) VALUES ('s', 'C', 'c', 'open', 1000, 1, 'h', 0)");
  const insert = c.prepare("INSERT INTO inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, n, sealed) VALUES ('s', ?, ?, 0, 0, 0, 'sealed', ?, 0, ?, ?)");
  const seal = 'x'.repeat(120);
  for (let round = 1; round <= rounds; round++) {
    c.exec('BEGIN');
    for (let i = 0; i < P; i++) insert.run(`p${i}`, round, round, round * P + i, seal);
    c.exec('COMMIT');
  }
  const size = walOf(control);
  c.close();
  return size;
}

describe('SQLite checkpointer thread', () => {
  it('[S3] with writes one group at a time, every group commits without a checkpoint and the WAL stays at about one group (a writer that never checkpoints grows it past 20×)', async () => {
    const { file, db, s } = await fresh(64 * 1024 * 1024);
    let most = 0;
    for (let round = 1; round <= 40; round++) {
      await Promise.all(Array.from({ length: P }, (_, i) => s.appendInputs([input(i, round)])));
      // Each pass then finds the writer between groups: it copies everything, so the next group starts the WAL over.
      await s.checkpointer?.idle();
      most = Math.max(most, walOf(file));
    }
    expect(s.checkpointer?.passes).toBeGreaterThanOrEqual(40);
    expect(s.checkpointer?.errors).toBe(0);
    expect(await s.listParticipantInputs('p7')).toHaveLength(40);
    await s.close();
    db.close();

    const control = uncheckpointedWal(40);
    console.log(`checkpointer test: WAL at most ${most} bytes, ${control} without checkpoints`);
    expect(control).toBeGreaterThan(20 * most);
  });

  it('[S3] under writes that never pause, the writer restarts the WAL past walLimitBytes between two groups and it stays a fraction of what the writes leave without checkpoints', async () => {
    const limit = 256 * 1024;
    const { file, db, s } = await fresh(limit);
    let most = 0;
    // 80 rounds, each asked once the round two before it committed: the writer never waits (a
    // round is always queued behind the one committing) and groups stay at one or two rounds,
    // while passes run beside them.
    const rounds: Promise<void>[] = [];
    for (let r = 1; r <= 80; r++) {
      if (r > 2) await rounds[r - 3];
      rounds.push(
        Promise.all(Array.from({ length: P }, (_, i) => s.appendInputs([input(i, r)]))).then(() => {
          most = Math.max(most, walOf(file));
        }),
      );
    }
    await Promise.all(rounds);
    await s.checkpointer?.idle();
    expect(s.checkpointer?.errors).toBe(0);
    expect(s.checkpointer?.restarts).toBeGreaterThan(0);
    // How far past the limit it gets depends on how many groups commit during one pass (the
    // machine's load); what holds is that the WAL is a fraction of what these writes leave without checkpoints.
    const control = uncheckpointedWal(80);
    console.log(`checkpointer test: WAL at most ${most} bytes (limit ${limit}), ${control} without checkpoints`);
    expect(most).toBeLessThan(control / 3);
    expect(await s.listParticipantInputs('p3')).toHaveLength(80);
    await s.close();
    db.close();
  });

  it('[S3][S6] kill -9 while the checkpointer runs RESTART checkpoints loses no acknowledged input', { timeout: 60_000 }, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'attune-ckpt-kill-')), 'test.db');
    const limit = 128 * 1024;
    const child = spawn(process.execPath, [join(import.meta.dirname, 'support/sqliteWriteUntilKilled.ts'), file, String(limit)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    let restarts = 0;
    let most = 0;
    let buffer = '';
    const killed = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^acked (\d+) restarts (-?\d+) wal (\d+)$/.exec(line);
        if (!m) continue;
        acked = Number(m[1]);
        restarts = Number(m[2]);
        most = Math.max(most, Number(m[3]));
        // Killed in the middle of writing, a few rounds after checkpoints restarted the WAL.
        if (restarts >= 3 && acked >= 30) child.kill('SIGKILL');
      }
    });
    expect(await killed).toBe('SIGKILL');
    expect(restarts).toBeGreaterThanOrEqual(3);
    console.log(`checkpointer test: killed after ${acked} rounds, ${restarts} restarts, WAL at most ${most} bytes`);
    expect(most).toBeLessThan(uncheckpointedWal(acked) / 3);
    const db = openDatabase(file);
    const s = new SqliteStorage(db);
    for (const i of [0, 57, 199]) {
      const stored = await s.listParticipantInputs(`p${i}`);
      // Every acknowledged round is there, in order (a round in flight at the kill may be too).
      expect(stored.length).toBeGreaterThanOrEqual(acked);
      expect(stored.slice(0, acked).map((x) => x.seq)).toEqual(Array.from({ length: acked }, (_, r) => r + 1));
    }
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    await s.close();
    db.close();
  });
});
