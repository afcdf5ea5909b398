/**
 * A process that writes inputs into a SQLite database until it is killed, for the kill -9 test
 * of the checkpointer (test/sqliteCheckpointer.test.ts): argv = database path, WAL limit in
 * bytes. It creates space `s` with 200 participants, then writes round after round — every
 * participant's next seq, one group per round — and prints `acked R restarts N wal BYTES` once
 * round R's calls have all resolved (so are durable, S3).
 */
import { statSync } from 'node:fs';
import { openDatabase } from '../../src/storage/sqlite/openDatabase.ts';
import { SqliteStorage } from '../../src/storage/sqlite/sqliteStorage.ts';

const [path, limit] = process.argv.slice(2) as [string, string];
const db = openDatabase(path);
const storage = new SqliteStorage(db, { walLimitBytes: Number(limit), checkpointIntervalMs: 0 });
const P = 200;
await storage.createSpace({ id: 's', code: 'KILL', name: 'kill', status: 'open', capacity: 1000, ttlMs: 1e9, stewardTokenHash: 'h', createdAt: 0, closedAt: null });
await Promise.all(Array.from({ length: P }, (_, i) => storage.createParticipant({ id: `p${i}`, spaceId: 's', tokenHash: `t${i}`, joinedAt: 0, lastSeq: 0, latest: null })));
await storage.checkpointer?.idle();
for (let round = 1; ; round++) {
  await Promise.all(Array.from({ length: P }, (_, i) => storage.appendInputs([{ spaceId: 's', participantId: `p${i}`, seq: round, affect: { valence: (i % 10) / 10, arousal: -0.5, confidence: 1, source: 'tap', at: round }, exposed: false, shown: null, n: round * P + i }])));
  process.stdout.write(`acked ${round} restarts ${storage.checkpointer?.restarts ?? -1} wal ${statSync(`${path}-wal`).size}\n`);
}
