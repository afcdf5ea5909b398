/**
 * The Storage contract (SPEC.md §S), run against every adapter by storage.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ParticipantRecord, SpaceRecord, Storage } from '../../src/storage/port.ts';

/** A factory for a fresh, empty store, and how to reopen it (null when it does not persist). */
export interface StorageHarness {
  readonly name: string;
  create(): Promise<Storage>;
  reopen: (() => Promise<Storage>) | null;
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

    if (h.reopen) {
      const reopen = h.reopen;
      it('[S6] keeps everything acknowledged across a reopen', async () => {
        await s.createSpace(space('a', 'CODEA'));
        await s.createParticipant(participant('p1', 'a'));
        await s.appendInputs([{ spaceId: 'a', participantId: 'p1', seq: 7, affect: affect(0.4, 10), exposed: false, shown: null }]);
        await s.close();
        s = await reopen();
        expect((await s.getParticipantByTokenHash('tok-p1'))?.lastSeq).toBe(7);
        expect(await s.listInputs('a', 0, 100, 10)).toHaveLength(1);
      });
    }
  });
}
