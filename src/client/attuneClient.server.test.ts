/**
 * The protocol client against a real attune server on an ephemeral loopback port (SPEC §W):
 * join, inputs and acks, displays, a restart with inputs queued while the server is away, a
 * stale session, and the fatal ends. Waits on events, never on the clock.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, createServer } from '../server/createServer.ts';
import { joinSpace, type RecordedClient } from '../../test/support/wsClient.ts';
import { memoryStorage } from './attuneClient.ts';
import { ManualClock } from './memorySocket.ts';

let server: RunningServer | null = null;
const clients: RecordedClient[] = [];
const fast = { backoff: { initialMs: 20, maxMs: 200 } } as const;

afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
  await server?.close();
  server = null;
});

const wsUrl = (s: RunningServer) => `${s.url.replace('http', 'ws')}/ws`;
async function createSpace(s: RunningServer, body: Record<string, unknown> = { name: 'client test' }): Promise<string> {
  const r = await fetch(`${s.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return ((await r.json()) as { code: string }).code;
}
function track(c: RecordedClient): RecordedClient {
  clients.push(c);
  return c;
}

describe('AttuneClient against a real server', () => {
  it('[W3][W5][P6] a participant joins and is acknowledged; a display sees the point in its pulses', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 });
    const code = await createSpace(server);
    const display = track(joinSpace(wsUrl(server), code.toLowerCase(), { role: 'display' }));
    expect((await display.next('welcome')).role).toBe('display');
    const p = track(joinSpace(wsUrl(server), code));
    const w = await p.next('welcome');
    expect(w.token?.length).toBeGreaterThan(20);
    expect(p.client.send({ valence: 0.5, arousal: -0.25 })).toEqual({ ok: true, value: 1 });
    expect(await p.next('ack')).toMatchObject({ seq: 1, affect: { valence: 0.5, arousal: -0.25 } });
    expect(p.client.pending).toEqual([]);
    const seen = await display.next('pulse', (x) => x.count === 1);
    expect(seen.mean).toEqual({ valence: 0.5, arousal: -0.25 });
    expect(seen.space).toBe(code);
  });

  it('[W4][W5][W12] across a restart: backs off, resumes by token, and re-sends what was queued meanwhile', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'attune-client-')), 'attune.db');
    server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 1 });
    const port = server.port;
    const code = await createSpace(server);
    const storage = memoryStorage();
    // The back-off runs on a hand-driven clock: the client cannot reconnect until the test says
    // so, so the second input is certainly queued while the server is away.
    const clock = new ManualClock(Date.now());
    const p = track(joinSpace(wsUrl(server), code, { storage, clock }));
    const first = await p.next('welcome');
    p.client.send({ valence: -0.4, arousal: 0.6 });
    await p.next('ack', (a) => a.seq === 1);
    await server.close();
    server = null;
    const waiting = await p.next('status', (s) => s.state === 'waiting');
    expect(waiting.delayMs).toBeGreaterThanOrEqual(250);
    expect(waiting.delayMs).toBeLessThanOrEqual(500);
    p.client.send({ valence: 0.7, arousal: 0.7 }); // while the server is away
    expect(p.client.pending).toEqual([2]);
    server = await createServer({ port, dbPath, webRoot: null, minCohort: 1 });
    clock.advance(500);
    const again = await p.next('welcome', () => true, 15_000);
    expect(again.participant).toBe(first.participant);
    expect(again.lastSeq).toBe(1);
    expect(again.you).toMatchObject({ valence: -0.4, arousal: 0.6 });
    expect(await p.next('ack', (a) => a.seq === 2)).toMatchObject({ affect: { valence: 0.7, arousal: 0.7 } });
    expect(p.client.pending).toEqual([]);
    const pulse = (await (await fetch(`${server.url}/api/spaces/${code}/pulse`)).json()) as { count: number };
    expect(pulse.count).toBe(1);
  }, 30_000);

  it('[W4] a resume token from another server is forgotten and the participant joins afresh', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 });
    const code = await createSpace(server);
    const storage = memoryStorage();
    storage.setItem(`attune:${code}:token`, 'a-token-this-server-never-issued');
    const p = track(joinSpace(wsUrl(server), code, { ...fast, storage }));
    const w = await p.next('welcome');
    expect(w.token).toBeDefined();
    expect(storage.getItem(`attune:${code}:token`)).toBe(w.token);
  });

  it('[E1][W3][W10][W11] stops for good on a wrong code, a full space and a closed space', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 });
    const wrong = track(joinSpace(wsUrl(server), 'NOSUCH99', { ...fast, role: 'display' }));
    expect(await wrong.next('status', (s) => s.state === 'stopped')).toMatchObject({ reason: 'NOT_FOUND', closeCode: 4404 });

    const small = await createSpace(server, { name: 'small', capacity: 1 });
    const one = track(joinSpace(wsUrl(server), small, fast));
    await one.next('welcome');
    const two = track(joinSpace(wsUrl(server), small, fast));
    expect(await two.next('full')).toMatchObject({ capacity: 1 });
    expect(await two.next('status', (s) => s.state === 'stopped')).toMatchObject({ reason: 'SPACE_FULL', closeCode: 4409 });

    const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'closing' }) });
    const { code, stewardToken } = (await r.json()) as { code: string; stewardToken: string };
    const p = track(joinSpace(wsUrl(server), code, fast));
    await p.next('welcome');
    await fetch(`${server.url}/api/spaces/${code}/close`, { method: 'POST', headers: { authorization: `Bearer ${stewardToken}` } });
    expect(await p.next('bye')).toMatchObject({ reason: 'space-closed' });
    expect(await p.next('status', (s) => s.state === 'stopped')).toMatchObject({ reason: 'space-closed' });
  });

  it('stopping a client whose socket is still connecting is quiet (ws emits an error there)', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 });
    const code = await createSpace(server);
    const early = joinSpace(wsUrl(server), code);
    expect(early.client.state).toBe('connecting');
    early.stop();
    expect(early.client.state).toBe('stopped');
    // The aborted handshake settles while this one completes; an unhandled 'error' would fail the run.
    const p = track(joinSpace(wsUrl(server), code));
    await p.next('welcome');
  });

  it('[W7] leave removes the point at once', async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 });
    const code = await createSpace(server);
    const display = track(joinSpace(wsUrl(server), code, { role: 'display' }));
    const p = track(joinSpace(wsUrl(server), code));
    await p.next('welcome');
    p.client.send({ valence: 0.1, arousal: 0.1 });
    await p.next('ack');
    await display.next('pulse', (x) => x.count === 1);
    p.client.leave();
    await display.next('pulse', (x) => x.count === 0);
  });
});
