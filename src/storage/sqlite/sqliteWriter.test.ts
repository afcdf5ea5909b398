/**
 * The set-based input path of SqliteWriter against the call-by-call path it replaced (kept as
 * `setBased: false`): the same groups of write calls give the same outcomes (which calls failed,
 * with which errors) and the same database, row for row — the seq rule (S3), unknown
 * participants, bad and taken event numbers (S8), erasures and events between runs included.
 */
import type { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './openDatabase.ts';
import { SqliteStorage } from './sqliteStorage.ts';
import { type InputRow, SqliteWriter, type WriteCall } from './sqliteWriter.ts';

/** A migrated in-memory database with its key store, and a writer on it. */
function fresh(setBased: boolean): { db: DatabaseSync; writer: SqliteWriter } {
  const db = openDatabase(':memory:');
  // The constructor migrates and attaches the key store; its own writer is never used here.
  new SqliteStorage(db);
  const writer = new SqliteWriter(db, { setBased });
  const setup: WriteCall[] = [
    { op: 'createSpace', row: ['s1', 'AAA', 'one', 'open', 100, 60_000, 'h', 0, null, null, null] },
    { op: 'createSpace', row: ['s2', 'BBB', 'two', 'open', 100, 60_000, 'h', 0, null, null, null] },
    ...(['a', 'b', 'c'] as const).map((id): WriteCall => ({ op: 'createParticipant', row: [id, id === 'c' ? 's2' : 's1', `t-${id}`, 0, 0, null, null, null, null, null, null], key: new Uint8Array(32).fill(id.charCodeAt(0)) })),
  ];
  const o = writer.commit(setup);
  if (!o.committed || o.failures.length > 0) throw new Error('setup failed');
  return { db, writer };
}

/** Everything the calls can change, in a stable order. */
function dump(db: DatabaseSync): unknown {
  return {
    inputs: db.prepare('SELECT rowid, * FROM inputs ORDER BY rowid').all(),
    participants: db.prepare('SELECT * FROM participants ORDER BY id').all(),
    events: db.prepare('SELECT * FROM events ORDER BY space_id, n').all(),
    keys: db.prepare('SELECT participant_id, hex(key) AS key FROM keys.participant_keys ORDER BY participant_id').all(),
  };
}

/** A group's outcome as plain data: committed, and each failing call's index and error. */
function outcome(w: SqliteWriter, calls: readonly WriteCall[]): unknown {
  const o = w.commit(calls);
  return { committed: o.committed, failures: o.failures.map(([k, e]) => [k, (e as Error).name, (e as Error).message]) };
}

// Mostly valid calls (so most runs take the set path), with every way to fail mixed in: an
// unknown participant, one named in another space, bad event numbers, numbers already taken.
const participant = fc.oneof({ weight: 30, arbitrary: fc.constantFrom('a', 'b', 'c', 'd') }, { weight: 1, arbitrary: fc.constant('ghost') });
const eventN = fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 30, arbitrary: fc.integer({ min: 1, max: 60 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1.5) });
const inputRow = fc
  .record({ p: participant, wrongSpace: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), seq: fc.integer({ min: 0, max: 7 }), n: eventN, sealed: fc.boolean(), v: fc.double({ min: -1, max: 1, noNaN: true }) })
  .map(({ p, wrongSpace, seq, n, sealed, v }): InputRow => {
    const s = (p === 'c') !== wrongSpace ? 's2' : 's1';
    return [s, p, seq, sealed ? 0 : v, sealed ? 0 : -v, sealed ? 0 : 1, sealed ? 'sealed' : 'tap', 1000 + seq, seq % 2 === 0 ? 1 : 0, null, null, n, null, sealed ? `sealed-${p}-${seq}` : null];
  });
