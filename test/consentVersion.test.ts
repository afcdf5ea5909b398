/**
 * A changed consent text asks again (SPEC V1, E1 `CONSENT_CHANGED`), over real WebSockets: a
 * participant whose stored consent is to an older text cannot resume (or a page that read an
 * older text join) until they agree to the current one; a resume carrying the current version
 * records the new agreement. The project's own client stops with that reason instead of retrying.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AttuneClient, type ClientState, sessionKeys } from '../src/client/attuneClient.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { hashToken } from '../src/space/tokens.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';
import { connect, isType, type TestClient } from './support/wsClient.ts';

const OLD = 'ab'.repeat(32);
let server: RunningServer;
let storage: MemoryStorage;
let wsUrl: string;
let code: string;
let spaceId: string;
const clients: TestClient[] = [];

beforeEach(async () => {
  storage = new MemoryStorage();
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 }, { storage });
  wsUrl = `${server.url.replace('http', 'ws')}/ws`;
  const made = await server.host.createSpace({ name: 'consent room' });
  if (!made.ok) throw new Error(made.message);
  code = made.value.space.code;
  spaceId = made.value.space.id;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

async function client(): Promise<TestClient> {
  const c = await connect(wsUrl);
  clients.push(c);
  return c;
}

/** Joins, then pretends the text they agreed to was an older one (as after a change of the text). */
async function joinedUnderOldText(): Promise<{ token: string; participant: string }> {
  const c = await client();
  c.send({ t: 'join', code, consent: true });
  const w = await c.next(isType('welcome'));
  c.close();
  await server.host.drain();
  const participant = String(w.participant);
  await storage.recordConsent({ participantId: participant, at: 1, hash: OLD, purposes: ['pulse'] });
  return { token: String(w.token), participant };
}

describe('consent version (V1)', () => {
  it('[V1][E1] a resume under an older consent text is refused with CONSENT_CHANGED, naming both versions; the socket stays open', async () => {
    const { token } = await joinedUnderOldText();
    const c = await client();
    c.send({ t: 'resume', token });
    const e = await c.next(isType('error'));
    expect(e.code).toBe('CONSENT_CHANGED');
    expect(String(e.message)).toContain(OLD.slice(0, 12));
    expect(String(e.message)).toContain(server.host.consentVersion.slice(0, 12));
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    // A stale version sent by the page is refused the same way.
    c.send({ t: 'resume', token, consentVersion: OLD });
    expect((await c.next(isType('error'))).code).toBe('CONSENT_CHANGED');
  });

  it('[V1] a resume carrying the current version records the new agreement and re-enters', async () => {
    const { token, participant } = await joinedUnderOldText();
    const c = await client();
    c.send({ t: 'resume', token, consentVersion: server.host.consentVersion });
    const w = await c.next(isType('welcome'));
    expect(w.participant).toBe(participant);
    expect((await storage.listConsents(participant)).map((x) => x.hash)).toEqual([server.host.consentVersion, OLD, server.host.consentVersion]);
    // From now on a plain resume passes.
    c.close();
    await server.host.drain();
    const again = await client();
    again.send({ t: 'resume', token });
    expect((await again.next(isType('welcome'))).participant).toBe(participant);
  });

  it('[V1][ST2a] only the pulse consent counts: a story consent recorded since (its own text) does not block a resume', async () => {
    const c = await client();
    c.send({ t: 'join', code, consent: true });
    const w = await c.next(isType('welcome'));
    c.close();
    await server.host.drain();
    await storage.recordConsent({ participantId: String(w.participant), at: 2, hash: server.host.storyConsentVersion, purposes: ['stories'] });
    const again = await client();
    again.send({ t: 'resume', token: String(w.token) });
    expect((await again.next(isType('welcome'))).participant).toBe(w.participant);
  });

  it('[V1] a session from before consent records (none on record) is asked again like a changed text; agreeing records it and re-enters', async () => {
    // Stored as a version before V1 left it: a participant row, no consent record.
    const token = 'pre-consent-token';
    await storage.createParticipant({ id: 'old-p', spaceId, tokenHash: hashToken(token), joinedAt: 1, lastSeq: 0, latest: null });
    const c = await client();
    c.send({ t: 'resume', token });
    const e = await c.next(isType('error'));
    expect(e.code).toBe('CONSENT_CHANGED');
    expect(String(e.message)).toContain('no consent of yours is on record');
    expect(String(e.message)).toContain(server.host.consentVersion.slice(0, 12));
    expect(await storage.listConsents('old-p')).toEqual([]);
    c.send({ t: 'resume', token, consentVersion: server.host.consentVersion });
    expect((await c.next(isType('welcome'))).participant).toBe('old-p');
    expect((await storage.listConsents('old-p')).map((x) => [x.hash, x.purposes])).toEqual([[server.host.consentVersion, ['pulse']]]);
    c.close();
    await server.host.drain();
    const again = await client();
    again.send({ t: 'resume', token });
    expect((await again.next(isType('welcome'))).participant).toBe('old-p');
  });

  it('[V1] a join from a page that read an older text is refused; with the current version it joins and records it', async () => {
    const c = await client();
    c.send({ t: 'join', code, consent: true, consentVersion: OLD });
    expect((await c.next(isType('error'))).code).toBe('CONSENT_CHANGED');
    c.send({ t: 'join', code, consent: true, consentVersion: server.host.consentVersion });
    const w = await c.next(isType('welcome'));
    await server.host.drain();
    expect((await storage.listConsents(String(w.participant))).map((x) => x.hash)).toEqual([server.host.consentVersion]);
  });

  it('[V1] the protocol client stops with CONSENT_CHANGED instead of retrying', async () => {
    const { token } = await joinedUnderOldText();
    const store = new Map<string, string>();
    const client = new AttuneClient({
      url: wsUrl,
      code,
      role: 'participant',
      consent: true,
      consentVersion: OLD,
      connect: (u) => new WebSocket(u) as never,
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
    });
    // The session of this device: its token, as a page keeps it.
    store.set(sessionKeys(code).token, token);
    const stopped = new Promise<{ state: ClientState; reason?: string }>((resolve) => client.on('status', (s) => s.state === 'stopped' && resolve(s)));
    client.start();
    expect(await stopped).toMatchObject({ state: 'stopped', reason: 'CONSENT_CHANGED' });
  });
});
