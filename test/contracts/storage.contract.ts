/**
 * The Storage contract (SPEC.md §S), run against every adapter by storage.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InputRecord, ParticipantRecord, SpaceEventRecord, SpaceRecord, Storage, StoryRecord, WebhookDeliveryRecord, WebhookRecord } from '../../src/storage/port.ts';

/** A factory for a fresh, empty store, and how to reopen it (null when it does not persist). */
export interface StorageHarness {
  readonly name: string;
  create(): Promise<Storage>;
  reopen: (() => Promise<Storage>) | null;
  /** The adapter's count of group commits so far. */
  commitsOf(s: Storage): number;
  /**
   * For adapters that store inputs on disk (S16): the raw `inputs` rows of a participant as the
   * database holds them (`v` the plain valence column, `sealed` the sealed text or null) and
   * how many keys are stored for them.
   */
  raw?: { inputs(participantId: string): Promise<{ v: number; sealed: string | null }[]>; keys(participantId: string): Promise<number> };
}

const space = (id: string, code: string, createdAt = 1): SpaceRecord => ({
  id,
  code,
  name: `space ${id}`,
  status: 'open',
  capacity: 100,
  ttlMs: 120_000,
  stewardTokenHash: `hash-${id}`,
  createdAt,
  closedAt: null,
});

const participant = (id: string, spaceId: string): ParticipantRecord => ({ id, spaceId, tokenHash: `tok-${id}`, joinedAt: 5, lastSeq: 0, latest: null });

const affect = (valence: number, at: number) => ({ valence, arousal: -valence, confidence: 1, source: 'tap' as const, at });

const input = (participantId: string, seq: number, at: number, n?: number, spaceId = 'a'): InputRecord => ({
  spaceId,
  participantId,
  seq,
  affect: affect(0.1 * seq, at),
  exposed: false,
  shown: null,
  ...(n === undefined ? {} : { n }),
});

const event = (n: number, kind = 'tick', spaceId = 'a', participantId: string | null = null, body: string | null = null): SpaceEventRecord => ({
  spaceId,
  n,
  at: 1000 + n,
  kind,
  participantId,
  body,
});

const webhook = (id: string, spaceId: string, createdAt: number): WebhookRecord => ({ id, spaceId, url: `https://venue.example/${id}`, events: ['alert', 'display.mode'], createdAt });

const delivery = (spaceId: string, k: number, outcome: WebhookDeliveryRecord['outcome'] = 'delivered'): WebhookDeliveryRecord => ({
  spaceId,
  delivery: `evt_${k}`,
  webhook: 'wh_1',
  event: 'alert',
  type: 'alert.raised',
  attempt: 1,
  at: 100 + k,
  status: outcome === 'delivered' ? 200 : null,
  outcome,
  ...(outcome === 'delivered' ? {} : { error: 'timed out' }),
  ...(outcome === 'retrying' ? { nextAttemptAt: 1100 + k } : {}),
});

/** Settles every promise and returns which were fulfilled, in order. */
const fulfilled = async (ps: readonly Promise<unknown>[]) => (await Promise.allSettled(ps)).map((r) => r.status === 'fulfilled');

