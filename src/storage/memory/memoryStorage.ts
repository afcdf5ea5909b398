/**
 * In-memory Storage: for tests and ephemeral demos. Same contract as SQLite
 * (test/contracts/storage.contract.ts), nothing survives the process.
 */
import type { InputRecord, ParticipantRecord, PulsePoint, SpaceRecord, Storage } from '../port.ts';

/** A Storage that keeps everything in maps. */
export class MemoryStorage implements Storage {
  private readonly spaces = new Map<string, SpaceRecord>();
  private readonly codes = new Map<string, string>();
  private readonly participants = new Map<string, ParticipantRecord>();
  private readonly byToken = new Map<string, string>();
  private readonly inputs = new Map<string, InputRecord[]>();
  private readonly pulses = new Map<string, PulsePoint[]>();
  private closed = false;

  private check(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  async createSpace(space: SpaceRecord): Promise<boolean> {
    this.check();
    if (this.codes.has(space.code) || this.spaces.has(space.id)) return false;
    this.spaces.set(space.id, space);
    this.codes.set(space.code, space.id);
    return true;
  }

  async getSpaceByCode(code: string): Promise<SpaceRecord | null> {
    this.check();
    const id = this.codes.get(code);
    return id === undefined ? null : (this.spaces.get(id) ?? null);
  }

  async getSpace(id: string): Promise<SpaceRecord | null> {
    this.check();
    return this.spaces.get(id) ?? null;
  }

  async listSpaces(): Promise<SpaceRecord[]> {
    this.check();
    return [...this.spaces.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async closeSpace(id: string, at: number): Promise<void> {
    this.check();
    const s = this.spaces.get(id);
    if (s && s.status === 'open') this.spaces.set(id, { ...s, status: 'closed', closedAt: at });
  }

  async updateStewardTokenHash(id: string, hash: string): Promise<void> {
    this.check();
    const s = this.spaces.get(id);
    if (s) this.spaces.set(id, { ...s, stewardTokenHash: hash });
  }

  async createParticipant(p: ParticipantRecord): Promise<void> {
    this.check();
    if (this.participants.has(p.id) || this.byToken.has(p.tokenHash)) throw new Error('participant exists');
    this.participants.set(p.id, p);
    this.byToken.set(p.tokenHash, p.id);
  }

  async getParticipantByTokenHash(tokenHash: string): Promise<ParticipantRecord | null> {
    this.check();
    const id = this.byToken.get(tokenHash);
    return id === undefined ? null : (this.participants.get(id) ?? null);
  }

  async listActiveParticipants(spaceId: string, since: number): Promise<ParticipantRecord[]> {
    this.check();
    return [...this.participants.values()].filter((p) => p.spaceId === spaceId && p.latest !== null && p.latest.at >= since);
  }

  async countParticipants(spaceId: string): Promise<number> {
    this.check();
    let n = 0;
    for (const p of this.participants.values()) if (p.spaceId === spaceId) n++;
    return n;
  }

  async appendInputs(inputs: readonly InputRecord[]): Promise<void> {
    this.check();
    for (const i of inputs) {
      const p = this.participants.get(i.participantId);
      if (!p || p.spaceId !== i.spaceId) throw new Error(`unknown participant ${i.participantId}`);
      if (i.seq <= p.lastSeq) continue;
      this.participants.set(p.id, { ...p, lastSeq: i.seq, latest: i.affect });
      let list = this.inputs.get(i.spaceId);
      if (!list) {
        list = [];
        this.inputs.set(i.spaceId, list);
      }
      list.push(i);
    }
  }

  async listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]> {
    this.check();
    return (this.inputs.get(spaceId) ?? []).filter((i) => i.affect.at >= from && i.affect.at < to).slice(0, limit);
  }

  async clearLatest(participantId: string): Promise<void> {
    this.check();
    const p = this.participants.get(participantId);
    if (p) this.participants.set(p.id, { ...p, latest: null });
  }

  async appendPulsePoints(points: readonly PulsePoint[]): Promise<void> {
    this.check();
    for (const pt of points) {
      let list = this.pulses.get(pt.spaceId);
      if (!list) {
        list = [];
        this.pulses.set(pt.spaceId, list);
      }
      list.push(pt);
    }
  }

  async listPulsePoints(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]> {
    this.check();
    return (this.pulses.get(spaceId) ?? []).filter((p) => p.at >= from && p.at < to).slice(0, limit);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
