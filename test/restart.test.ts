/**
 * Restart recovery (SPEC S6): a server restarted on the same SQLite file resumes every open
 * space with its participants' unexpired points, and participants resume by token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, createServer } from '../src/server/createServer.ts';
import { connect, isType, type TestClient } from './support/wsClient.ts';

let server: RunningServer | null = null;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

describe('restart', () => {
  it('[S6] resumes spaces, points and sessions from SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-restart-'));
    const dbPath = join(dir, 'attune.db');
    server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 1 });
    const port = server.port;
    const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'persistent' }) });
    const { code, stewardToken } = (await r.json()) as { code: string; stewardToken: string };
    const c = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(c);
    c.send({ t: 'join', code, consent: true });
    const token = String((await c.next(isType('welcome'))).token);
    c.send({ t: 'input', seq: 1, valence: -0.4, arousal: 0.6 });
    await c.next(isType('ack'));
    await server.close();
    const bye = c.messages.find(isType('bye'));
    expect(bye).toMatchObject({ reason: 'shutdown' });

    server = await createServer({ port, dbPath, webRoot: null, minCohort: 1 });
    const pulse = (await (await fetch(`${server.url}/api/spaces/${code}/pulse`)).json()) as { count: number; mean: { valence: number } };
    expect(pulse.count).toBe(1);
    expect(pulse.mean.valence).toBeCloseTo(-0.4);
    const d = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(d);
    d.send({ t: 'resume', token });
    const w = await d.next(isType('welcome'));
    expect(w.you).toMatchObject({ valence: -0.4, arousal: 0.6 });
    expect(w.lastSeq).toBe(1);
    d.send({ t: 'input', seq: 2, valence: 0.5, arousal: 0.5 });
    expect(await d.next(isType('ack'))).toMatchObject({ seq: 2 });
    // The steward token still works after the restart.
    const close = await fetch(`${server.url}/api/spaces/${code}/close`, { method: 'POST', headers: { authorization: `Bearer ${stewardToken}` } });
    expect(close.status).toBe(200);
    // The admin token persists beside the database.
    const list = await fetch(`${server.url}/api/spaces`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(list.status).toBe(200);
  });
});