/** Registers the contract tests for one adapter. */
export function storageContract(h: StorageHarness): void {
  describe(`Storage contract: ${h.name}`, () => {
    let s: Storage;
    beforeEach(async () => {
      s = await h.create();
    });
    afterEach(async () => {
      await s.close();
    });

    it('[S1] creates spaces with unique ids and codes and finds them by either', async () => {
      expect(await s.createSpace(space('a', 'CODEA'))).toBe(true);
      expect(await s.createSpace(space('a', 'OTHER'))).toBe(false);
      expect(await s.createSpace(space('b', 'CODEA'))).toBe(false);
      expect((await s.getSpaceByCode('CODEA'))?.id).toBe('a');
      expect((await s.getSpace('a'))?.code).toBe('CODEA');
      expect(await s.getSpaceByCode('NOPE')).toBeNull();
      await s.createSpace(space('c', 'CODEC', 2));
      expect((await s.listSpaces()).map((x) => x.id)).toEqual(['a', 'c']);
    });

    it('[S2] closes a space once and rotates its steward token hash', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.closeSpace('a', 50);
      await s.closeSpace('a', 60);
      const a = await s.getSpace('a');
      expect(a?.status).toBe('closed');
      expect(a?.closedAt).toBe(50);
      await s.updateStewardTokenHash('a', 'new');
      expect((await s.getSpace('a'))?.stewardTokenHash).toBe('new');
    });

    it('[S3] appends inputs, keeps the latest per participant, ignores replays of a seq', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      await s.createParticipant(participant('p2', 'a'));
      await Promise.all([
        s.appendInputs([{ spaceId: 'a', participantId: 'p1', seq: 1, affect: affect(0.1, 10), exposed: false, shown: null }]),
        s.appendInputs([{ spaceId: 'a', participantId: 'p2', seq: 1, affect: affect(0.2, 11), exposed: true, shown: { valence: 0.25, arousal: -0.5 } }]),
      ]);
      await s.appendInputs([
        { spaceId: 'a', participantId: 'p1', seq: 2, affect: affect(0.3, 12), exposed: false, shown: null },
        { spaceId: 'a', participantId: 'p1', seq: 2, affect: affect(0.9, 13), exposed: false, shown: null },
        { spaceId: 'a', participantId: 'p1', seq: 1, affect: affect(0.9, 14), exposed: false, shown: null },
      ]);
      const p1 = await s.getParticipantByTokenHash('tok-p1');
      expect(p1?.lastSeq).toBe(2);
      expect(p1?.latest?.valence).toBeCloseTo(0.3);
      const inputs = await s.listInputs('a', 0, 100, 10);
      expect(inputs.map((i) => [i.participantId, i.seq, i.exposed])).toEqual([
        ['p1', 1, false],
        ['p2', 1, true],
        ['p1', 2, false],
      ]);
      expect((await s.listInputs('a', 11, 12, 10))[0]?.shown).toEqual({ valence: 0.25, arousal: -0.5 });
      expect((await s.listInputs('a', 0, 100, 2)).length).toBe(2);
    });

    it('[S3] rejects an input for an unknown participant without losing the others', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      const good = s.appendInputs([{ spaceId: 'a', participantId: 'p1', seq: 1, affect: affect(0.1, 10), exposed: false, shown: null }]);
      const bad = s.appendInputs([{ spaceId: 'a', participantId: 'ghost', seq: 1, affect: affect(0.1, 10), exposed: false, shown: null }]);
      await expect(bad).rejects.toThrow();
      await good;
      expect((await s.listInputs('a', 0, 100, 10)).length).toBe(1);
    });

    it('[S4] lists participants active since a time, and clears a latest point on leave', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      await s.createParticipant(participant('p2', 'a'));
      await s.createParticipant(participant('p3', 'a'));
      await s.appendInputs([
        { spaceId: 'a', participantId: 'p1', seq: 1, affect: affect(0.1, 10), exposed: false, shown: null },
        { spaceId: 'a', participantId: 'p2', seq: 1, affect: affect(0.2, 100), exposed: false, shown: null },
      ]);
      expect((await s.listActiveParticipants('a', 50)).map((p) => p.id)).toEqual(['p2']);
      await s.clearLatest('p2');
      expect(await s.listActiveParticipants('a', 0)).toHaveLength(1);
      expect(await s.countParticipants('a')).toBe(3);
    });

    it('[S5] stores and lists pulse points by time', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.appendPulsePoints([
        { spaceId: 'a', at: 1, count: 3, valence: 0.1, arousal: 0.2, spreadValence: 0.3, spreadArousal: 0.4, quadrants: [0.25, 0.25, 0.25, 0.25] },
        { spaceId: 'a', at: 2, count: 4, valence: 0.5, arousal: 0.6, spreadValence: 0.1, spreadArousal: 0.1, quadrants: [1, 0, 0, 0] },
      ]);
      const pts = await s.listPulsePoints('a', 0, 10, 10);
      expect(pts).toHaveLength(2);
      expect(pts[1]?.quadrants).toEqual([1, 0, 0, 0]);
      expect(await s.listPulsePoints('a', 2, 3, 10)).toHaveLength(1);
    });


    it('[S3] writes commit in call order: input then clearLatest leaves no point', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      // Both calls in one turn: the later clear must not be overtaken by the earlier input.
      await Promise.all([s.appendInputs([input('p1', 1, 10)]), s.clearLatest('p1')]);
      const p1 = await s.getParticipantByTokenHash('tok-p1');
      expect(p1?.latest).toBeNull();
      expect(p1?.lastSeq).toBe(1);
      // And the other way round, the input wins.
      await Promise.all([s.clearLatest('p1'), s.appendInputs([input('p1', 2, 20)])]);
      expect((await s.getParticipantByTokenHash('tok-p1'))?.latest?.at).toBe(20);
    });

    it('[S3] a space, a participant and its input created in one group commit in order', async () => {
      const results = await Promise.all([
        s.createSpace(space('a', 'CODEA')),
        s.createParticipant(participant('p1', 'a')),
        s.appendInputs([input('p1', 1, 10, 1)]),
        s.appendEvents([event(2, 'left', 'a', 'p1')]),
        s.closeSpace('a', 30),
        s.createSpace(space('b', 'CODEA')),
      ]);
      expect(results[0]).toBe(true);
      expect(results[5]).toBe(false);
      expect((await s.getParticipantByTokenHash('tok-p1'))?.lastSeq).toBe(1);
      expect((await s.getSpace('a'))?.status).toBe('closed');
      expect(await s.lastEventN('a')).toBe(2);
    });

    it('[S3] a failing write rolls back alone; the rest of its group commits', async () => {
      await s.createSpace(space('a', 'CODEA'));
      const calls = [
        s.createParticipant(participant('p1', 'a')),
        s.createParticipant(participant('p1', 'a')), // same id: rejects
        s.createParticipant(participant('p2', 'nowhere')), // unknown space: rejects
        s.appendInputs([input('p1', 1, 10), input('ghost', 1, 10)]), // rejects whole: p1's seq 1 must not stay
        s.appendInputs([input('p1', 2, 20)]),
        s.updateStewardTokenHash('a', 'rotated'),
      ];
      expect(await fulfilled(calls)).toEqual([true, false, false, false, true, true]);
      expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.seq)).toEqual([2]);
      expect((await s.getParticipantByTokenHash('tok-p1'))?.lastSeq).toBe(2);
      expect(await s.countParticipants('a')).toBe(1);
      expect((await s.getSpace('a'))?.stewardTokenHash).toBe('rotated');
    });

    it('[S3] a join storm of 10,000 participants in one turn is one group commit', async () => {
      await s.createSpace(space('a', 'CODEA'));
      const before = h.commitsOf(s);
      await Promise.all(Array.from({ length: 10_000 }, (_, i) => s.createParticipant(participant(`p${i}`, 'a'))));
      expect(h.commitsOf(s) - before).toBe(1);
      expect(await s.countParticipants('a')).toBe(10_000);
    });

    it('[S3] durable, then visible: a read sees a write once, and only once, it resolved', async () => {
      await s.createSpace(space('a', 'CODEA'));
      const write = s.createParticipant(participant('p1', 'a'));
      const early = await s.getParticipantByTokenHash('tok-p1');
      await write;
      expect(early).toBeNull();
      expect((await s.getParticipantByTokenHash('tok-p1'))?.id).toBe('p1');
    });

    it('[S7] events are listed in n order, from a number, per space', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      await s.appendEvents([event(3, 'joined', 'a', 'p1', '{"x":1}'), event(5)]);
      await s.appendEvents([event(1, 'started'), event(2, 'tick'), event(1, 'started', 'b')]);
      expect((await s.listEvents('a', 1, 10)).map((e) => e.n)).toEqual([1, 2, 3, 5]);
      expect(await s.listEvents('a', 3, 1)).toEqual([event(3, 'joined', 'a', 'p1', '{"x":1}')]);
      expect(await s.listEvents('a', 4, 10)).toEqual([event(5)]);
      expect(await s.listEvents('a', 6, 10)).toEqual([]);
      expect(await s.listEvents('b', 0, 10)).toEqual([event(1, 'started', 'b')]);
      expect(await s.listEvents('nowhere', 0, 10)).toEqual([]);
    });

    it('[S7] inputs carry their n: listInputsByN skips unnumbered inputs, ascending by n', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      await s.createParticipant(participant('p2', 'a'));
      await s.appendInputs([input('p1', 1, 10), input('p2', 1, 11, 4)]);
      await s.appendInputs([input('p1', 2, 12, 2), input('p1', 3, 13, 7)]);
      const byN = await s.listInputsByN('a', 0, 10);
      expect(byN.map((i) => [i.participantId, i.seq, i.n])).toEqual([
        ['p1', 2, 2],
        ['p2', 1, 4],
        ['p1', 3, 7],
      ]);
      expect((await s.listInputsByN('a', 3, 1)).map((i) => i.n)).toEqual([4]);
      expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.n)).toEqual([undefined, 4, 2, 7]);
    });

    it('[S7][W5a] a heart input keeps its heart rate; other inputs have none', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      await s.appendInputs([{ ...input('p1', 1, 10, 1), heartBpm: 72.5 }, input('p1', 2, 11, 2)]);
      const byN = await s.listInputsByN('a', 0, 10);
      expect(byN.map((i) => i.heartBpm)).toEqual([72.5, undefined]);
      expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.heartBpm)).toEqual([72.5, undefined]);
    });

    it('[S7] lastEventN is the highest n across events and inputs, 0 when none', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      expect(await s.lastEventN('a')).toBe(0);
      await s.createParticipant(participant('p1', 'a'));
      await s.appendInputs([input('p1', 1, 10)]);
      expect(await s.lastEventN('a')).toBe(0);
      await s.appendEvents([event(1, 'started'), event(2, 'joined', 'a', 'p1')]);
      expect(await s.lastEventN('a')).toBe(2);
      await s.appendInputs([input('p1', 2, 11, 3)]);
      expect(await s.lastEventN('a')).toBe(3);
      await s.appendEvents([event(9, 'started', 'b')]);
      expect(await s.lastEventN('a')).toBe(3);
      expect(await s.lastEventN('b')).toBe(9);
    });

    it('[S8] a duplicate n rejects alone, storing nothing of its call', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      await s.createParticipant(participant('p1', 'a'));
      await s.appendEvents([event(1, 'started'), event(2, 'joined', 'a', 'p1')]);
      await s.appendInputs([input('p1', 1, 10, 3)]);
      const calls = [
        s.appendEvents([event(10), event(2)]), // 2 is an event's: rejects, 10 not stored
        s.appendEvents([event(11), event(3)]), // 3 is an input's
        s.appendEvents([event(12), event(12)]), // twice in one call
        s.appendEvents([event(1)]), // alone, a single statement
        s.appendInputs([input('p1', 2, 20, 1)]), // an input taking an event's n
        s.appendInputs([input('p1', 3, 30, 3)]), // an input taking an input's n
        s.appendEvents([event(4)]),
        s.appendEvents([event(2, 'started', 'b')]), // another space has its own numbering
        s.appendInputs([input('p1', 4, 40, 5)]),
        s.appendInputs([input('p1', 5, 50, 20), input('p1', 6, 60, 20)]), // twice in one call
      ];
      expect(await fulfilled(calls)).toEqual([false, false, false, false, false, false, true, true, true, false]);
      expect((await s.listEvents('a', 0, 100)).map((e) => e.n)).toEqual([1, 2, 4]);
      expect((await s.listInputsByN('a', 0, 100)).map((i) => [i.seq, i.n])).toEqual([
        [1, 3],
        [4, 5],
      ]);
      expect((await s.getParticipantByTokenHash('tok-p1'))?.lastSeq).toBe(4);
      expect(await s.lastEventN('a')).toBe(5);
    });

    it('[S8] an event number is a positive integer', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      const calls = [s.appendEvents([event(0)]), s.appendEvents([event(-1)]), s.appendEvents([event(1.5)]), s.appendInputs([input('p1', 1, 10, 0)]), s.appendEvents([event(1)])];
      expect(await fulfilled(calls)).toEqual([false, false, false, false, true]);
      expect(await s.lastEventN('a')).toBe(1);
    });

    it('[S3] calls made over many turns without waiting settle in call order, and commit in it', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      // 200 turns, each adding an input and (every third turn) clearing it: while a group is
      // committing, later turns queue behind it. Settle order and the stored result must both
      // follow call order.
      const settled: number[] = [];
      const calls: Promise<unknown>[] = [];
      let k = 0;
      for (let turn = 1; turn <= 200; turn++) {
        const input1 = k++;
        calls.push(s.appendInputs([input('p1', turn, 10 * turn, turn)]).then(() => settled.push(input1)));
        if (turn % 3 === 0) {
          const clear = k++;
          calls.push(s.clearLatest('p1').then(() => settled.push(clear)));
        }
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(calls);
      expect(settled).toEqual(Array.from({ length: k }, (_, i) => i));
      // The last call was turn 200's input (200 % 3 ≠ 0): it is the live point.
      expect((await s.getParticipantByTokenHash('tok-p1'))?.latest?.at).toBe(2000);
      expect((await s.listInputsByN('a', 0, 1000)).map((i) => i.n)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(await s.lastEventN('a')).toBe(200);
    });

    it('[S3] a read made as soon as a write resolved sees it, whatever else is committing', async () => {
      await s.createSpace(space('a', 'CODEA'));
      const seen: (number | undefined)[] = [];
      const calls: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        // Unrelated writes keep groups in flight while each participant's promise resolves.
        void s.appendPulsePoints([{ spaceId: 'a', at: i, count: 3, valence: 0, arousal: 0, spreadValence: 0, spreadArousal: 0, quadrants: [1, 0, 0, 0] }]);
        calls.push(
          s.createParticipant(participant(`p${i}`, 'a')).then(async () => {
            seen.push((await s.getParticipantByTokenHash(`tok-p${i}`)) === null ? undefined : i);
          }),
        );
        if (i % 5 === 4) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(calls);
      expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    it('[S3] close with groups still committing and calls still queued settles them all, then stops', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      const calls: Promise<void>[] = [];
      let settled = 0;
      const track = (p: Promise<void>) => calls.push(p.finally(() => settled++));
      for (let turn = 1; turn <= 20; turn++) {
        track(s.appendInputs([input('p1', turn, turn, turn)]));
        await new Promise((r) => setImmediate(r));
      }
      track(s.appendEvents([event(21, 'left', 'a', 'p1')]));
      void s.close();
      const late = expect(s.appendEvents([event(22)])).rejects.toThrow(/closed/);
      // Idempotent: a second close also resolves only once everything queued before has settled.
      await s.close();
      expect(settled).toBe(21);
      expect(await fulfilled(calls)).toEqual(calls.map(() => true));
      await late;
      if (h.reopen) {
        s = await h.reopen();
        expect(await s.lastEventN('a')).toBe(21);
        expect((await s.getParticipantByTokenHash('tok-p1'))?.lastSeq).toBe(20);
      } else {
        s = await h.create();
      }
    });

    it('[S3] close commits the pending group, then refuses writes', async () => {
      await s.createSpace(space('a', 'CODEA'));
      const pending = s.appendEvents([event(1, 'started')]);
      await s.close();
      await pending;
      await expect(s.appendEvents([event(2)])).rejects.toThrow(/closed/);
      await expect(s.createParticipant(participant('p1', 'a'))).rejects.toThrow(/closed/);
      s = await h.create();
    });

    it('[S10] a space keeps its groups; a participant’s group is stored, changed and cleared; an unknown participant rejects', async () => {
      await s.createSpace({ ...space('a', 'CODEA'), groups: ['east', 'west'] });
      await s.createSpace(space('b', 'CODEB'));
      expect((await s.getSpace('a'))?.groups).toEqual(['east', 'west']);
      expect((await s.getSpace('b'))?.groups ?? []).toEqual([]);
      await s.createParticipant({ ...participant('p1', 'a'), group: 'east' });
      await s.createParticipant(participant('p2', 'a'));
      const groupOf = async (tok: string) => (await s.getParticipantByTokenHash(tok))?.group ?? null;
      expect([await groupOf('tok-p1'), await groupOf('tok-p2')]).toEqual(['east', null]);
      await s.setParticipantGroup('p2', 'west');
      await s.appendInputs([input('p2', 1, 10)]);
      expect((await s.listActiveParticipants('a', 0)).map((p) => [p.id, p.group ?? null])).toEqual([['p2', 'west']]);
      await s.setParticipantGroup('p1', null);
      expect(await groupOf('tok-p1')).toBeNull();
      expect(await fulfilled([s.setParticipantGroup('nobody', 'east'), s.setParticipantGroup('p1', 'west')])).toEqual([false, true]);
      expect(await groupOf('tok-p1')).toBe('west');
    });

    it('[S10] links: agreeing is idempotent, listed oldest first, withdrawn by agree = false; an unknown space rejects', async () => {
      for (const [id, code] of [['a', 'CODEA'], ['b', 'CODEB'], ['c', 'CODEC']] as const) await s.createSpace(space(id, code));
      await s.setSpaceLink('a', 'c', true, 5);
      await s.setSpaceLink('a', 'b', true, 7);
      await s.setSpaceLink('a', 'c', true, 9);
      expect(await s.listSpaceLinks('a')).toEqual(['c', 'b']);
      expect(await s.listSpaceLinks('b')).toEqual([]);
      await s.setSpaceLink('a', 'c', false, 11);
      expect(await s.listSpaceLinks('a')).toEqual(['b']);
      expect(await fulfilled([s.setSpaceLink('nowhere', 'a', true, 1), s.setSpaceLink('b', 'a', true, 12)])).toEqual([false, true]);
      expect(await s.listSpaceLinks('b')).toEqual(['a']);
    });

    it('[S12] governance: null before any, replaced by each put, per space, in call order; an unknown space rejects alone', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      expect(await s.getGovernance('a')).toBeNull();
      // Not awaited one by one: the later put wins because writes apply in call order (S3).
      const puts = [s.putGovernance('a', '{"v":1,"n":1}'), s.putGovernance('nowhere', '{}'), s.putGovernance('a', '{"v":1,"n":2}'), s.putGovernance('b', '{"v":1,"n":9}')];
      expect(await fulfilled(puts)).toEqual([true, false, true, true]);
      expect(await s.getGovernance('a')).toBe('{"v":1,"n":2}');
      expect(await s.getGovernance('b')).toBe('{"v":1,"n":9}');
      expect(await s.getGovernance('nowhere')).toBeNull();
    });

    const story = (id: string, over: Partial<StoryRecord> = {}): StoryRecord => ({
      id,
      spaceId: 'a',
      participantId: 'p1',
      text: `<script>alert("${id}")</script> 🌊\nline two`,
      name: null,
      valence: 0.25,
      arousal: -0.5,
      confidence: 0.6,
      flags: [],
      status: 'waiting',
      reason: null,
      createdAt: 10,
      decidedAt: null,
      ...over,
    });

    it('[ST13] a story is stored verbatim, listed oldest first, its state changes, and erasing deletes it', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      await s.createParticipant(participant('p1', 'a'));
      await s.createStory(story('s2', { createdAt: 20, name: 'River', flags: ['profanity:shit'] }));
      await s.createStory(story('s1'));
      expect(await s.listStories('a')).toEqual([story('s1'), story('s2', { createdAt: 20, name: 'River', flags: ['profanity:shit'] })]);
      expect(await s.listStories('b')).toEqual([]);
      await s.setStoryStatus('s1', 'declined', 'hurtful', 30);
      expect((await s.listStories('a'))[0]).toEqual(story('s1', { status: 'declined', reason: 'hurtful', decidedAt: 30 }));
      await s.eraseStory('s1');
      await s.eraseStory('s1');
      expect((await s.listStories('a')).map((x) => x.id)).toEqual(['s2']);
    });

    it('[ST13][S3] a story for an unknown space or participant, or a duplicate id, rejects alone; an unknown story cannot change state', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      await s.createParticipant(participant('p1', 'a'));
      await s.createParticipant(participant('p2', 'b'));
      const r = await fulfilled([
        s.createStory(story('x1', { spaceId: 'nope' })),
        s.createStory(story('x2', { participantId: 'ghost' })),
        s.createStory(story('x3', { participantId: 'p2' })),
        s.createStory(story('ok')),
        s.createStory(story('ok')),
        s.setStoryStatus('missing', 'shown', null, 1),
      ]);
      expect(r).toEqual([false, false, false, true, false, false]);
      expect((await s.listStories('a')).map((x) => x.id)).toEqual(['ok']);
    });

    it('[ST13] story settings: null until set, then the latest; an unknown space rejects', async () => {
      await s.createSpace(space('a', 'CODEA'));
      expect(await s.getStorySettings('a')).toBeNull();
      await s.setStorySettings('a', { enabled: true, moderation: 'post' }, 5);
      await s.setStorySettings('a', { enabled: true, moderation: 'pre' }, 6);
      expect(await s.getStorySettings('a')).toEqual({ enabled: true, moderation: 'pre' });
      expect(await fulfilled([s.setStorySettings('zz', { enabled: true, moderation: 'pre' }, 7)])).toEqual([false]);
    });

    it('[S13] feed settings: set, replaced, removed by an empty list, listed by space and kind; an unknown space rejects', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      await s.setFeedSetting('b', 'osc-targets', ['127.0.0.1:57120'], 3);
      await s.setFeedSetting('a', 'osc-targets', ['10.0.0.5:9000', '[::1]:7000'], 4);
      await s.setFeedSetting('a', 'frame-ancestors', ['https://venue.example'], 5);
      expect(await s.listFeedSettings()).toEqual([
        { spaceId: 'a', kind: 'frame-ancestors', values: ['https://venue.example'], at: 5 },
        { spaceId: 'a', kind: 'osc-targets', values: ['10.0.0.5:9000', '[::1]:7000'], at: 4 },
        { spaceId: 'b', kind: 'osc-targets', values: ['127.0.0.1:57120'], at: 3 },
      ]);
      await s.setFeedSetting('a', 'osc-targets', ['10.0.0.6:9001'], 6);
      await s.setFeedSetting('b', 'osc-targets', [], 7);
      expect(await s.listFeedSettings()).toEqual([
        { spaceId: 'a', kind: 'frame-ancestors', values: ['https://venue.example'], at: 5 },
        { spaceId: 'a', kind: 'osc-targets', values: ['10.0.0.6:9001'], at: 6 },
      ]);
      expect(await fulfilled([s.setFeedSetting('nowhere', 'osc-targets', ['h:1'], 8), s.setFeedSetting('b', 'frame-ancestors', ['https://b.example'], 9)])).toEqual([false, true]);
      expect((await s.listFeedSettings()).map((f) => `${f.spaceId}/${f.kind}`)).toEqual(['a/frame-ancestors', 'a/osc-targets', 'b/frame-ancestors']);
    });

    it('[S13] webhooks: stored without a secret, listed oldest first, removed idempotently; a taken id or an unknown space rejects alone', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      await s.addWebhook(webhook('wh_2', 'b', 20));
      await s.addWebhook(webhook('wh_1', 'a', 10));
      expect(await s.listWebhooks()).toEqual([webhook('wh_1', 'a', 10), webhook('wh_2', 'b', 20)]);
      expect(await fulfilled([s.addWebhook(webhook('wh_1', 'b', 30)), s.addWebhook(webhook('wh_3', 'nowhere', 31)), s.addWebhook(webhook('wh_4', 'a', 32))])).toEqual([false, false, true]);
      await s.removeWebhook('wh_2');
      await s.removeWebhook('wh_2');
      expect((await s.listWebhooks()).map((w) => w.id)).toEqual(['wh_1', 'wh_4']);
      expect(JSON.stringify(await s.listWebhooks())).not.toMatch(/secret/);
    });

    it('[S13] webhook deliveries: appended in order, trimmed to the newest per space, listed oldest first', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createSpace(space('b', 'CODEB'));
      await s.appendWebhookDeliveries([delivery('a', 1, 'retrying'), delivery('a', 2, 'failed'), delivery('b', 1)], 3);
      await s.appendWebhookDeliveries([delivery('a', 3), delivery('a', 4)], 3);
      expect(await s.listWebhookDeliveries('a', 10)).toEqual([delivery('a', 2, 'failed'), delivery('a', 3), delivery('a', 4)]);
      expect(await s.listWebhookDeliveries('a', 2)).toEqual([delivery('a', 3), delivery('a', 4)]);
      expect(await s.listWebhookDeliveries('b', 10)).toEqual([delivery('b', 1)]);
      expect(await s.listWebhookDeliveries('c', 10)).toEqual([]);
      // Calls of one turn commit in call order: the trim of the second sees the first's rows.
      await Promise.all([s.appendWebhookDeliveries([delivery('b', 2)], 5), s.appendWebhookDeliveries([delivery('b', 3)], 2)]);
      expect(await s.listWebhookDeliveries('b', 10)).toEqual([delivery('b', 2), delivery('b', 3)]);
    });

    it('[S15] a space’s noise seed is stored once, read back, never part of the space record; an unknown space rejects', async () => {
      await s.createSpace(space('a', 'CODEA'));
      expect(await s.getSpaceSecret('a')).toBeNull();
      const seed = 'ab'.repeat(32);
      await s.setSpaceSecret('a', seed);
      await s.setSpaceSecret('a', 'cd'.repeat(32));
      expect(await s.getSpaceSecret('a')).toBe(seed);
      expect(JSON.stringify(await s.getSpace('a'))).not.toContain(seed);
      expect(JSON.stringify(await s.listSpaces())).not.toContain(seed);
      expect(await fulfilled([s.setSpaceSecret('nowhere', seed)])).toEqual([false]);
      expect(await s.getSpaceSecret('nowhere')).toBeNull();
    });

    it('[S15] DP releases are stored and listed by n; a duplicate n or an unknown space rejects', async () => {
      await s.createSpace(space('a', 'CODEA'));
      const rel = (n: number) => ({ spaceId: 'a', n, at: 100 + n, what: 'series', params: '{"from":0}', rhoMicro: 50_000, body: `{"points":[${n}]}` });
      await s.appendPrivacyRelease(rel(2));
      await s.appendPrivacyRelease(rel(1));
      expect(await s.listPrivacyReleases('a')).toEqual([rel(1), rel(2)]);
      expect(await fulfilled([s.appendPrivacyRelease(rel(2)), s.appendPrivacyRelease({ ...rel(3), spaceId: 'nowhere' }), s.appendPrivacyRelease(rel(0)), s.appendPrivacyRelease(rel(3))])).toEqual([false, false, false, true]);
      expect((await s.listPrivacyReleases('a')).map((r) => r.n)).toEqual([1, 2, 3]);
      expect(await s.listPrivacyReleases('nowhere')).toEqual([]);
    });

    it('[S16] erasing a participant deletes their inputs, point, consents, events and session — nobody else’s; an unknown participant rejects', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      await s.createParticipant(participant('p2', 'a'));
      await s.appendEvents([event(1, 'joined', 'a', 'p1'), event(2, 'joined', 'a', 'p2')]);
      await s.appendInputs([input('p1', 1, 10, 3), input('p2', 1, 11, 4), input('p1', 2, 12, 5)]);
      await s.recordConsent({ participantId: 'p1', at: 9, hash: 'h1', purposes: ['pulse'] });
      await s.recordConsent({ participantId: 'p1', at: 20, hash: 'h2', purposes: ['pulse'] });
      expect((await s.listConsents('p1')).map((c) => c.hash)).toEqual(['h1', 'h2']);
      expect((await s.listParticipantInputs('p1')).map((i) => [i.seq, i.affect.valence])).toEqual([
        [1, 0.1],
        [2, 0.2],
      ]);
      expect(await s.eraseParticipant('p1')).toEqual({ inputs: 2 });
      expect(await s.getParticipantByTokenHash('tok-p1')).toBeNull();
      expect(await s.listParticipantInputs('p1')).toEqual([]);
      expect(await s.listConsents('p1')).toEqual([]);
      expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.participantId)).toEqual(['p2']);
      expect((await s.listInputsByN('a', 0, 10)).map((i) => i.participantId)).toEqual(['p2']);
      expect((await s.listEvents('a', 0, 10)).map((e) => e.participantId)).toEqual(['p2']);
      expect((await s.listActiveParticipants('a', 0)).map((p) => p.id)).toEqual(['p2']);
      expect(await fulfilled([s.eraseParticipant('p1'), s.recordConsent({ participantId: 'nobody', at: 1, hash: 'h', purposes: [] })])).toEqual([false, false]);
    });

    it('[S17] storedCounts counts what a space holds about people; purgeSpace deletes it all, keeps what was released, and marks the space', async () => {
      await s.createSpace({ ...space('a', 'CODEA'), retentionMs: 86_400_000 });
      await s.createSpace(space('b', 'CODEB'));
      for (const [id, sp] of [['p1', 'a'], ['p2', 'a'], ['p3', 'a'], ['q1', 'b']] as const) await s.createParticipant(participant(id, sp));
      await s.setSpaceSecret('a', 'ab'.repeat(32));
      await s.setSpaceSecret('b', 'cd'.repeat(32));
      await s.appendEvents([event(1, 'joined', 'a', 'p1'), event(2, 'joined', 'a', 'p2'), event(3, 'joined', 'a', 'p3'), event(1, 'joined', 'b', 'q1')]);
      await s.appendInputs([input('p1', 1, 10, 4), input('p2', 1, 11, 5), input('p3', 1, 12, 6), input('q1', 1, 13, 2, 'b')]);
      await s.recordConsent({ participantId: 'p1', at: 9, hash: 'h1', purposes: ['pulse'] });
      await s.recordConsent({ participantId: 'q1', at: 9, hash: 'h1', purposes: ['pulse'] });
      await s.createStory({ id: 'st1', spaceId: 'a', participantId: 'p2', text: 'a story', name: null, valence: 0, arousal: 0, confidence: 1, flags: [], status: 'waiting', reason: null, createdAt: 20, decidedAt: null });
      await s.eraseParticipant('p3');
      await s.appendEvents([event(7, 'erased', 'a')]);
      await s.appendPulsePoints([{ spaceId: 'a', at: 30, count: 5, valence: 0.1, arousal: 0.2, spreadValence: 0, spreadArousal: 0, quadrants: [0.25, 0.25, 0.25, 0.25] }]);
      await s.appendPrivacyRelease({ spaceId: 'a', n: 1, at: 40, what: 'series', params: '{}', rhoMicro: 50_000, body: '{}' });
      const before = await s.storedCounts('a');
      expect(before).toMatchObject({ participants: 2, inputs: 2, erased: 1, consents: 1, stories: 1, events: 3 });
      expect(before.sealedInputs === 0 || before.sealedInputs === 2).toBe(true);
      expect((await s.getSpace('a'))?.retentionMs).toBe(86_400_000);
      expect((await s.getSpace('a'))?.purgedAt ?? null).toBeNull();
      await s.closeSpace('a', 50);
      expect(await s.purgeSpace('a', 100)).toEqual(before);
      expect(await s.storedCounts('a')).toEqual({ participants: 0, inputs: 0, sealedInputs: 0, erased: 0, consents: 0, stories: 0, events: 0 });
      expect(await s.getParticipantByTokenHash('tok-p1')).toBeNull();
      expect(await s.listInputs('a', 0, 1000, 10)).toEqual([]);
      expect(await s.listEvents('a', 0, 10)).toEqual([]);
      expect(await s.listStories('a')).toEqual([]);
      expect(await s.listConsents('p1')).toEqual([]);
      expect(await s.getSpaceSecret('a')).toBeNull();
      // What was released stays; so does the space, marked.
      expect(await s.listPulsePoints('a', 0, 1000, 10)).toHaveLength(1);
      expect(await s.listPrivacyReleases('a')).toHaveLength(1);
      expect(await s.getSpace('a')).toMatchObject({ status: 'closed', closedAt: 50, purgedAt: 100, retentionMs: 86_400_000 });
      // Nobody else's.
      expect(await s.storedCounts('b')).toMatchObject({ participants: 1, inputs: 1, consents: 1, events: 1 });
      expect(await s.getSpaceSecret('b')).toBe('cd'.repeat(32));
      expect((await s.listInputs('b', 0, 1000, 10)).map((i) => i.affect.valence)).toEqual([0.1]);
      // Idempotent: a second purge deletes nothing and keeps the first time.
      expect(await s.purgeSpace('a', 200)).toEqual({ participants: 0, inputs: 0, sealedInputs: 0, erased: 0, consents: 0, stories: 0, events: 0 });
      expect((await s.getSpace('a'))?.purgedAt).toBe(100);
      expect(await fulfilled([s.purgeSpace('nowhere', 1), s.storedCounts('nowhere')])).toEqual([false, false]);
    });

    if (h.raw) {
      const raw = h.raw;
      it('[S16][S18] inputs are stored sealed under the participant’s own key: the plain columns hold placeholders; erasure deletes the key and the rows', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.createParticipant(participant('p1', 'a'));
        await s.appendInputs([{ ...input('p1', 1, 10), shown: { valence: 0.25, arousal: -0.5 } }, input('p1', 2, 11)]);
        const rows = await raw.inputs('p1');
        expect(rows.map((r) => r.v)).toEqual([0, 0]);
        for (const r of rows) expect(typeof r.sealed).toBe('string');
        expect(rows.map((r) => r.sealed).join('')).not.toMatch(/0\.25|valence|arousal/);
        expect(await raw.keys('p1')).toBe(1);
        expect((await s.listInputs('a', 0, 100, 10)).map((i) => [i.affect.valence, i.shown])).toEqual([
          [0.1, { valence: 0.25, arousal: -0.5 }],
          [0.2, null],
        ]);
        await s.eraseParticipant('p1');
        expect(await raw.keys('p1')).toBe(0);
        expect(await raw.inputs('p1')).toEqual([]);
      });
    }

    it('[S16] a participant’s latest point survives sealing: read back exactly, and cleared by clearLatest', async () => {
      await s.createSpace(space('a', 'CODEA'));
      await s.createParticipant(participant('p1', 'a'));
      await s.appendInputs([{ ...input('p1', 1, 10), shown: { valence: 0.25, arousal: -0.5 }, heartBpm: 71 }]);
      expect((await s.getParticipantByTokenHash('tok-p1'))?.latest).toEqual(affect(0.1, 10));
      expect((await s.listInputs('a', 0, 100, 10))[0]).toMatchObject({ shown: { valence: 0.25, arousal: -0.5 }, heartBpm: 71, affect: affect(0.1, 10) });
      await s.clearLatest('p1');
      expect((await s.getParticipantByTokenHash('tok-p1'))?.latest).toBeNull();
    });

    if (h.reopen) {
      const reopen = h.reopen;
      it('[S6][S13] feed settings, webhooks and their delivery log survive a reopen', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.setFeedSetting('a', 'osc-targets', ['127.0.0.1:57120'], 3);
        await s.setFeedSetting('a', 'frame-ancestors', ['https://venue.example'], 4);
        await s.addWebhook(webhook('wh_1', 'a', 10));
        const last = s.appendWebhookDeliveries([delivery('a', 1, 'retrying')], 50);
        await s.close();
        await last;
        s = await reopen();
        expect((await s.listFeedSettings()).map((f) => [f.kind, f.values])).toEqual([
          ['frame-ancestors', ['https://venue.example']],
          ['osc-targets', ['127.0.0.1:57120']],
        ]);
        expect(await s.listWebhooks()).toEqual([webhook('wh_1', 'a', 10)]);
        expect(await s.listWebhookDeliveries('a', 50)).toEqual([delivery('a', 1, 'retrying')]);
      });

      it('[S6][S16] after a reopen, new inputs of a participant are sealed under their stored key and read back; erasure still reaches them', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.createParticipant(participant('p1', 'a'));
        await s.appendInputs([input('p1', 1, 10)]);
        await s.close();
        s = await reopen();
        // No read of p1 first: the key is found in storage, not in this instance's memory.
        await s.appendInputs([{ ...input('p1', 2, 20), affect: affect(-0.6, 20) }]);
        expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.affect.valence)).toEqual([0.1, -0.6]);
        expect((await s.getParticipantByTokenHash('tok-p1'))?.latest).toEqual(affect(-0.6, 20));
        if (h.raw) expect((await h.raw.inputs('p1')).every((r) => typeof r.sealed === 'string')).toBe(true);
        expect(await s.eraseParticipant('p1')).toEqual({ inputs: 2 });
        expect(await s.listInputs('a', 0, 100, 10)).toEqual([]);
      });

      it('[S6][S15] the noise seed survives a reopen', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.setSpaceSecret('a', 'ef'.repeat(32));
        await s.close();
        s = await reopen();
        expect(await s.getSpaceSecret('a')).toBe('ef'.repeat(32));
      });

      it('[S6][S10] groups, participants’ groups and links survive a reopen', async () => {
        await s.createSpace({ ...space('a', 'CODEA'), groups: ['east'] });
        await s.createSpace(space('b', 'CODEB'));
        await s.createParticipant({ ...participant('p1', 'a'), group: 'east' });
        await s.setSpaceLink('a', 'b', true, 3);
        await s.close();
        s = await reopen();
        expect((await s.getSpace('a'))?.groups).toEqual(['east']);
        expect((await s.getParticipantByTokenHash('tok-p1'))?.group).toBe('east');
        expect(await s.listSpaceLinks('a')).toEqual(['b']);
      });

      it('[S6][S12] governance survives a reopen', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.putGovernance('a', '{"v":1,"council":null}');
        await s.close();
        s = await reopen();
        expect(await s.getGovernance('a')).toBe('{"v":1,"council":null}');
      });

      it('[S6][ST13] stories and their settings survive a reopen; an erased one stays erased', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.createParticipant(participant('p1', 'a'));
        await s.createStory(story('kept', { status: 'shown' }));
        await s.createStory(story('gone'));
        await s.setStorySettings('a', { enabled: true, moderation: 'post' }, 5);
        await s.eraseStory('gone');
        await s.close();
        s = await reopen();
        expect(await s.listStories('a')).toEqual([story('kept', { status: 'shown' })]);
        expect(await s.getStorySettings('a')).toEqual({ enabled: true, moderation: 'post' });
      });

      it('[S6] keeps everything acknowledged across a reopen', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.createParticipant(participant('p1', 'a'));
        await s.appendInputs([{ spaceId: 'a', participantId: 'p1', seq: 7, affect: affect(0.4, 10), exposed: false, shown: null }]);
        await s.close();
        s = await reopen();
        expect((await s.getParticipantByTokenHash('tok-p1'))?.lastSeq).toBe(7);
        expect(await s.listInputs('a', 0, 100, 10)).toHaveLength(1);
      });

      it('[S6] keeps events, numbered inputs and lastEventN across a reopen', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.createParticipant(participant('p1', 'a'));
        await s.appendEvents([event(1, 'started'), event(2, 'joined', 'a', 'p1', '{"resumed":false}')]);
        await s.appendInputs([input('p1', 1, 10, 3)]);
        // Not awaited: close commits it first.
        const last = s.appendEvents([event(4, 'left', 'a', 'p1')]);
        await s.close();
        await last;
        s = await reopen();
        expect(await s.lastEventN('a')).toBe(4);
        expect(await s.listEvents('a', 0, 10)).toEqual([event(1, 'started'), event(2, 'joined', 'a', 'p1', '{"resumed":false}'), event(4, 'left', 'a', 'p1')]);
        expect(await s.listInputsByN('a', 0, 10)).toEqual([input('p1', 1, 10, 3)]);
        // The numbering continues and still refuses a duplicate after the reopen.
        expect(await fulfilled([s.appendEvents([event(4)]), s.appendEvents([event(5)])])).toEqual([false, true]);
      });
    }
  });
}