const space = fc.constantFrom('s1', 's2');
const call: fc.Arbitrary<WriteCall> = fc.oneof(
  { weight: 8, arbitrary: fc.array(inputRow, { minLength: 1, maxLength: 3 }).map((rows): WriteCall => ({ op: 'appendInputs', rows })) },
  { weight: 1, arbitrary: fc.record({ s: space, n: fc.integer({ min: 1, max: 60 }) }).map(({ s, n }): WriteCall => ({ op: 'appendEvents', rows: [[s, n, 5, 'left', null, null]] })) },
  { weight: 1, arbitrary: participant.map((id): WriteCall => ({ op: 'eraseParticipant', id })) },
  { weight: 1, arbitrary: participant.map((id): WriteCall => ({ op: 'clearLatest', id })) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'd').map((id): WriteCall => ({ op: 'createParticipant', row: [id, 's1', `t2-${id}`, 1, 0, null, null, null, null, null, null], key: null })) },
);

describe('SqliteWriter: set-based input runs', () => {
  it('[S3][S8] the same groups give the same outcomes and the same database as the call-by-call path', () => {
    const paths = { set: 0, fallback: 0 };
    fc.assert(
      fc.property(fc.array(fc.array(call, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 5 }), (groups) => {
        const set = fresh(true);
        const rows = fresh(false);
        for (const g of groups) expect(outcome(set.writer, g)).toEqual(outcome(rows.writer, g));
        expect(dump(set.db)).toEqual(dump(rows.db));
        paths.set += set.writer.setRuns;
        paths.fallback += set.writer.fallbacks;
        set.db.close();
        rows.db.close();
      }),
      { seed: 13, numRuns: 150 },
    );
    // Both paths were taken, many times over.
    expect(paths.set).toBeGreaterThan(100);
    expect(paths.fallback).toBeGreaterThan(100);
  });

  it('writes a clean run set-based; a failing call, or an n another input holds, sends the run call by call', () => {
    const { db, writer } = fresh(true);
    const row = (p: string, seq: number, n: number | null): InputRow => ['s1', p, seq, 0.5, -0.5, 1, 'tap', 1000 + seq, 0, null, null, n, null, null];
    const clean = writer.commit([{ op: 'appendInputs', rows: [row('a', 1, 1)] }, { op: 'appendInputs', rows: [row('b', 1, 2)] }]);
    expect(clean.failures).toEqual([]);
    expect([writer.setRuns, writer.fallbacks]).toEqual([1, 0]);
    const o = writer.commit([
      { op: 'appendInputs', rows: [row('b', 2, 3), row('ghost', 1, 4)] },
      { op: 'appendInputs', rows: [row('a', 1, 8)] }, // a replay: skipped, no error
      { op: 'appendInputs', rows: [row('a', 2, 5), row('b', 2, 6)] },
    ]);
    expect(o.committed).toBe(true);
    expect(o.failures.map(([k, e]) => [k, (e as Error).message])).toEqual([[0, 'unknown participant ghost']]);
    expect([writer.setRuns, writer.fallbacks]).toEqual([1, 1]);
    expect(db.prepare('SELECT participant_id AS p, seq, n FROM inputs ORDER BY rowid').all().map((r) => ({ ...r }))).toEqual([
      { p: 'a', seq: 1, n: 1 },
      { p: 'b', seq: 1, n: 2 },
      { p: 'a', seq: 2, n: 5 },
      { p: 'b', seq: 2, n: 6 },
    ]);
    expect(db.prepare("SELECT last_seq FROM participants WHERE id = 'a'").get()?.last_seq).toBe(2);
    // n 5 is held by an input: the unique index raises inside the run, which then goes call by call.
    const clash = writer.commit([{ op: 'appendInputs', rows: [row('b', 3, 7)] }, { op: 'appendInputs', rows: [row('b', 4, 5)] }]);
    expect([writer.setRuns, writer.fallbacks]).toEqual([1, 2]);
    expect(clash.failures.map(([k]) => k)).toEqual([1]);
    expect(db.prepare("SELECT last_seq FROM participants WHERE id = 'b'").get()?.last_seq).toBe(3);
    db.close();
  });
});
